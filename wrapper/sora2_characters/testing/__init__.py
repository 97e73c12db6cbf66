"""A fake Apikley server for tests: a real HTTP server on loopback that behaves like the live API.

Needs the ``server`` extra (Starlette and uvicorn). It authenticates, validates requests against the
bundled spec, runs tasks through ``waiting -> queuing -> generating -> success`` on a scalable
clock, checks each task's source video, stores uploads and serves them back, bills credits, calls
back with optional HMAC signatures, records every request, and injects faults on demand.

Example::

    from sora2_characters.testing import FakeApikley

    with FakeApikley(time_scale=0.001) as fake:        # a 15 s task ends in 15 ms
        fake.fail_next("createTask", code=455)          # maintenance, once
        client = Client(fake.api_key, base_url=fake.base_url, upload_base_url=fake.upload_base_url)
        ...
        assert fake.requests[0].headers["authorization"] == "Bearer <redacted>"

From the command line: ``python -m sora2_characters.testing --port 4010 --time-scale 0.1`` (see
:mod:`sora2_characters.testing.__main__`), or ``sora2-characters mock``; both serve through
:func:`serve`.

Styles: ``error_style="live"`` (the default) answers as the live service was captured answering:
HTTP 200 with the code in the body, the captured messages and envelope keys, live record fields
(``null`` until they apply, ``costTime`` in seconds), 32-hex task ids with ``recordId``, Spring's
404 for an unknown path; ``sora2_characters._fake.likeness`` lists what still differs and why.
``"http"`` is the documented contract, like Prism: the HTTP status equals the body code. Request
validation (jsonschema, against the bundled spec) answers code 422 on the jobs API naming the field
(``input.character_prompt: at most 5000 characters``; live: a missing field is the captured 500
"This field is required"), 400 for an unreadable body or a bad query, and 400 on the upload API.
The key is checked before the body is read; a body over 1 MiB (jobs) or 32 MiB (uploads) gets HTTP
413 without being read past the limit.

Faults (see :meth:`FakeApikley.fail_next` and its siblings) are consumed per call, in the order they
were added. Faults of kind ``code`` and ``rate_limit`` answer instead of the operation, so nothing
is created. ``drop_connection_next(when="after_read")`` and ``malformed_next`` run the operation
first: a createTask creates and bills its task, and the client cannot tell.
:meth:`FakeApikley.override_task` makes a task show what the docs forgot (an unknown state, a broken
``resultJson``), and :meth:`FakeApikley.fail_task` makes one end in ``fail``.

Connection drops are real: the server closes the TCP connection without sending a response byte.
httpx raises ``httpx.RemoteProtocolError`` ("Server disconnected without sending a response."); for
``before_read`` the request is recorded with ``body=None`` and nothing is created, and when the
request body is still arriving as the connection closes, the kernel answers it with a reset and
httpx raises ``httpx.ReadError`` instead (a real server's drop does the same; the SDK treats both
as a connection lost after sending).
A ``truncated`` answer promises a ``Content-Length``, sends half, and closes: httpx raises
``httpx.RemoteProtocolError`` while reading the body.

Source videos: a ``character_file_url`` uploaded to this fake is inspected (mp4, webm or avi, at most
10 MB, 1-4 s, by content); a URL of another loopback server is downloaded with a short timeout; any
other URL is never fetched, and is accepted or made to fail as ``remote_videos`` says. A bad video
does not fail createTask: the task runs its course and ends in ``fail`` with failCode ``"422"`` and a
failMsg naming the problem, as the live service reports it.

Callbacks go only to loopback URLs (others are recorded as refused). A task is charged
``credits_per_task`` when it is created; createTask answers 402 when the balance cannot pay.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sora2_characters._fake.errors import PortInUseError, ServerStartError
from sora2_characters._fake.faults import DropWhen, Fault, FaultPlan, MalformedKind, resolve_operation
from sora2_characters._fake.routes import UPLOAD_API_MOUNT
from sora2_characters._fake.serving import serve
from sora2_characters._fake.state import (
    OPTIONAL_RECORD_FIELDS,
    CallbackAttempt,
    ErrorStyle,
    FakeSettings,
    FakeState,
    LifecycleState,
    PlannedFailure,
    RecordedRequest,
    RemoteVideos,
    StoredFile,
    TaskOverride,
    TaskRecord,
    TaskSeed,
    task_durations_from,
)
from sora2_characters._sample import sample_clip

if TYPE_CHECKING:
    from sora2_characters import AsyncClient, Client

__all__ = [
    "CallbackAttempt",
    "FakeApikley",
    "Fault",
    "FaultPlan",
    "PortInUseError",
    "RecordedRequest",
    "ServerStartError",
    "StoredFile",
    "TaskRecord",
    "sample_clip",
    "serve",
]

#: The key the fake accepts (and its clients send) unless told otherwise.
DEFAULT_API_KEY = "test-key"
DEFAULT_FAIL_CODE = "500"
DEFAULT_FAIL_MSG = "internal error, please try again later"
_SEED_STATES = ("waiting", "queuing", "generating", "success", "fail")
_SEED_VIDEO_URL = "https://example.invalid/seeded-character.mp4"


class FakeApikley:
    """A fake Apikley server (jobs API and file-upload API) in a background thread.

    Args:
        host: interface to listen on (loopback by default).
        port: TCP port; 0 picks a free one, read back after :meth:`start`.
        api_key: the key (or keys) accepted as ``Authorization: Bearer <key>``.
        accept_any_key: accept any non-empty bearer key.
        error_style: ``"live"`` (HTTP 200, code in the body) or ``"http"`` (HTTP status = code).
        time_scale: wall seconds per fake second (``0.001``: a 15 s task takes 15 ms; 0: instant).
        task_durations: fake seconds per phase (``waiting``, ``queuing``, ``generating``), merged over
            the defaults 1, 2 and 12.
        task_duration: the total fake seconds instead, spread over the phases proportionally.
        initial_credits: the starting balance.
        credits_per_task: what each createTask costs.
        webhook_secret: when set, callbacks carry ``X-Webhook-Timestamp``/``X-Webhook-Signature``.
        validate_media: inspect each task's source video (off: every task succeeds).
        remote_videos: what a task whose video URL is off this machine does: ``"accept"`` or ``"fail"``.
        callback_timeout: seconds allowed to each callback POST.
        fetch_timeout: seconds allowed to fetch a video or ``fileUrl`` from another loopback server.
        clock: wall clock in seconds (default ``time.time``); inject one to control time by hand.
        record_fields: optional task-record fields the live style sends (``"progress"``,
            ``"updateTime"``); the live service leaves them out, the ``http`` style always sends them.

    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | Sequence[str] = DEFAULT_API_KEY,
        accept_any_key: bool = False,
        error_style: ErrorStyle = "live",
        time_scale: float = 1.0,
        task_durations: Mapping[LifecycleState, float] | None = None,
        task_duration: float | None = None,
        initial_credits: float = 100.0,
        credits_per_task: float = 2.5,
        webhook_secret: str | bytes | None = None,
        validate_media: bool = True,
        remote_videos: RemoteVideos = "accept",
        callback_timeout: float = 5.0,
        fetch_timeout: float = 5.0,
        clock: Callable[[], float] | None = None,
        record_fields: Collection[str] = (),
    ) -> None:
        keys = (api_key,) if isinstance(api_key, str) else tuple(api_key)
        if not keys or not all(keys):
            raise ValueError("api_key must be a non-empty key or a sequence of them")
        _check_choice("error_style", error_style, ("live", "http"))
        _check_choice("remote_videos", remote_videos, ("accept", "fail"))
        if time_scale < 0:
            raise ValueError(f"time_scale must be >= 0, got {time_scale}")
        unknown = set(record_fields) - OPTIONAL_RECORD_FIELDS
        if unknown or isinstance(record_fields, str):
            choices = ", ".join(sorted(OPTIONAL_RECORD_FIELDS))
            raise ValueError(f"record_fields takes a collection of {choices}; got {record_fields!r}")
        self._host = host
        self._port = port
        self._keys = keys
        self._state = FakeState(
            FakeSettings(
                api_keys=keys,
                accept_any_key=accept_any_key,
                error_style=error_style,
                time_scale=time_scale,
                task_durations=task_durations_from(task_durations, task_duration),
                credits_per_task=credits_per_task,
                webhook_secret=webhook_secret,
                validate_media=validate_media,
                remote_videos=remote_videos,
                callback_timeout=callback_timeout,
                fetch_timeout=fetch_timeout,
                record_fields=frozenset(record_fields),
            ),
            credits=initial_credits,
            clock=clock,
        )
        self._faults = FaultPlan()
        self._server: Any = None

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> Self:
        """Start serving in a background thread; returns once it listens.

        Raises :class:`PortInUseError` when the port is taken (``port=0`` picks a free one) and
        :class:`ServerStartError` when the server does not listen within ``timeout`` seconds.
        """
        if self._server is not None:
            raise RuntimeError("this FakeApikley is already running")
        from sora2_characters._fake.app import Context, build_app  # noqa: PLC0415 - needs the server extra
        from sora2_characters._fake.server import ThreadedServer  # noqa: PLC0415

        server = ThreadedServer(
            build_app(Context(self._state, self._faults, lambda: self.base_url)),
            host=self._host,
            port=self._port,
        )
        self._port = server.start(timeout)
        self._server = server
        return self

    def stop(self) -> None:
        """Stop the server (bounded wait). Recorded data stays readable. Safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None and bool(self._server.running)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget tasks, uploads, requests, callbacks and faults; refill credits; undo :meth:`advance`."""
        self._faults.clear()
        self._state.reset()

    # ---- where and who -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """The interface the server listens on."""
        return self._host

    @property
    def port(self) -> int:
        """The TCP port (the real one once started)."""
        return self._port

    @property
    def base_url(self) -> str:
        """Base URL of the jobs API (``/api/v1/...``)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def upload_base_url(self) -> str:
        """Base URL of the file-upload API (``/api/file-stream-upload`` etc. are appended)."""
        return f"{self.base_url}{UPLOAD_API_MOUNT}"

    @property
    def api_key(self) -> str:
        """The key :meth:`client` sends: the first key given to the constructor.

        It stays the same when :attr:`api_keys` changes, so a test can make it invalid.
        """
        return self._keys[0]

    @property
    def api_keys(self) -> tuple[str, ...]:
        """The accepted bearer keys; assign a key or a sequence of them to change it while running.

        ``fake.api_keys = ()`` (with :attr:`accept_any_key` off) refuses every key: each call then
        gets the 401 answer. Assign the old value back to accept them again.
        """
        return self._state.settings.api_keys

    @api_keys.setter
    def api_keys(self, value: str | Sequence[str]) -> None:
        keys = (value,) if isinstance(value, str) else tuple(value)
        if not all(isinstance(key, str) and key for key in keys):
            raise ValueError("api_keys must be non-empty strings")
        self._state.set_keys(tuple(dict.fromkeys(keys)), self._state.settings.accept_any_key)

    @property
    def accept_any_key(self) -> bool:
        """Whether any non-empty bearer key is accepted; assign to change it while running."""
        return self._state.settings.accept_any_key

    @accept_any_key.setter
    def accept_any_key(self, value: bool) -> None:
        self._state.set_keys(self._state.settings.api_keys, bool(value))

    def client(self, **options: Any) -> Client:
        """Return a :class:`~sora2_characters.Client` bound to this fake (its key and both base URLs).

        ``options`` go to the client (``poll_interval=``, ``max_retries=``, ``sleep=``...). Close it.
        """
        from sora2_characters import Client  # noqa: PLC0415 - testing must not import httpx early

        return Client(self.api_key, **self._client_options(options))

    def async_client(self, **options: Any) -> AsyncClient:
        """Return a :class:`~sora2_characters.AsyncClient` bound to this fake; see :meth:`client`."""
        from sora2_characters import AsyncClient  # noqa: PLC0415

        return AsyncClient(self.api_key, **self._client_options(options))

    def _client_options(self, options: dict[str, Any]) -> dict[str, Any]:
        # A local test server: plain http is expected even when it listens beyond loopback.
        return {
            "base_url": self.base_url,
            "upload_base_url": self.upload_base_url,
            "allow_insecure_http": True,
            **options,
        }

    # ---- what happened -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a snapshot)."""
        return self._state.requests()

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        """Return the recorded requests of ``operation`` (``createTask``, ``upload``, ``*``...)."""
        names = resolve_operation(operation)
        return [request for request in self.requests if request.operation in names]

    @property
    def tasks(self) -> list[TaskRecord]:
        """Every task created so far, oldest first (a snapshot)."""
        return self._state.tasks()

    def task(self, task_id: str) -> dict[str, Any]:
        """Return the recordInfo ``data`` of ``task_id`` right now; ``KeyError`` if there is none."""
        view = self._state.view_task(task_id)
        if view is None:
            raise KeyError(f"the fake holds no task {task_id!r}")
        return view

    @property
    def callbacks(self) -> list[CallbackAttempt]:
        """Every callback delivery attempt so far (a snapshot)."""
        return self._state.callbacks()

    def wait_for_callbacks(self, count: int = 1, *, timeout: float = 5.0) -> list[CallbackAttempt]:
        """Wait (bounded) until at least ``count`` callback attempts are recorded; return them all."""
        deadline = time.monotonic() + timeout
        while len(attempts := self.callbacks) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(attempts)} callback attempt(s) after {timeout} s, expected {count}")
            time.sleep(0.002)
        return attempts

    @property
    def uploaded_files(self) -> dict[str, StoredFile]:
        """Stored uploads by ``filePath`` (a snapshot)."""
        return self._state.files()

    # ---- knobs ---------------------------------------------------------------------------------

    @property
    def credits(self) -> float:
        """The remaining balance; assign to change it."""
        return self._state.credits

    @credits.setter
    def credits(self, value: float) -> None:
        self._state.set_credits(value)

    @property
    def error_style(self) -> ErrorStyle:
        """``"live"`` or ``"http"``; assign to switch while running."""
        return self._state.settings.error_style

    @error_style.setter
    def error_style(self, value: ErrorStyle) -> None:
        _check_choice("error_style", value, ("live", "http"))
        self._state.configure(error_style=value)

    @property
    def time_scale(self) -> float:
        """Wall seconds per fake second, for tasks created from now on; assign to change it."""
        return self._state.settings.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"time_scale must be >= 0, got {value}")
        self._state.configure(time_scale=value)

    def set_task_durations(
        self, task_durations: Mapping[LifecycleState, float] | None = None, *, total: float | None = None
    ) -> None:
        """Set the phase durations (fake seconds) of tasks created from now on."""
        self._state.configure(task_durations=task_durations_from(task_durations, total))

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward by ``seconds`` fake seconds (at the current time scale)."""
        self._state.advance(seconds * self._state.settings.time_scale)

    # ---- faults --------------------------------------------------------------------------------

    @property
    def faults(self) -> FaultPlan:
        """The fault plan: ``fake.faults.add(Fault(...))``, ``.pending``, ``.clear()``."""
        return self._faults

    def fail_next(
        self,
        operation: str,
        *,
        code: int,
        msg: str | None = None,
        times: int | None = 1,
        http_status: int | None = None,
        delay: float = 0.0,
    ) -> Fault:
        """Answer the next ``times`` calls of ``operation`` with body ``code`` (any documented one, or other).

        The HTTP status follows the error style unless ``http_status`` is given.
        """
        return self._faults.add(
            Fault(operation, "code", times=times, code=code, msg=msg, http_status=http_status, delay=delay)
        )

    def rate_limit_next(
        self,
        operation: str,
        *,
        times: int | None = 1,
        retry_after: float | str | None = None,
        msg: str | None = None,
    ) -> Fault:
        """Answer HTTP 429 (body code 429), with ``Retry-After`` when given (a float is sent as seconds)."""
        header = (
            None
            if retry_after is None
            else retry_after
            if isinstance(retry_after, str)
            else f"{retry_after:g}"
        )
        return self._faults.add(Fault(operation, "rate_limit", times=times, retry_after=header, msg=msg))

    def drop_connection_next(
        self, operation: str, *, when: DropWhen = "before_read", times: int | None = 1
    ) -> Fault:
        """Close the connection without answering: before reading the body, or after doing the work."""
        _check_choice("when", when, ("before_read", "after_read"))
        return self._faults.add(Fault(operation, "drop", times=times, when=when))

    def malformed_next(
        self, operation: str, *, kind: MalformedKind = "truncated", times: int | None = 1
    ) -> Fault:
        """Break the answer after doing the work.

        ``truncated`` (half the promised body, then close), ``html`` (a 502 HTML page), ``empty``
        (HTTP 200, no body), ``not_json`` (HTTP 200, garbage) or ``data_null`` (code 200, data null).
        """
        _check_choice("kind", kind, ("truncated", "html", "empty", "data_null", "not_json"))
        return self._faults.add(Fault(operation, "malformed", times=times, malformed=kind))

    def set_latency(self, seconds: float, *, operation: str = "*", times: int | None = None) -> Fault:
        """Delay answers to ``operation`` by ``seconds`` (wall time), for ``times`` calls or until cleared."""
        return self._faults.add(Fault(operation, "latency", times=times, delay=seconds))

    def clear_faults(self, operation: str | None = None) -> None:
        """Drop every pending fault (or those added for ``operation``)."""
        self._faults.clear(operation)

    def fail_task(
        self, task_id: str | None = None, *, fail_code: str = "500", fail_msg: str = "Generation failed"
    ) -> None:
        """Make a task end in ``fail``: ``task_id``'s, or (``None``) the next task created.

        An existing task keeps its schedule and ends in ``fail`` instead of ``success``.
        """
        if task_id is None:
            self._state.plan_failure(PlannedFailure(fail_code, fail_msg))
        else:
            self._state.fail_task(task_id, PlannedFailure(fail_code, fail_msg))

    def seed_task(
        self,
        *,
        task_id: str | None = None,
        model: str = "sora-2-characters",
        state: LifecycleState = "success",
        character_id: str | None = None,
        fail_code: str | None = None,
        fail_msg: str | None = None,
        param: str | Mapping[str, Any] | None = None,
    ) -> str:
        """Make the fake hold a task in ``state`` and return its id; it costs no credits.

        ``task_id`` is used exactly when given (any non-empty string; an existing task with that id
        is replaced), else a fresh id is made. ``model`` may be any model name, e.g. a
        ``sora-2-text-to-video`` task as the origin of another task. ``"success"`` gets a
        ``resultJson`` with ``character_id`` (given or made); ``"fail"`` gets ``fail_code`` and
        ``fail_msg`` (default ``"500"`` and ``"internal error, please try again later"``). A running
        state (``waiting``, ``queuing``, ``generating``) stays as it is, whatever the clock does,
        until :meth:`finish_task`. ``param`` is the task's request: a body (encoded as the service
        does) or the ``param`` string itself; by default a plausible createTask body for ``model``.
        Seeded tasks never call back.

        >>> task_id = fake.seed_task(task_id="t-1", state="generating")  # doctest: +SKIP
        >>> fake.finish_task("t-1", state="fail", fail_code="422")  # doctest: +SKIP
        """
        _check_choice("state", state, _SEED_STATES)
        if task_id is not None and (not isinstance(task_id, str) or not task_id):
            raise ValueError("task_id must be a non-empty string (or None for a fresh id)")
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty model name")
        body: dict[str, Any] = (
            {"model": model, "input": {"character_file_url": [_SEED_VIDEO_URL]}}
            if param is None
            else {}
            if isinstance(param, str)
            else dict(param)
        )
        seed = TaskSeed(
            task_id=task_id,
            model=model,
            state=state,
            character_id=character_id,
            fail_code=DEFAULT_FAIL_CODE if fail_code is None else fail_code,
            fail_msg=DEFAULT_FAIL_MSG if fail_msg is None else fail_msg,
            body=body,
            raw_param=param if isinstance(param, str) else None,
        )
        return self._state.seed_task(seed).task_id

    def finish_task(
        self,
        task_id: str,
        *,
        state: LifecycleState = "success",
        character_id: str | None = None,
        fail_code: str | None = None,
        fail_msg: str | None = None,
    ) -> None:
        """End ``task_id``'s task now in ``state`` (``"success"`` or ``"fail"``).

        Meant for a running task from :meth:`seed_task`; it works on any task (a created one ends
        at once, and calls back if it has a ``callBackUrl``). ``character_id`` replaces the result's
        id; ``fail_code``/``fail_msg`` default as in :meth:`seed_task`. ``KeyError`` when the fake
        holds no such task.
        """
        _check_choice("state", state, ("success", "fail"))
        try:
            self._state.finish_task(
                task_id,
                state,
                character_id=character_id,
                fail_code=DEFAULT_FAIL_CODE if fail_code is None else fail_code,
                fail_msg=DEFAULT_FAIL_MSG if fail_msg is None else fail_msg,
            )
        except KeyError:
            raise KeyError(f"the fake holds no task {task_id!r}") from None

    def remove_task(self, task_id: str) -> None:
        """Forget ``task_id``'s task, so recordInfo answers as for an unknown id; no error when absent."""
        self._state.remove_task(task_id)

    def override_task(
        self,
        task_id: str | None = None,
        *,
        fields: Mapping[str, Any],
        when_state: str | None = None,
        times: int | None = None,
    ) -> None:
        """Make a task's recordInfo answers (and its callback) show ``fields`` instead of the real ones.

        For testing tolerance to what the docs forgot: an unknown state, a broken ``resultJson``, a
        ``failCode`` as an int. ``task_id``'s task, or (``None``) the next task created. It applies
        while the real state is ``when_state`` (any when ``None``), for the next ``times`` answers
        (every answer when ``None``); several overrides apply in the order given.

        >>> fake.override_task(fields={"state": "paused"}, times=2)  # doctest: +SKIP
        >>> fake.override_task(fields={"resultJson": "{broken"}, when_state="success")  # doctest: +SKIP
        """
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1 (or None for every answer), got {times}")
        override = TaskOverride(dict(fields), when_state=when_state, times=times)
        self._state.add_override(task_id, override)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
