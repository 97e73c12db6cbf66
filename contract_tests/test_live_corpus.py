"""Every captured answer of the live service decodes as its sample's ``expect`` says.

Each sample in ``contract_tests/live/samples/`` is replayed byte for byte (status, headers, body) by
a loopback HTTP server, through the method of ``Client`` and of ``AsyncClient`` that calls its
endpoint; callbacks (requests the service sends) go through ``webhooks.parse_callback``. The test
asserts the returned value's fields, or the exception class and whether the client retried it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

import sora2_characters
from sora2_characters import AsyncClient, Client, Sora2CharactersError, TaskFailedError, TaskInfo
from sora2_characters.webhooks import parse_callback

SAMPLES_DIR = Path(__file__).resolve().parent / "live" / "samples"
SAMPLES = {
    path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(SAMPLES_DIR.glob("*.json"))
}
CLIP = Path(__file__).resolve().parent.parent / "examples" / "character.mp4"
KEY = "sk-live-corpus-0123456789"
#: Retries allowed in the replay; a sample whose expect says "retry" must use at least one.
MAX_RETRIES = 2


class _Replay(BaseHTTPRequestHandler):
    """Answers every request with the programmed sample, byte for byte, and counts the requests."""

    server: _ReplayServer

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        with self.server.lock:
            self.server.requests.append(f"{self.command} {self.path}")
        response = self.server.response
        body = response["body_text"].encode("utf-8")
        self.send_response(response["status"])
        for name, value in response["headers"].items():
            if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer  # noqa: N815 - the stdlib's handler names
    do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Replay)
        self.lock = threading.Lock()
        self.requests: list[str] = []
        self.response: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def program(self, response: dict[str, Any]) -> None:
        with self.lock:
            self.response = response
            self.requests.clear()


@pytest.fixture(scope="module")
def replay() -> Iterator[_ReplayServer]:
    server = _ReplayServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _no_sleep(seconds: float) -> None:
    return None


async def _no_async_sleep(seconds: float) -> None:
    return None


def _options(server: _ReplayServer) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "upload_base_url": server.base_url,
        "max_retries": MAX_RETRIES,
        "timeout": 10.0,
    }


def _record_task_id(sample: dict[str, Any]) -> str:
    """The id to query: the record's own, so the answer is about the task asked for."""
    try:
        data = json.loads(sample["response"]["body_text"]).get("data")
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("taskId"), str):
        return str(data["taskId"])
    return "task_live_corpus"


def _call_sync(sample: dict[str, Any], server: _ReplayServer) -> Any:
    endpoint = sample["endpoint"]
    with Client(KEY, sleep=_no_sleep, **_options(server)) as client:
        if endpoint == "createTask":
            return client.create_character("https://files.example.com/character.mp4")
        if endpoint == "recordInfo":
            if sample["expect"].get("fields", {}).get("wait_raises"):
                return client.wait(_record_task_id(sample), max_wait=5.0, poll_interval=0.01)
            return client.get_task(_record_task_id(sample))
        if endpoint == "credits":
            return client.get_credits()
        if endpoint == "upload":
            return client.upload_video(CLIP)
    raise AssertionError(f"no client method for endpoint {endpoint!r}")


async def _call_async(sample: dict[str, Any], server: _ReplayServer) -> Any:
    endpoint = sample["endpoint"]
    async with AsyncClient(KEY, sleep=_no_async_sleep, **_options(server)) as client:
        if endpoint == "createTask":
            return await client.create_character("https://files.example.com/character.mp4")
        if endpoint == "recordInfo":
            if sample["expect"].get("fields", {}).get("wait_raises"):
                return await client.wait(_record_task_id(sample), max_wait=5.0, poll_interval=0.01)
            return await client.get_task(_record_task_id(sample))
        if endpoint == "credits":
            return await client.get_credits()
        if endpoint == "upload":
            return await client.upload_video(CLIP)
    raise AssertionError(f"no client method for endpoint {endpoint!r}")


def _check_task(info: object, expect: dict[str, Any], sample: dict[str, Any]) -> None:
    assert isinstance(info, TaskInfo)
    assert info.state.value == expect["state"]
    assert info.state.is_known
    assert info.is_terminal is expect["terminal"]
    for name, wanted in expect.get("fields", {}).items():
        if name == "wait_raises":
            continue
        if name == "raw_has":
            assert wanted in info.raw
        elif name == "completed_at_ms":
            assert info.completed_at == datetime.fromtimestamp(wanted / 1000, tz=UTC)
        elif name == "result_urls":
            assert info.result_urls == tuple(wanted)
        else:
            assert getattr(info, name) == wanted, name
    # Nothing a user needs is lost: every field of the record is kept in raw, as received.
    body = (sample.get("response") or sample["request"])["body_text"]
    assert dict(info.raw) == json.loads(body)["data"]


