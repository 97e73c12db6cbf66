"""Edge cases found in review: the key's whitespace, base URLs with a path, odd task ids and
envelopes, long messages, tracebacks, callbacks that raise, a poll interval longer than the wait,
unbounded streams, event loops, and the decoding of every documented form of a task record."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import traceback
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx

import sora2_characters as sc
from contract_tests.client_support import (
    CREATE_URL,
    CREDITS_URL,
    KEY,
    QUERY_URL,
    UPLOAD_URL,
    VIDEO_MP4,
    VIDEO_URL,
    FakeTime,
    error,
    make_client,
    ok,
    task,
)
from sora2_characters._fake.videos import video_problem
from sora2_characters._models import TaskInfo
from sora2_characters._validation import MAX_VIDEO_BYTES, duration_in_range
from sora2_characters.testing import FakeApikley

# -- configuration --------------------------------------------------------------------------------


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


@pytest.mark.parametrize("task_id", ["a b", "é/ü?&x=1#frag", "task\u200b_1", "t+1%20"])
def test_task_ids_are_url_encoded(task_id: str) -> None:
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=ok(task("waiting", task_id=task_id)))
        info = make_client().get_task(task_id)
    request = route.calls[0].request
    assert request.url.path == "/api/v1/jobs/recordInfo"
    assert request.url.params["taskId"] == task_id
    assert info.task_id == task_id


# -- envelopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["200", 200.0, " 200"])
def test_success_code_as_a_string_or_float(code: Any) -> None:
    body = {"code": code, "msg": "success", "data": {"taskId": "task_s"}}
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=httpx.Response(200, json=body))
        if code == " 200":  # not a number as JSON sends it: not the envelope
            with pytest.raises(sc.MalformedResponseError):
                make_client().create_character(VIDEO_URL)
        else:
            assert make_client().create_character(VIDEO_URL).task_id == "task_s"


def test_msg_wins_over_message_and_empty_msg_falls_back() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(
            side_effect=[
                httpx.Response(200, json={"code": 402, "msg": "from msg", "message": "from message"}),
                httpx.Response(200, json={"code": 402, "msg": "", "message": "from message"}),
                httpx.Response(200, json={"code": 402}),
            ]
        )
        client = make_client()
        messages = []
        for _ in range(3):
            with pytest.raises(sc.InsufficientCreditsError) as caught:
                client.get_credits()
            messages.append(caught.value.message)
    assert messages[:2] == ["from msg", "from message"]
    assert "402" in messages[2]


def test_a_huge_body_gives_a_bounded_message() -> None:
    page = "x" * 900_000  # under the 1 MiB body cap
    with respx.mock:
        respx.get(CREDITS_URL).mock(return_value=httpx.Response(200, json={"code": 505, "msg": page}))
        with pytest.raises(sc.FeatureDisabledError) as caught:
            make_client().get_credits()
    assert len(str(caught.value)) < 1200
    assert "900000 characters" in caught.value.message


def test_the_key_is_absent_from_a_formatted_chained_traceback() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(side_effect=httpx.ConnectError(f"refused for {CREDITS_URL}"))
        respx.post(CREATE_URL).mock(return_value=error(401, msg="You do not have access permissions"))
        client = make_client(max_retries=1)
        for call in (lambda: client.get_task("t"), lambda: client.create_character(VIDEO_URL)):
            with pytest.raises(sc.Sora2CharactersError) as caught:
                call()
            exc = caught.value
            text = "".join(traceback.format_exception(exc))
            summary = traceback.TracebackException.from_exception(exc, capture_locals=True)
            text += "".join(summary.format())
            assert KEY not in text
            assert f"{type(exc).__qualname__}: " in text  # the error's own line is there, redacted


# -- wait -----------------------------------------------------------------------------------------


def test_a_poll_interval_longer_than_max_wait_still_meets_the_deadline() -> None:
    fake = FakeTime()
    start = fake.now
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=ok(task("generating")))
        with pytest.raises(sc.WaitTimeoutError):
            make_client(fake).wait("task_1", max_wait=5.0, poll_interval=60.0)
    assert fake.sleeps == [5.0]
    assert fake.now - start == pytest.approx(5.0)
    assert route.call_count == 2  # once at the start, once at the deadline


def test_an_on_update_that_raises_stops_the_wait_with_its_own_error() -> None:
    class StopError(Exception):
        pass

    def on_update(info: sc.TaskInfo) -> None:
        if info.state is sc.TaskState.GENERATING:
            raise StopError(info.state)

    with respx.mock:
        route = respx.get(QUERY_URL).mock(side_effect=[ok(task("waiting")), ok(task("generating"))])
        with pytest.raises(StopError):
            make_client().wait("task_1", on_update=on_update)
    assert route.call_count == 2


@pytest.mark.parametrize("bad", [-5.0, float("nan"), float("-inf"), None])
def test_create_and_wait_checks_max_wait_before_creating(bad: Any) -> None:
    with respx.mock:
        route = respx.post(CREATE_URL).mock(return_value=ok({"taskId": "t"}))
        with pytest.raises(sc.InvalidInputError, match="max_wait"):
            make_client().create_character_and_wait(VIDEO_URL, max_wait=bad)
    assert route.call_count == 0


# -- uploads --------------------------------------------------------------------------------------


def test_a_large_non_seekable_stream_is_refused_after_a_bounded_read() -> None:
    class Endless(io.RawIOBase):
        def __init__(self) -> None:
            self.served = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            view = memoryview(buffer)
            view[:] = b"\0" * len(view)
            self.served += len(view)
            return len(view)

    stream = Endless()
    with respx.mock:
        with pytest.raises(sc.InvalidInputError, match="10 MB") as caught:
            make_client().upload_video(stream)  # type: ignore[arg-type]
        assert caught.value.field == "source"
    assert MAX_VIDEO_BYTES < stream.served <= MAX_VIDEO_BYTES + 1024 * 1024


class _Trickle(io.RawIOBase):
    """An unbuffered pipe: each read returns at most 4 KiB, whatever was asked for."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._inner.read(min(len(buffer), 4096))
        memoryview(buffer)[: len(chunk)] = chunk
        return len(chunk)


