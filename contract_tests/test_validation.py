"""Local validation before any request: URLs, text limits, configuration, the key's safety."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sora2_characters as sc
from contract_tests.support import CREATE_URL, KEY, VIDEO_URL, make_client, ok


@pytest.mark.parametrize(
    "url",
    [
        "",
        "files/a.mp4",
        "ftp://host/a.mp4",
        "https://",
        "http:///a.mp4",
        " https://h/a.mp4",
        "https://h/a b.mp4",
        "javascript:alert(1)",
        "https://h:99999/a.mp4",
        "file:///etc/passwd",
    ],
)
def test_bad_video_urls_are_refused_before_any_request(url: str) -> None:
    with respx.mock:
        route = respx.post(CREATE_URL)
        with pytest.raises(sc.InvalidInputError) as caught:
            make_client().create_character(url)
    assert caught.value.field == "video_url"
    assert route.call_count == 0


def test_bad_callback_url_names_its_field() -> None:
    with respx.mock, pytest.raises(sc.InvalidInputError, match="callback_url"):
        make_client().create_character(VIDEO_URL, callback_url="/relative")


@pytest.mark.parametrize("field", ["character_prompt", "safety_instruction"])
def test_text_limit_counts_code_points(field: str) -> None:
    astral = "\U0001f600" * 5000  # 5000 code points, 10000 UTF-16 units, 20000 bytes
    with respx.mock:
        route = respx.post(CREATE_URL).mock(return_value=ok({"taskId": "t"}))
        make_client().create_character(VIDEO_URL, **{field: astral})
        body = json.loads(route.calls[0].request.content)
        assert body["input"][field] == astral
        with pytest.raises(sc.InvalidInputError) as caught:
            make_client().create_character(VIDEO_URL, **{field: astral + "x"})
    assert caught.value.field == field
    assert "5000" in str(caught.value)
    assert route.call_count == 1


def test_request_body_follows_the_spec() -> None:
    with respx.mock:
        route = respx.post(CREATE_URL).mock(return_value=ok({"taskId": "t"}))
        make_client().create_character(
            VIDEO_URL, character_prompt="p", safety_instruction="s", callback_url="https://me.example/cb"
        )
    request = route.calls[0].request
    assert json.loads(request.content) == {
        "model": "sora-2-characters",
        "callBackUrl": "https://me.example/cb",
        "input": {"character_file_url": [VIDEO_URL], "character_prompt": "p", "safety_instruction": "s"},
    }
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"


# One client for every example: building an httpx client costs milliseconds (its SSL context).
_SHARED = make_client()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    video_url=st.one_of(
        st.text(max_size=60), st.from_regex(r"https?://[a-z0-9.\-]{1,20}(/[^\s]{0,20})?", fullmatch=True)
    ),
    prompt=st.none() | st.text(max_size=30) | st.text(min_size=4990, max_size=5010, alphabet="ab\U0001f600"),
    safety=st.none() | st.text(max_size=30) | st.integers(),
    callback=st.none() | st.text(max_size=40) | st.just("https://cb.example/x"),
)
def test_arbitrary_inputs_pass_or_raise_invalid_input(
    video_url: str, prompt: Any, safety: Any, callback: Any
) -> None:
    field = None
    created = None
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=ok({"taskId": "task_ok"}))
        try:
            created = _SHARED.create_character(
                video_url, character_prompt=prompt, safety_instruction=safety, callback_url=callback
            )
        except sc.InvalidInputError as exc:
            field = exc.field
    if field is not None:
        assert field in {"video_url", "character_prompt", "safety_instruction", "callback_url"}
    else:
        assert created is not None
        assert created.task_id == "task_ok"


def test_missing_key_is_a_clear_error_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APIKLEY_API_KEY", raising=False)
    with pytest.raises(sc.InvalidInputError, match="APIKLEY_API_KEY"):
        sc.Client()
    with pytest.raises(sc.InvalidInputError, match="api_key"):
        sc.AsyncClient(api_key="  ")


def test_configuration_comes_from_the_environment_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIKLEY_API_KEY", KEY)
    monkeypatch.setenv("APIKLEY_BASE_URL", "https://jobs.example/")
    monkeypatch.setenv("APIKLEY_UPLOAD_BASE_URL", "https://files.example/up")
    client = sc.Client()
    assert client.base_url == "https://jobs.example"
    assert client.upload_base_url == "https://files.example/up"
    explicit = sc.Client(base_url="https://other.example", upload_base_url="https://up.example")
    assert explicit.base_url == "https://other.example"
    client.close()
    explicit.close()


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APIKLEY_BASE_URL", "APIKLEY_UPLOAD_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with sc.Client(KEY) as client:
        assert client.base_url == "https://api.apikley.ru"
        assert client.upload_base_url == "https://api.apikley.ru/file-upload"


@pytest.mark.parametrize("url", ["http://api.example.com", "http://10.0.0.5:8080"])
def test_plain_http_to_a_remote_host_needs_an_explicit_opt_in(url: str) -> None:
    with pytest.raises(sc.InvalidInputError, match="allow_insecure_http"):
        sc.Client(KEY, base_url=url)
    with pytest.raises(sc.InvalidInputError, match="upload_base_url"):
        sc.Client(KEY, upload_base_url=url)
    sc.Client(KEY, base_url=url, upload_base_url=url, allow_insecure_http=True).close()


@pytest.mark.parametrize(
    "url", ["http://localhost:4010", "http://127.0.0.1:4010", "http://127.8.9.10", "http://[::1]:4010"]
)
def test_plain_http_to_loopback_is_always_allowed(url: str) -> None:
    sc.Client(KEY, base_url=url, upload_base_url=url).close()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timeout": None}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": httpx.Timeout(None)}, "timeout"),
        ({"upload_timeout": -1}, "upload_timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"max_tasks_per_second": float("inf")}, "max_tasks_per_second"),
        ({"api_key": "bad key\n"}, "api_key"),
        ({"http_client": httpx.AsyncClient()}, "http_client"),
    ],
)
def test_bad_options_are_refused(kwargs: dict[str, Any], field: str) -> None:
    kwargs.setdefault("api_key", KEY)
    with pytest.raises(sc.InvalidInputError) as caught:
        sc.Client(**kwargs)
    assert caught.value.field == field
    assert "bad key" not in str(caught.value)


def test_the_key_never_shows_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sora2_characters")
    with respx.mock:
        respx.post(CREATE_URL).mock(side_effect=[ok({"taskId": "t"})])
        client = make_client()
        client.create_character(VIDEO_URL)
    assert KEY not in repr(client)
    assert KEY not in repr(vars(client))
    assert KEY not in repr(client._core.headers)
    assert KEY not in repr(client._core.config)
    assert caplog.records
    assert all(KEY not in record.getMessage() for record in caplog.records)