def _check(sample: dict[str, Any], outcome: object, requests: int) -> None:
    expect = sample["expect"]
    kind = expect["outcome"]
    if kind == "error":
        assert isinstance(outcome, Sora2CharactersError), outcome
        assert type(outcome).__name__ in expect["classes"], repr(outcome)
        if "message_contains" in expect:
            assert expect["message_contains"].lower() in str(outcome).lower()
        if expect["retry"]:
            assert requests == MAX_RETRIES + 1
        else:
            assert requests == 1
        return
    assert not isinstance(outcome, BaseException), repr(outcome)
    if kind == "created":
        assert isinstance(outcome, sora2_characters.CreatedTask)
        assert outcome.task_id == expect["task_id"]
    elif kind == "credits":
        assert outcome == expect["value"]
        assert isinstance(outcome, float)
    elif kind == "upload":
        assert isinstance(outcome, sora2_characters.UploadedFile)
        assert outcome.download_url == expect["download_url"]
        assert outcome.size == expect["size"]
    elif kind == "task":
        _check_task(outcome, expect, sample)
    else:  # pragma: no cover - a new kind of expectation must be taught to this test
        raise AssertionError(f"unknown expected outcome {kind!r}")
    assert requests == 1


def _replayed(sample_id: str) -> bool:
    sample = SAMPLES[sample_id]
    return sample["response"] is not None and sample["expect"]["outcome"] != "not_exercised"


REPLAYED = [sample_id for sample_id in SAMPLES if _replayed(sample_id)]
CALLBACKS = [sample_id for sample_id, sample in SAMPLES.items() if sample["endpoint"] == "callback"]


def test_the_corpus_is_whole() -> None:
    """Every sample is either replayed, a callback, or explicitly not exercised (with no method)."""
    assert len(SAMPLES) >= 34
    others = set(SAMPLES) - set(REPLAYED) - set(CALLBACKS)
    assert {SAMPLES[sample_id]["expect"]["outcome"] for sample_id in others} <= {"not_exercised"}
    for sample in SAMPLES.values():
        assert sample["source"], sample["id"]


@pytest.mark.parametrize("sample_id", REPLAYED)
def test_sync_client_decodes_the_captured_answer(sample_id: str, replay: _ReplayServer) -> None:
    sample = SAMPLES[sample_id]
    replay.program(sample["response"])
    try:
        outcome: object = _call_sync(sample, replay)
    except Sora2CharactersError as exc:
        outcome = exc
    if sample["expect"].get("fields", {}).get("wait_raises"):
        assert isinstance(outcome, TaskFailedError)
        _check_task(outcome.task, sample["expect"], sample)
        return
    _check(sample, outcome, len(replay.requests))


@pytest.mark.parametrize("sample_id", REPLAYED)
def test_async_client_decodes_the_captured_answer(sample_id: str, replay: _ReplayServer) -> None:
    sample = SAMPLES[sample_id]
    replay.program(sample["response"])

    async def call() -> object:
        try:
            return await _call_async(sample, replay)
        except Sora2CharactersError as exc:
            return exc

    outcome = anyio.run(call)
    if sample["expect"].get("fields", {}).get("wait_raises"):
        assert isinstance(outcome, TaskFailedError)
        _check_task(outcome.task, sample["expect"], sample)
        return
    _check(sample, outcome, len(replay.requests))


@pytest.mark.parametrize("sample_id", CALLBACKS)
def test_the_captured_callback_parses(sample_id: str) -> None:
    sample = SAMPLES[sample_id]
    body = sample["request"]["body_text"].encode("utf-8")
    try:
        outcome: object = parse_callback(body)
    except Sora2CharactersError as exc:
        outcome = exc
    _check(sample, outcome, 1)


def test_a_failure_the_service_owns_is_transient() -> None:
    """failCode 5xx, or a message asking to try again later: the service refunds and a resubmit may work."""
    failed = parse_callback(SAMPLES["cb_doc_failure"]["request"]["body_text"])
    assert TaskFailedError(failed).transient
    refused = json.loads(SAMPLES["doc_recordinfo_fail_message_key"]["response"]["body_text"])["data"]
    assert not TaskFailedError(TaskInfo.from_data(refused)).transient
    later = TaskInfo.from_data(
        {
            "taskId": "t",
            "state": "fail",
            "failCode": None,
            "failMsg": "internal error, please try again later",
        }
    )
    assert TaskFailedError(later).transient
    assert "submitting again may succeed" in str(TaskFailedError(later))


def test_param_input_nested_as_a_json_string_is_decoded() -> None:
    data = json.loads(SAMPLES["har_recordinfo_success_video"]["response"]["body_text"])["data"]
    param = TaskInfo.from_data(data).param
    assert param["model"] == "bytedance/seedance-2"
    assert param["input"]["duration"] == 4
    assert param["input"]["resolution"] == "480p"


def test_credits_consumed_reads_both_spellings() -> None:
    for key in ("creditsConsumed", "consumeCredits"):
        info = TaskInfo.from_data({"taskId": "t", "state": "success", key: 12.5})
        assert info.credits_consumed == 12.5


def test_a_429_about_credits_is_insufficient_credits_and_not_retried(replay: _ReplayServer) -> None:
    replay.program(
        {
            "status": 200,
            "headers": {"content-type": "application/json;charset=UTF-8"},
            "body_text": json.dumps(
                {"code": 429, "msg": "The current credits are insufficient. Please top up."}
            ),
        }
    )
    with (
        Client(KEY, sleep=_no_sleep, **_options(replay)) as client,
        pytest.raises(sora2_characters.InsufficientCreditsError) as raised,
    ):
        client.get_credits()
    assert raised.value.code == 429
    assert len(replay.requests) == 1