def test_a_raw_stream_with_short_reads_is_uploaded_whole() -> None:
    """Was: one read() took the first 4 KiB, and the truncated clip was uploaded without a word."""
    content = VIDEO_MP4.read_bytes()
    with respx.mock:
        route = respx.post(UPLOAD_URL).mock(
            return_value=httpx.Response(
                200, json={"success": True, "code": 200, "msg": "ok", "data": {"downloadUrl": "https://x/y"}}
            )
        )
        make_client().upload_video(_Trickle(content))  # type: ignore[arg-type]
    assert content in route.calls[0].request.content


def test_a_non_blocking_stream_without_data_is_refused() -> None:
    class Dry(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> None:
            return None

    with respx.mock, pytest.raises(sc.InvalidInputError, match="non-blocking"):
        make_client().upload_video(Dry())  # type: ignore[arg-type]


# -- the async client across event loops ----------------------------------------------------------


def test_an_async_client_survives_two_event_loops() -> None:
    with FakeApikley(time_scale=0) as fake:
        client = sc.AsyncClient(fake.api_key, base_url=fake.base_url, upload_base_url=fake.upload_base_url)
        dropped = [client._http]
        assert asyncio.run(client.get_credits()) == 100.0
        assert asyncio.run(client.get_credits()) == 100.0  # was: RuntimeError "Event loop is closed"
        assert client._http is not dropped[0]
        dropped.append(client._http)

        async def twice_then_close() -> tuple[float, float]:
            one = await client.get_credits()
            pool = client._http
            two = await client.get_credits()
            assert client._http is pool  # the same loop keeps its pool
            await client.aclose()
            return one, two

        assert asyncio.run(twice_then_close()) == (100.0, 100.0)
        assert client._http not in dropped
        # Loops that ended without aclose() leave their pools' sockets behind: dropped with them.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del dropped
            gc.collect()


def test_a_callers_async_client_is_never_replaced() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: ok(2)))
    client = sc.AsyncClient(KEY, http_client=http)
    assert asyncio.run(client.get_credits()) == 2.0
    assert asyncio.run(client.get_credits()) == 2.0
    assert client._http is http
    asyncio.run(http.aclose())


# -- task records: every documented form ----------------------------------------------------------


@pytest.mark.parametrize(
    ("result_json", "expected"),
    [
        (json.dumps({"character_id": "c1"}), "c1"),
        ({"character_id": "c2"}, "c2"),
        (json.dumps({"character_id_list": "c3"}), "c3"),
        (json.dumps({"character_id_list": ["c4", "c5"]}), "c4"),
        ({"character_id_list": ["c6"]}, "c6"),
        ("", None),
        (None, None),
        ("   ", None),
        ("{broken", None),
        (json.dumps({"other": 1}), None),
        (json.dumps(["c7"]), None),
    ],
)
def test_result_json_forms(result_json: Any, expected: str | None) -> None:
    info = TaskInfo.from_data(task("success", resultJson=result_json))
    assert info.character_id == expected


@pytest.mark.parametrize(
    ("fail_code", "expected"), [("422", "422"), (422, "422"), ("", None), (None, None), (500.0, "500.0")]
)
def test_fail_code_forms(fail_code: Any, expected: str | None) -> None:
    info = TaskInfo.from_data(task("fail", failCode=fail_code, failMsg=""))
    assert info.fail_code == expected
    assert info.fail_message is None


def test_timestamps_are_timezone_aware() -> None:
    info = TaskInfo.from_data(
        task("success", completeTime=1765174290120, createTime="2025-12-08T06:11:10", updateTime=1765174285)
    )
    for stamp in (info.created_at, info.updated_at, info.completed_at):
        assert stamp is not None
        assert stamp.utcoffset() == timedelta(0)
    assert info.completed_at is not None
    assert info.completed_at.timestamp() == pytest.approx(1765174290.120)


def test_unknown_state_is_kept_and_not_terminal() -> None:
    info = TaskInfo.from_data(task("PAUSED-for-review"))
    assert info.state.value == "PAUSED-for-review"
    assert not info.state.is_known
    assert not info.is_terminal
    assert TaskInfo.from_data(task("SUCCESS")).state is sc.TaskState.SUCCESS


# -- one duration rule for the client and the fake -----------------------------------------------


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
