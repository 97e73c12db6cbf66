"""``sora2_characters._validation``: URLs, text limits, options, and one duration rule for client and fake."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sora2_characters as sc
from contract_tests.support import (
    CREATE_URL,
    KEY,
    QUERY_URL,
    VIDEO_URL,
    make_client,
    ok,
    task,
)
from sora2_characters._fake.videos import video_problem
from sora2_characters._validation import (
    _CONTROL,
    _SPACE_OR_CONTROL,
    MAX_VIDEO_BYTES,
    _has_control,
    _has_space_or_control,
    check_file_name,
    check_task_id,
    check_url,
    duration_in_range,
)


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


@pytest.mark.parametrize(
    ("seconds", "ok_"), [(0.94, False), (0.96, True), (1.0, True), (4.0, True), (4.04, True), (4.06, False)]
)
def test_the_client_and_the_fake_share_the_duration_rule(seconds: float, ok_: bool) -> None:
    assert duration_in_range(seconds) is ok_


def test_the_fake_refuses_non_video_bytes_and_oversized_content() -> None:
    assert video_problem(b"definitely not a video" * 10) is not None
    problem = video_problem(b"\0" * (MAX_VIDEO_BYTES + 1))
    assert problem is not None
    assert "10 MB" in problem


# -- the per-character rules, checked with one compiled search (issue 12: per-call overhead) -------

_EVERY_CHARACTER = "".join(map(chr, range(0x110000)))  # lone surrogates included


def _has_control_reference(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def _has_space_or_control_reference(text: str) -> bool:
    return any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text)


def test_the_compiled_searches_match_the_per_character_rules_on_every_code_point() -> None:
    control = {match.group() for match in _CONTROL.finditer(_EVERY_CHARACTER)}
    assert control == {chr(code) for code in [*range(32), 127]}
    refused = {match.group() for match in _SPACE_OR_CONTROL.finditer(_EVERY_CHARACTER)}
    assert all(ch.isspace() or ch in control for ch in refused)
    # str.split() splits on exactly the str.isspace() characters: every one of them is refused.
    spaces = len(_EVERY_CHARACTER) - len("".join(_EVERY_CHARACTER.split()))
    assert len(refused) == spaces + len(control - {ch for ch in control if ch.isspace()})


_ODD_TEXT = st.text(
    alphabet=st.characters()
    | st.sampled_from(["\x00", "\x1f", "\x7f", "\x85", "\xa0", "\u2003", "\u3000", "\ud800", " ", "\t"]),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(text=_ODD_TEXT)
def test_task_ids_and_urls_are_refused_exactly_as_the_per_character_rules_say(text: str) -> None:
    assert _has_control(text) is _has_control_reference(text)
    assert _has_space_or_control(text) is _has_space_or_control_reference(text)
    task_id = f"task_{text}"
    unsendable = _has_control_reference(task_id) or any("\ud800" <= ch <= "\udfff" for ch in task_id)
    if unsendable:
        with pytest.raises(sc.InvalidInputError) as caught:
            check_task_id(task_id)
        assert caught.value.field == "task_id"
    else:
        assert check_task_id(task_id) == task_id
    url = f"https://h.example/{text}"
    if _has_space_or_control_reference(url):
        with pytest.raises(sc.InvalidInputError, match="whitespace or control"):
            check_url("video_url", url)


@pytest.mark.parametrize("task_id", ["task\n1", "task\x001", "task\x7f", "\ttask", "task\x1b[31m"])
def test_a_task_id_with_a_control_character_is_refused_before_any_request(task_id: str) -> None:
    with respx.mock:
        route = respx.get(QUERY_URL)
        with pytest.raises(sc.InvalidInputError, match="control characters") as caught:
            make_client().get_task(task_id)
    assert caught.value.field == "task_id"
    assert route.call_count == 0


@pytest.mark.parametrize("task_id", ["task 1", "задача_1", "task\xa01", "task_\U0001f600"])
def test_a_task_id_with_printable_non_ascii_or_a_space_is_sent(task_id: str) -> None:
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=ok(task("success", task_id=task_id)))
        assert make_client().get_task(task_id).task_id == task_id
    assert route.call_count == 1


@pytest.mark.parametrize("blank", ["\xa0", "\u2003", "\u3000", "\x85", "\u2028", "\x1c"])
def test_a_url_with_unicode_whitespace_is_refused(blank: str) -> None:
    with respx.mock:
        route = respx.post(CREATE_URL)
        with pytest.raises(sc.InvalidInputError, match="whitespace or control") as caught:
            make_client().create_character(f"https://h.example/a{blank}b.mp4")
    assert caught.value.field == "video_url"
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("name", "ok_"), [("clip.mp4", True), ("clíp 1.mp4", True), ("a\x00.mp4", False), ("a\x7f", False)]
)
def test_file_names_refuse_control_characters(name: str, ok_: bool) -> None:
    if ok_:
        assert check_file_name(name) == name
    else:
        with pytest.raises(sc.InvalidInputError, match="control characters"):
            check_file_name(name)
