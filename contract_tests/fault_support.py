"""Helpers of the fault matrix and the security checks: a canary key, a virtual clock, leak capture.

The matrix runs real clients over real loopback sockets against :class:`FakeApikley`; only time is
virtual (the clients sleep on :class:`VirtualTime`, so backoff and ``Retry-After`` never wait).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sora2_characters.testing import FakeApikley

#: The key every matrix case uses; it must never show up in anything printed or logged.
CANARY = "sk-CANARY-7f3a9c-never-print"
#: A remote video URL: the fake accepts it without fetching (``remote_videos="accept"``).
VIDEO_URL = "https://files.example.com/character.mp4"
#: Loggers searched for the canary: the library, its HTTP stack, and the fake's server.
WATCHED_LOGGERS = ("sora2_characters", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access")


class VirtualTime:
    """A monotonic clock that moves only when the code under test sleeps (it never really sleeps)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


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


def create_task_directly(fake: FakeApikley) -> str:
    """Create a task on the fake with plain httpx (no client under test); return its id."""
    import httpx

    response = httpx.post(
        f"{fake.base_url}/api/v1/jobs/createTask",
        json={"model": "sora-2-characters", "input": {"character_file_url": [VIDEO_URL]}},
        headers={"Authorization": f"Bearer {fake.api_key}"},
        timeout=5.0,
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
    ``{"code": 200, "msg": "success"}``).
    """

    def __init__(self, handler: Callable[[dict[str, str], bytes], int]) -> None:
        self.deliveries: list[Delivery] = []
        self.handler = handler
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
