"""``sora2_characters._config``: the key, base URLs, timeouts and defaults,
resolved from arguments and the environment."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx
import pytest
import respx

import sora2_characters as sc
from contract_tests.support import (
    CREATE_URL,
    CREDITS_URL,
    KEY,
    VIDEO_MP4,
    VIDEO_URL,
    make_client,
    ok,
)


@pytest.mark.parametrize("raw", [f"  {KEY}\n", f"\t{KEY}\r\n", f"{KEY} "])
def test_surrounding_whitespace_in_the_key_is_stripped(raw: str) -> None:
    """A key pasted with a newline would make httpx raise "Illegal header value"; we strip it."""
    with respx.mock:
        route = respx.get(CREDITS_URL).mock(return_value=ok(1))
        with sc.Client(raw) as client:
            client.get_credits()
    assert route.calls[0].request.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("raw", ["", "   ", "\n", "sk one", "sk\none", "ключ"])
def test_an_empty_or_unsendable_key_names_api_key(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APIKLEY_API_KEY", raw)
    makers: list[Callable[[], object]] = [lambda: sc.Client(raw), sc.Client]
    for make in makers:
        with pytest.raises(sc.InvalidInputError) as caught:
            make()
        assert caught.value.field == "api_key"
        if raw.strip():
            assert raw not in str(caught.value)


def test_a_base_url_with_a_path_and_trailing_slash_is_kept() -> None:
    with respx.mock:
        credits = respx.get("https://proxy.example/apikley/api/v1/chat/credit").mock(return_value=ok(5))
        upload = respx.post("https://proxy.example/up/api/file-stream-upload").mock(
            return_value=httpx.Response(
                200, json={"success": True, "code": 200, "msg": "ok", "data": {"downloadUrl": "https://x/y"}}
            )
        )
        client = make_client(
            base_url="https://proxy.example/apikley/", upload_base_url="https://proxy.example/up///"
        )
        assert client.base_url == "https://proxy.example/apikley"
        assert client.get_credits() == 5.0
        client.upload_video(VIDEO_MP4)
    assert credits.call_count == 1
    assert upload.call_count == 1


def test_default_timeouts_are_explicit() -> None:
    with respx.mock:
        route = respx.get(CREDITS_URL).mock(return_value=ok(1))
        make_client().get_credits()
    timeout = route.calls[0].request.extensions["timeout"]
    assert timeout == {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}


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
