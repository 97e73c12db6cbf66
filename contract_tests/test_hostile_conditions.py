"""The client under hostile conditions (issue 10): bounded time and memory, safe in worker pools,
only our errors for any input, no key where it should not go, no guessing whether a task was paid.

One section per rule. Where the network is involved the server is a tiny raw-socket server on
loopback that misbehaves on purpose (drips bytes, never ends, sends a gzip bomb); elsewhere respx
and injected clocks. The time tests bound how long a call may take with a generous slack for a
loaded machine: they fail only when a call overruns its promise by seconds (or hangs).
"""

from __future__ import annotations

import concurrent.futures
import gzip
import io
import json
import multiprocessing
import os
import pickle
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

import sora2_characters as sc
from contract_tests.support import (
    CREATE_URL,
    KEY,
    QUERY_URL,
    UPLOAD_URL,
    VIDEO_URL,
    error,
    make_client,
    ok,
    task,
)
from sora2_characters import _exceptions, _models
from sora2_characters._cli._output import Output, Redactor
from sora2_characters._transport import install_deadline_backend
from sora2_characters._validation import is_loopback_host
from sora2_characters.testing import FakeApikley
from sora2_characters.webhooks import parse_callback, sign, verify_signature

CHARACTER = Path(__file__).resolve().parent.parent / "examples" / "character.mp4"
#: How much later than promised a call may end on a busy two-core machine before the test fails.
SLACK_S = 3.0

# --- a misbehaving loopback server ----------------------------------------------------------------


class RawServer:
    """A loopback TCP server; ``handle(conn, stop)`` runs in a thread per connection."""

    def __init__(self, handle: Callable[[socket.socket, threading.Event], None]) -> None:
        self._handle = handle
        self._stop = threading.Event()
        #: Set once a request's head has arrived (a slot of the client is then surely taken).
        self.got_request = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                _read_request_head(conn)
                self.got_request.set()
                self._handle(conn, self._stop)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._accepting.join(5)
        for thread in self._threads:
            thread.join(5)


def _read_request_head(conn: socket.socket) -> None:
    conn.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[socket.socket, threading.Event], None]], RawServer]]:
    servers: list[RawServer] = []

    def start(handle: Callable[[socket.socket, threading.Event], None]) -> RawServer:
        server = RawServer(handle)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def drip(conn: socket.socket, stop: threading.Event) -> None:
    """A valid response, one byte every half second (headers included)."""
    body = json.dumps({"code": 200, "msg": "ok", "data": task("generating", "drip")}).encode()
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    for byte in response:
        if stop.wait(0.5):
            return
        conn.sendall(bytes([byte]))


def never_ending(conn: socket.socket, stop: threading.Event) -> None:
    """Headers, then a chunked body that never ends (a chunk every 50 ms)."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    conn.sendall(b"1\r\n{\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"400\r\n" + b" " * 0x400 + b"\r\n")


def flood(conn: socket.socket, stop: threading.Event) -> None:
    """Headers, then a chunked body that never ends, as fast as the client reads."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    while not stop.is_set():
        conn.sendall(chunk)


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accept the request, never answer."""
    stop.wait(30)


def _client(base: str, **options: Any) -> sc.Client:
    options.setdefault("max_retries", 0)
    return sc.Client(KEY, base_url=base, **options)


# === Time: a deadline is a wall-clock promise ======================================================


@pytest.mark.parametrize("handler", [drip, never_ending, silent], ids=["drip", "never-ending", "silent"])
def test_wait_returns_by_its_deadline_whatever_the_server_does(serve: Any, handler: Any) -> None:
    server = serve(handler)
    with _client(server.base_url, max_retries=2) as client:
        started = time.monotonic()
        with pytest.raises(sc.Sora2CharactersError) as caught:
            client.wait("drip", max_wait=2.0, poll_interval=0.5)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0 + 1.0 + SLACK_S
    assert caught.value.task_id == "drip"


@pytest.mark.anyio
@pytest.mark.parametrize("handler", [drip, never_ending], ids=["drip", "never-ending"])
async def test_async_wait_returns_by_its_deadline(serve: Any, handler: Any) -> None:
    server = serve(handler)
    async with sc.AsyncClient(KEY, base_url=server.base_url, max_retries=2) as client:
        started = time.monotonic()
        with pytest.raises(sc.Sora2CharactersError):
            await client.wait("drip", max_wait=2.0, poll_interval=0.5)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0 + 1.0 + SLACK_S


def test_create_character_and_wait_counts_create_task_against_its_deadline(serve: Any) -> None:
    server = serve(drip)
    with _client(server.base_url) as client:
        started = time.monotonic()
        with pytest.raises(sc.Sora2CharactersError) as caught:
            client.create_character_and_wait(VIDEO_URL, max_wait=2.0)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0 + 1.0 + SLACK_S
    assert caught.value.task_may_exist  # it was sent: nobody knows whether a task exists


def test_a_single_request_has_a_total_time_limit(serve: Any) -> None:
    server = serve(drip)
    with _client(server.base_url, timeout=1.5) as client:
        started = time.monotonic()
        with pytest.raises(sc.APITimeoutError):
            client.get_task("drip")
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + SLACK_S


def test_waiting_for_a_request_slot_counts_against_the_deadline(serve: Any) -> None:
    server = serve(silent)
    with _client(server.base_url, max_concurrent_requests=1, timeout=20.0) as client:

        def hold_the_slot() -> None:
            with pytest.raises(sc.Sora2CharactersError):
                client.get_task("x")

        blocker = threading.Thread(target=hold_the_slot)
        blocker.start()
        assert server.got_request.wait(30)  # the one slot is now held by a call the server never answers
        started = time.monotonic()
        with pytest.raises(sc.WaitTimeoutError):
            client.wait("slot", max_wait=1.0)
        elapsed = time.monotonic() - started
        server.close()
        blocker.join(30)
    assert elapsed < 1.0 + 1.0 + SLACK_S


# === Memory: bounded by the input's size, never by an attacker's ===================================


def _respond(body: bytes, headers: bytes = b"") -> Callable[[socket.socket, threading.Event], None]:
    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n" % (len(body), headers))
        conn.sendall(body)

    return handle


def test_a_gzip_bomb_is_malformed_with_bounded_memory(serve: Any) -> None:
    bomb = gzip.compress(b"{" + b" " * (50 * 1024 * 1024), compresslevel=6)  # 50 MB in ~50 KB
    server = serve(_respond(bomb, b"Content-Encoding: gzip\r\n"))
    tracemalloc.start()
    try:
        with (
            _client(server.base_url) as client,
            pytest.raises(sc.MalformedResponseError, match="larger than"),
        ):
            client.get_credits()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # the 1 MiB cap and a few chunks, never the 50 MB


def test_our_own_blocking_pool_bounds_every_socket_operation() -> None:
    with _client("https://api.apikley.ru") as client:
        assert install_deadline_backend(client._http)


def test_an_endless_chunked_body_is_malformed(serve: Any) -> None:
    server = serve(flood)
    with _client(server.base_url, timeout=60.0) as client, pytest.raises(sc.MalformedResponseError):
        client.get_credits()


def test_a_huge_plain_body_is_malformed_before_it_is_read_whole() -> None:
    chunks = (b" " * 65536 for _ in range(200 * 16))  # 200 MB, streamed

    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=httpx.Response(200, stream=httpx.ByteStream(b"")))
        respx.get(QUERY_URL).mock(return_value=httpx.Response(200, content=chunks))
        with pytest.raises(sc.MalformedResponseError, match="1048576"):
            make_client().get_task("t")


@pytest.mark.anyio
async def test_the_async_client_inspects_and_reads_files_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []
    import sora2_characters._uploads as uploads

    real = uploads.prepare_upload

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.get_ident())
        return real(*args, **kwargs)

    real_open = open
    opened: list[int] = []

    def open_spy(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(CHARACTER):
            opened.append(threading.get_ident())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(uploads, "prepare_upload", spy)  # _core imports it from _uploads on each upload
    with FakeApikley() as fake:
        async with fake.async_client() as client:
            monkeypatch.setattr("builtins.open", open_spy)
            uploaded = await client.upload_video(CHARACTER)
    assert uploaded.download_url
    assert seen
    assert opened  # inspection and the upload itself both open the file...
    assert all(ident != loop_thread for ident in seen + opened)  # ...never on the event loop


# === Processes: safe in worker pools ===============================================================


def _every_exception() -> list[sc.Sora2CharactersError]:
    info = _models.TaskInfo.from_data({"taskId": "t1", "state": "fail", "failMsg": "boom", "param": "{}"})
    made: list[sc.Sora2CharactersError] = [
        sc.InvalidInputError("task_id", "must be a non-empty string"),
        sc.TaskFailedError(info),
        sc.WaitTimeoutError("t1", sc.TaskState.GENERATING, 5.0),
        sc.WebhookVerificationError("bad"),
        sc.APIConnectionError("reset", request_sent=False),
        sc.APITimeoutError("slow"),
    ]
    for name in _exceptions.__all__:
        cls = getattr(_exceptions, name)
        if isinstance(cls, type) and issubclass(cls, sc.APIError):
            made.append(cls("msg", code=cls.default_code, http_status=200, retry_after=1.5))
    made[-1].about_task("t9")
    made[-2].task_unknown()
    return made


def test_every_exception_pickles_with_its_attributes() -> None:
    for original in _every_exception():
        copy = pickle.loads(  # noqa: S301 - our own objects
            pickle.dumps(original)
        )
        assert type(copy) is type(original)
        assert str(copy) == str(original)
        assert vars(copy) == vars(original) or type(original) is sc.TaskFailedError
        assert copy.task_id == original.task_id
        assert copy.task_may_exist == original.task_may_exist


def test_every_model_pickles_with_its_attributes() -> None:
    info = _models.TaskInfo.from_data(task("success", "t2"), task_id="t2")
    unknown = _models.TaskInfo.from_data(task("paused", "t3"), task_id="t3")
    uploaded = _models.UploadedFile.from_data({"downloadUrl": "https://x/y.mp4", "fileSize": 3})
    created = _models.CreatedTask.from_data({"taskId": "t4"})
    for model in (info, unknown, uploaded, created):
        copy = pickle.loads(  # noqa: S301 - our own objects
            pickle.dumps(model)
        )
        assert copy == model
        assert copy.raw == model.raw
    assert (
        pickle.loads(  # noqa: S301 - our own objects
            pickle.dumps(unknown)
        ).state.value
        == "paused"
    )
    assert (
        pickle.loads(  # noqa: S301 - our own objects
            pickle.dumps(info)
        ).param
        == info.param
    )


def _create_in_worker(base_url: str, upload_base_url: str, key: str, video_url: str) -> str:
    with sc.Client(key, base_url=base_url, upload_base_url=upload_base_url, poll_interval=0.2) as client:
        return client.create_character_and_wait(video_url, max_wait=60).character_id or ""


def test_create_character_and_wait_in_a_process_pool_reports_a_failure() -> None:
    with FakeApikley(task_duration=0.5) as fake:
        with fake.client() as client:
            url = client.upload_video(CHARACTER).download_url
        fake.fail_task(fail_msg="bad clip")
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
            futures = [
                pool.submit(_create_in_worker, fake.base_url, fake.upload_base_url, fake.api_key, url)
                for _ in range(3)
            ]
            outcomes = [future.exception(timeout=120) or future.result() for future in futures]
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(failures) == 1
    assert isinstance(failures[0], sc.TaskFailedError)
    assert failures[0].fail_message == "bad clip"
    assert failures[0].task_id
    assert sum(isinstance(outcome, str) and outcome.startswith("char_") for outcome in outcomes) == 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_client_used_after_fork_opens_its_own_connections() -> None:
    with FakeApikley() as fake, fake.client() as client:
        assert client.get_credits() == 100.0  # a pooled connection now exists in the parent
        parent_pool = client._http
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            code = 1
            try:
                renewed = client.get_credits() == 100.0 and client._http is not parent_pool
                code = 0 if renewed else 2
            finally:
                os.write(write_end, bytes([code]))
                os._exit(0)
        os.close(write_end)
        result = os.read(read_end, 1)
        os.waitpid(pid, 0)
        os.close(read_end)
        assert result == b"\x00"
        assert client._http is parent_pool
        assert client.get_credits() == 100.0


def test_a_record_of_another_task_is_malformed() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=ok(task("success", "someone_else")))
        with pytest.raises(sc.MalformedResponseError, match="someone_else"):
            make_client().get_task("mine")


# === Input: only our errors, for any string ========================================================


def lone_surrogates() -> st.SearchStrategy[str]:
    """Text that surely holds a lone surrogate, somewhere among ordinary characters.

    ``st.characters()`` leaves out the surrogate category unless asked, so one is drawn apart from
    its range and put between two ordinary texts.
    """
    surrogate = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    text = st.text(max_size=20)
    return st.tuples(text, surrogate, text).map("".join)


def any_text() -> st.SearchStrategy[str]:
    """Any string at all: every category, surrogates included."""
    return st.text(alphabet=st.characters(codec=None, categories=None), max_size=40) | lone_surrogates()


_NOT_OURS = (UnicodeEncodeError, OverflowError, RuntimeError, httpx.HTTPError)


def _only_ours(call: Callable[[], object]) -> None:
    try:
        call()
    except sc.Sora2CharactersError:
        pass
    except _NOT_OURS as exc:  # pragma: no cover - the failure this suite exists to catch
        pytest.fail(f"{type(exc).__name__} escaped: {exc}")


@settings(max_examples=40, deadline=None)
@given(text=any_text())
def test_any_string_as_a_task_id_url_prompt_or_file_name_gives_only_our_errors(text: str) -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=error(404))
        respx.post(CREATE_URL).mock(return_value=ok({"taskId": "t"}))
        respx.post(UPLOAD_URL).mock(return_value=error(404))
        client = make_client(max_retries=0)
        _only_ours(lambda: client.get_task(text))
        _only_ours(lambda: client.create_character(text))
        _only_ours(lambda: client.create_character(VIDEO_URL, character_prompt=text))
        _only_ours(lambda: client.upload_video(CHARACTER, file_name=text))


@settings(max_examples=30, deadline=None)
@given(text=lone_surrogates())
def test_lone_surrogates_are_refused_before_any_request(text: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        client = make_client()
        calls: list[tuple[Callable[[], object], str]] = [
            (lambda: client.get_task(text), "task_id"),
            (lambda: client.create_character(VIDEO_URL + text), "video_url"),
            (lambda: client.create_character(VIDEO_URL, character_prompt=text), "character_prompt"),
            (lambda: client.upload_video(CHARACTER, file_name=f"a{text}.mp4"), "file_name"),
        ]
        for call, field in calls:
            with pytest.raises(sc.InvalidInputError) as caught:
                call()
            assert caught.value.field == field
        assert not mock.calls


@settings(max_examples=30, deadline=None)
@given(task_id=lone_surrogates())
def test_a_server_sent_id_that_cannot_be_sent_back_is_malformed(task_id: str) -> None:
    body = json.dumps({"code": 200, "msg": "ok", "data": {"taskId": task_id}}).encode()
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=httpx.Response(200, content=body))
        with pytest.raises(sc.MalformedResponseError) as caught:
            make_client().create_character_and_wait(VIDEO_URL)
    assert caught.value.task_may_exist


@pytest.mark.parametrize("number", [1e10, 1e300, 10**400, float("inf"), float("nan"), -1.0, 0])
@pytest.mark.parametrize(
    "option", ["timeout", "upload_timeout", "poll_interval", "max_tasks_per_second", "max_wait", "wait_poll"]
)
def test_huge_or_bad_numeric_settings_are_invalid_input_naming_the_field(option: str, number: float) -> None:
    field = {"wait_poll": "poll_interval"}.get(option, option)
    options: dict[str, Any] = {}
    waits: dict[str, Any] = {}
    if option == "max_wait":
        waits["max_wait"] = number
    elif option == "wait_poll":
        waits["poll_interval"] = number
    else:
        options[option] = number
    with respx.mock(assert_all_called=False), pytest.raises(sc.InvalidInputError) as caught:
        make_client(**options).wait("t", **waits)
    assert caught.value.field == field
    assert "limit" in str(caught.value) or "positive" in str(caught.value)


@pytest.mark.parametrize("count", [10**10, 10**300])
def test_huge_counts_are_invalid_input(count: int) -> None:
    for option in ("max_retries", "max_concurrent_requests"):
        options: dict[str, Any] = {option: count}
        with pytest.raises(sc.InvalidInputError, match=option):
            make_client(**options)


@pytest.mark.parametrize("change", ["grow", "shrink"])
def test_a_file_that_changes_while_it_streams_is_invalid_input(
    tmp_path: Path, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clip.mp4"
    data = CHARACTER.read_bytes()
    path.write_bytes(data)
    real_open = open

    def open_after_a_change(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if str(file) == str(path) and mode == "rb":  # the upload reopens the checked file: change it
            path.write_bytes(data + b"\0" * 1000 if change == "grow" else data[:1000])
        return real_open(file, mode, *args, **kwargs)

    with FakeApikley() as fake, fake.client(max_retries=0) as client:
        monkeypatch.setattr("builtins.open", open_after_a_change)
        with pytest.raises(sc.InvalidInputError, match="grew" if change == "grow" else "shrank"):
            client.upload_video(path)


def test_a_closed_client_refuses_calls_with_our_error() -> None:
    client = make_client()
    client.close()
    with pytest.raises(sc.InvalidInputError, match="closed"):
        client.get_credits()
    http = httpx.Client()
    http.close()
    with pytest.raises(sc.InvalidInputError, match="http_client"):
        make_client(http_client=http).get_credits()


# === Secrets: the key goes nowhere it should not ===================================================


@pytest.mark.parametrize("host", ["localhost.", "localhost.localdomain", "127.0.0.1.nip.io", "api.localhost"])
def test_names_that_need_a_resolver_are_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)
    with pytest.raises(sc.InvalidInputError, match="allow_insecure_http"):
        sc.Client(KEY, base_url=f"http://{host}:4010")


def test_plain_localhost_and_loopback_addresses_are_loopback() -> None:
    for host in ("localhost", "127.0.0.1", "127.8.9.10", "[::1]"):
        assert is_loopback_host(host)


def test_a_loopback_request_never_goes_through_an_environment_proxy(
    monkeypatch: pytest.MonkeyPatch, serve: Any
) -> None:
    seen: list[str] = []

    def proxy(conn: socket.socket, stop: threading.Event) -> None:
        seen.append("proxy")

    proxy_server = serve(proxy)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy_server.base_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with FakeApikley() as fake, fake.client() as client:
        assert client.get_credits() == 100.0
    assert not seen


def test_a_custom_base_url_never_sends_uploads_to_the_production_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("APIKLEY_UPLOAD_BASE_URL", raising=False)
    monkeypatch.setenv("APIKLEY_BASE_URL", "https://proxy.example/apikley")
    with sc.Client(KEY) as client:
        assert client.upload_base_url == "https://proxy.example/apikley/file-upload"
    with sc.Client(KEY, base_url="http://127.0.0.1:4010") as client:
        assert client.upload_base_url == "http://127.0.0.1:4010/file-upload"


def test_the_key_is_redacted_before_a_long_message_is_cut() -> None:
    message = "x" * 990 + KEY + "y" * 2000  # the cut at 1000 characters falls inside the key
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=error(401, msg=message))
        with pytest.raises(sc.AuthenticationError) as caught:
            make_client().get_task("t")
    text = str(caught.value) + repr(caught.value) + caught.value.message
    assert KEY[:8] not in text
    assert "characters)" in text


def test_the_key_is_redacted_from_a_failed_task_and_transport_errors() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=ok(task("fail", "t", failMsg=f"bad key {KEY}")))
        with pytest.raises(sc.TaskFailedError) as failed:
            make_client().wait("t")
    assert KEY not in str(failed.value)
    assert KEY not in (failed.value.fail_message or "")
    with respx.mock:
        respx.get(QUERY_URL).mock(side_effect=httpx.ConnectError(f"refused {KEY}"))
        with pytest.raises(sc.APIConnectionError) as refused:
            make_client(max_retries=0).get_task("t")
    assert KEY not in str(refused.value)
    assert "api.apikley.ru" in str(refused.value)  # names the host it tried


def test_the_cli_json_output_redacts_a_key_that_json_would_escape() -> None:
    key = 'sk-"quoted\\key-123'  # printable ASCII: a valid key, which JSON writes escaped
    stdout = io.StringIO()
    output = Output(Redactor([key]), json_mode=True, stdout=stdout, stderr=io.StringIO())
    output.result({"message": f"the server echoed {key}", key: "as a field name too"})
    text = stdout.getvalue()
    assert "quoted" not in text
    assert json.loads(text)["message"] == "the server echoed ***"


def test_the_webhook_signature_covers_the_task_id_parse_callback_reports() -> None:
    body = json.dumps({"code": 200, "data": {"taskId": 5, "task_id": "victim", "state": "success"}})
    reported = parse_callback(body).task_id
    assert reported == "5"
    with pytest.raises(sc.WebhookVerificationError):
        verify_signature(body, sign("victim", "secret"), "secret")
    verify_signature(body, sign(reported, "secret"), "secret")


# === Ambiguity: never leave a user guessing whether they paid =======================================


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="<html>oops</html>"),
        httpx.Response(200, json={"code": 500, "msg": "server error"}),
        httpx.Response(200, text='{"code": 200, "data": {"taskId'),
        httpx.Response(200, json={"code": 200, "msg": "ok", "data": {}}),
    ],
    ids=["html-500", "code-500", "truncated", "no-task-id"],
)
def test_an_unknown_create_task_outcome_says_a_task_may_exist(response: httpx.Response) -> None:
    with respx.mock:
        route = respx.post(CREATE_URL).mock(return_value=response)
        with pytest.raises(sc.Sora2CharactersError) as caught:
            make_client().create_character(VIDEO_URL)
    assert caught.value.task_may_exist
    assert "may have been created" in str(caught.value)
    assert route.call_count == 1


def test_a_reset_after_sending_create_task_says_a_task_may_exist() -> None:
    with respx.mock:
        respx.post(CREATE_URL).mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(sc.APITimeoutError) as caught:
            make_client().create_character(VIDEO_URL)
    assert caught.value.task_may_exist


def test_a_refused_create_task_says_no_task_exists() -> None:
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=error(402))
        with pytest.raises(sc.InsufficientCreditsError) as caught:
            make_client().create_character(VIDEO_URL)
    assert not caught.value.task_may_exist


def test_errors_after_the_task_id_is_known_carry_it_and_say_how_to_resume() -> None:
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=ok({"taskId": "t7"}))
        respx.get(QUERY_URL).mock(return_value=error(401))
        with pytest.raises(sc.AuthenticationError) as polled:
            make_client(max_retries=0).create_character_and_wait(VIDEO_URL)
    assert polled.value.task_id == "t7"
    assert "client.wait('t7')" in str(polled.value)
    assert "sora2-characters wait t7" in str(polled.value)
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=ok(task("generating", "t8")))
        with pytest.raises(sc.WaitTimeoutError) as timed_out:
            make_client().wait("t8", max_wait=5)
    assert timed_out.value.task_id == "t8"
    assert "client.wait('t8')" in str(timed_out.value)
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=ok(task("fail", "t9")))
        with pytest.raises(sc.TaskFailedError) as failed:
            make_client().wait("t9")
    assert failed.value.task_id == "t9"
    assert "t9" in str(failed.value)
