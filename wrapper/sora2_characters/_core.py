"""The shared, I/O-free core of Client and AsyncClient (sans-I/O).

Every operation is a generator that yields *effects* and receives their outcomes:

``Send``    send this HTTP request; the shell sends back the ``httpx.Response`` or the httpx exception.
``Pause``   sleep this many seconds (backoff, rate limit, poll interval); the shell sends back ``None``.
``Notify``  call ``on_update(info)``; the async shell awaits the result if it is awaitable.

A flow is a ``Flow[T]``: a generator that yields effects, receives their outcomes and returns the
operation's result of type ``T`` (as httpx's ``auth_flow`` says what it yields and receives). Request
building, decoding, retry decisions, delays, the poll schedule and the rate limit all live here, once;
argument checks are ``_validation``'s; the two clients only drive the generators with blocking or
awaiting I/O.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from typing import IO, Any, Final, Generic, TypeAlias, TypeVar, cast

import httpx

from ._api import (
    RequestSpec,
    build_create_task,
    build_create_task_from_task,
    build_credits,
    build_task_query,
    build_upload_stream,
    decode_credits,
    decode_envelope,
    decode_upload_envelope,
    not_found_from_task_query,
)
from ._config import Config
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InvalidInputError,
    MalformedResponseError,
    NotFoundError,
    Sora2CharactersError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._logging import logger
from ._models import CreatedTask, TaskInfo, TaskState, UploadedFile
from ._polling import NOT_FOUND_GRACE_S, poll_delay
from ._records import Record, setter
from ._retry import RequestKind, parse_retry_after, retry_delay, should_retry
from ._validation import (
    MAX_MAX_WAIT_S,
    MAX_POLL_INTERVAL_S,
    check_character_name,
    check_positive,
    check_required_text,
    check_segment,
    check_task_id,
    check_text,
    check_url,
)
from ._version import __version__ as _version

__all__ = [
    "MAX_RESPONSE_BYTES",
    "ClientCore",
    "Effect",
    "Flow",
    "Notify",
    "Offload",
    "Outcome",
    "Pause",
    "Received",
    "Route",
    "Send",
    "translate_transport_error",
]

_DEBUG = 10
#: A request near a wait's deadline still gets this long (a last poll at the deadline can succeed).
_MIN_DEADLINE_TIMEOUT_S = 0.5
#: What replaces the API key in any text we produce.
REDACTED: Final = "[redacted]"
#: Longer messages are cut in exceptions (and so in logs and tracebacks), after redaction.
MAX_MESSAGE_CHARS: Final = 1000


#: The largest response body read, counted after decompression (1 MiB; a task record is a few KB).
MAX_RESPONSE_BYTES: Final = 1024 * 1024


class Send(Record):
    """Send one HTTP request.

    ``total`` bounds the whole exchange in seconds: waiting for a request slot, connecting, sending
    and reading the whole response. ``max_body`` bounds the response body (decompressed). A
    ``limiter`` (createTask under ``max_tasks_per_second``) is asked for its grant once the request
    holds its slot, right before it leaves: granted earlier, requests queued for a slot would leave
    together and breach the rate.
    """

    __slots__ = (
        "files",
        "headers",
        "json",
        "limiter",
        "max_body",
        "method",
        "params",
        "timeout",
        "total",
        "url",
    )
    __match_args__ = (
        "method",
        "url",
        "headers",
        "timeout",
        "total",
        "params",
        "json",
        "files",
        "max_body",
        "limiter",
    )

    method: str
    url: str
    headers: httpx.Headers
    timeout: httpx.Timeout
    total: float
    params: dict[str, str] | None
    json: Any
    files: Any
    max_body: int
    limiter: RateLimiter | None

    def __init__(  # noqa: PLR0917 - positional, as the attrs class was
        self,
        method: str,
        url: str,
        headers: httpx.Headers,
        timeout: httpx.Timeout,
        total: float,
        params: dict[str, str] | None = None,
        json: Any = None,
        files: Any = None,
        max_body: int = MAX_RESPONSE_BYTES,
        limiter: RateLimiter | None = None,
    ) -> None:
        put = setter(self)
        put("method", method)
        put("url", url)
        put("headers", headers)
        put("timeout", timeout)
        put("total", total)
        put("params", params)
        put("json", json)
        put("files", files)
        put("max_body", max_body)
        put("limiter", limiter)


class Received(Record):
    """A whole response, its body read (and decompressed) within the limits of its ``Send``."""

    __slots__ = ("content", "headers", "status_code")
    __match_args__ = ("status_code", "headers", "content")

    status_code: int
    headers: httpx.Headers
    content: bytes

    def __init__(self, status_code: int, headers: httpx.Headers, content: bytes) -> None:
        put = setter(self)
        put("status_code", status_code)
        put("headers", headers)
        put("content", content)


class Pause(Record):
    """Sleep for ``seconds``."""

    __slots__ = ("seconds",)
    __match_args__ = ("seconds",)

    seconds: float

    def __init__(self, seconds: float) -> None:
        put = setter(self)
        put("seconds", seconds)


class Notify(Record):
    """Call ``callback(info)``."""

    __slots__ = ("callback", "info")
    __match_args__ = ("callback", "info")

    callback: Callable[[TaskInfo], Any]
    info: TaskInfo

    def __init__(self, callback: Callable[[TaskInfo], Any], info: TaskInfo) -> None:
        put = setter(self)
        put("callback", callback)
        put("info", info)


T = TypeVar("T")
E = TypeVar("E", bound=BaseException)


class Offload(Generic[T]):
    """Run blocking work (reading a file, inspecting a video): the async shell runs it in a thread.

    The shell calls :meth:`run`; the flow reads :meth:`outcome` afterwards.
    """

    __slots__ = ("_error", "_result", "work")

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self._result: T | None = None
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"Offload(work={self.work!r})"

    def run(self) -> None:
        """Do the work, keeping its result or its exception for the flow."""
        try:
            self._result = self.work()
        except Exception as exc:  # noqa: BLE001 - handed back to the flow, which raises it
            self._error = exc

    def outcome(self) -> T:
        """Return the work's result, or raise its exception."""
        if self._error is not None:
            raise self._error
        return cast(T, self._result)


Effect: TypeAlias = "Send | Pause | Notify | Offload[Any]"
#: What a shell sends back: for Send the response read whole, or the transport exception (or our
#: MalformedResponseError for a body past the cap); None for the other effects.
Outcome: TypeAlias = Received | Exception | None
#: An operation: yields effects, receives their outcomes, returns a ``T``.
Flow: TypeAlias = Generator[Effect, Outcome, T]


class Route(Record):
    """How one kind of request is sent: where, with which timeout, retry rules and decoder."""

    __slots__ = ("base_url", "decode", "kind", "timeout")
    __match_args__ = ("kind", "base_url", "timeout", "decode")

    #: The retry rules (see ``_retry``); createTask attempts also pass the rate limit.
    kind: RequestKind
    base_url: str
    timeout: httpx.Timeout
    decode: Callable[[int, bytes], Any]

    def __init__(
        self, kind: RequestKind, base_url: str, timeout: httpx.Timeout, decode: Callable[[int, bytes], Any]
    ) -> None:
        put = setter(self)
        put("kind", kind)
        put("base_url", base_url)
        put("timeout", timeout)
        put("decode", decode)

    @property
    def total(self) -> float:
        """The time limit of one whole request: the longest part of its timeout."""
        timeout = self.timeout  # every part is a number (check_timeout refuses None)
        return max(timeout.connect or 0.0, timeout.read or 0.0, timeout.write or 0.0, timeout.pool or 0.0)


class _DeadlineCutError(Exception):
    """A retry would end after the wait's deadline (internal; ``wait`` turns it into WaitTimeoutError)."""

    def __init__(self, error: Sora2CharactersError) -> None:
        self.error = error
        super().__init__(str(error))


def translate_transport_error(exc: Exception, host: str = "") -> Sora2CharactersError:
    """Translate an httpx exception; ``request_sent`` is False only when nothing can have left.

    ``host`` (the host tried) is named in the message. An error of ours passes through.
    """
    if isinstance(exc, Sora2CharactersError):
        return exc
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    where = f" to {host}" if host else ""
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return APITimeoutError(f"timed out before the request{where} was sent ({text})", request_sent=False)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"timed out after the request{where} was sent ({text})", request_sent=True)
    if isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return APIConnectionError(f"could not connect{where} ({text})", request_sent=False)
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponseError(
            f"the response body{where.replace(' to', ' from')} could not be decoded ({text})"
        )
    return APIConnectionError(f"the connection{where} failed ({text})", request_sent=True)


def _may_have_created(error: Sora2CharactersError) -> bool:
    """Whether a createTask that ended in ``error`` may still have created (and billed) a task."""
    if isinstance(error, APIConnectionError):
        return error.request_sent
    if isinstance(error, MalformedResponseError):
        return True
    if isinstance(error, APIError):
        if error.code is not None:
            return error.code in (500, 501)
        return (error.http_status or 0) >= 500
    return False


def _capped(timeout: httpx.Timeout, seconds: float) -> httpx.Timeout:
    """``timeout`` with no part longer than ``seconds``."""
    parts = (timeout.connect, timeout.read, timeout.write, timeout.pool)
    connect, read, write, pool = (seconds if part is None else min(part, seconds) for part in parts)
    return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)


def _cut(text: str) -> str:
    """Cut a message the server wrote to :data:`MAX_MESSAGE_CHARS` (a proxy may send a whole page)."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    return f"{text[:MAX_MESSAGE_CHARS]}... ({len(text)} characters)"


class RateLimiter:
    """At most ``rate`` grants in any window of one second (1/rate s apart below one per second).

    A grant is recorded at the moment it is given, after any sleep, so a late wake-up never lets
    two grants come closer than the window allows. Safe across threads and asyncio tasks.
    """

    #: Added to the window so scheduling jitter between grant and send cannot breach the limit.
    MARGIN_S = 0.01

    def __init__(self, rate: float) -> None:
        if rate >= 1.0:
            self._capacity = math.floor(rate)
            self._window = 1.0 + self.MARGIN_S
        else:
            self._capacity = 1
            self._window = 1.0 / rate + self.MARGIN_S
        self._grants: deque[float] = deque(maxlen=self._capacity)
        self._lock = threading.Lock()

    def try_acquire(self, now: float) -> float:
        """Grant now and return 0.0, or return how long to wait before trying again."""
        with self._lock:
            grants = self._grants
            if len(grants) < self._capacity:
                grants.append(now)
                return 0.0
            ready_at = grants[0] + self._window
            if now >= ready_at:
                grants.append(now)
                return 0.0
            return ready_at - now


class ClientCore:
    """Configuration plus the generator flows shared by Client and AsyncClient."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], float],
        rng: random.Random,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.clock = clock
        self.rng = rng
        self.wall_clock = wall_clock
        self.headers = httpx.Headers(
            {
                "Authorization": f"Bearer {config.api_key.reveal()}",
                "Accept": "application/json",
                # Only what the body cap can decompress with a bound (see _transport).
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": f"sora2-characters-python/{_version}",
            }
        )
        self.limiter = (
            RateLimiter(config.max_tasks_per_second) if config.max_tasks_per_second is not None else None
        )
        self._read_timeout = config.timeout.read or 0.0
        #: The three kinds of request: the jobs API's queries and createTask, and uploads.
        self.query_route = Route(RequestKind.QUERY, config.base_url, config.timeout, decode_envelope)
        self.create_route = Route(RequestKind.CREATE, config.base_url, config.timeout, decode_envelope)
        self.upload_route = Route(
            RequestKind.UPLOAD, config.upload_base_url, config.upload_timeout, decode_upload_envelope
        )

    def renew_locks(self) -> None:
        """Give a forked child its own rate-limit lock (a parent thread may have held it)."""
        if self.config.max_tasks_per_second is not None:
            self.limiter = RateLimiter(self.config.max_tasks_per_second)

    # -- one request with retries -----------------------------------------------------------------

    def request(
        self,
        spec: RequestSpec | Callable[[], RequestSpec],
        route: Route,
        *,
        deadline: float | None = None,
        on_error: Callable[[APIError], APIError] | None = None,
    ) -> Flow[Any]:
        """Send a request on ``route``, retrying per its rules; return the envelope's ``data``.

        Each attempt as a whole (slot, sending, the whole body) is bounded by the route's total,
        and by ``deadline`` (a ``clock()`` time) when one is given.
        """
        config = self.config
        clock = self.clock
        kind = route.kind
        base = route.base_url
        timeout = route.timeout
        total = route.total
        decode = route.decode
        limiter = self.limiter if kind is RequestKind.CREATE else None
        attempt = 0
        while True:
            current = spec() if callable(spec) else spec
            request_timeout, request_total, cut_short = timeout, total, False
            if deadline is not None:
                remaining = max(deadline - clock(), _MIN_DEADLINE_TIMEOUT_S)
                if remaining < total:
                    request_timeout, request_total = _capped(timeout, remaining), remaining
                    cut_short = True
            started = clock()
            url = base + current.path
            outcome = yield Send(
                method=current.method,
                url=url,
                headers=self.headers,
                timeout=request_timeout,
                total=request_total,
                params=current.params,
                json=current.json,
                files=current.files,
                limiter=limiter,
            )
            status, data, error, cause = self._settle(outcome, url, decode, on_error)
            if logger.isEnabledFor(_DEBUG):
                self._log(current, status, attempt, clock() - started, error)
            if error is None:
                return data
            if cut_short and isinstance(error, APITimeoutError):  # the deadline, not the server, ended it
                raise _DeadlineCutError(error) from (cause or error)
            if attempt < config.max_retries and should_retry(kind, error):
                retry_after = error.retry_after if isinstance(error, APIError) else None
                delay = retry_delay(attempt, self.rng.random(), retry_after)
                if deadline is not None and clock() + delay > deadline:
                    raise _DeadlineCutError(error) from (cause or error)
                attempt += 1
                yield Pause(delay)
                continue
            if cause is not None:
                raise error from cause
            raise error

    def _settle(
        self,
        outcome: Outcome,
        url: str,
        decode: Callable[[int, bytes], Any],
        on_error: Callable[[APIError], APIError] | None,
    ) -> tuple[int | None, Any, Sora2CharactersError | None, BaseException | None]:
        """Decode a response or translate a transport error: ``(status, data, error, cause)``."""
        if not isinstance(outcome, Received):
            assert outcome is not None  # noqa: S101 - the shells send a response or an exception
            error = self.redact(translate_transport_error(outcome, httpx.URL(url).host))
            return None, None, error, (None if error is outcome else outcome)
        status = outcome.status_code
        try:
            return status, decode(status, outcome.content), None, None
        except APIError as exc:
            self.redact(exc)
            if "retry-after" in outcome.headers:  # the decoder sees the body only
                exc.retry_after = parse_retry_after(outcome.headers.get("retry-after"), self.wall_clock())
            return status, None, (on_error(exc) if on_error is not None else exc), None

    def redact(self, error: E) -> E:
        """Blank the API key out of every text of ``error`` (some servers echo the key they refused).

        Messages are redacted first and cut to length after, so no part of a key survives a cut.
        """
        key = self.config.api_key.reveal()
        for name in ("message", "fail_message"):
            text = getattr(error, name, None)
            if isinstance(text, str):
                setattr(error, name, _cut(text.replace(key, REDACTED)))
        error.args = tuple(
            _cut(arg.replace(key, REDACTED)) if isinstance(arg, str) else arg for arg in error.args
        )
        return error

    @staticmethod
    def _log(
        spec: RequestSpec,
        status: int | None,
        attempt: int,
        elapsed: float,
        error: Sora2CharactersError | None = None,
    ) -> None:
        path = spec.path
        if spec.params and "taskId" in spec.params:
            path = f"{path}?taskId={spec.params['taskId']}"
        if error is None:
            logger.debug("%s %s -> %s (attempt %d, %.3f s)", spec.method, path, status, attempt + 1, elapsed)
        else:
            logger.debug(
                "%s %s -> %s (attempt %d, %.3f s): %s: %s",
                spec.method,
                path,
                status if status is not None else "no response",
                attempt + 1,
                elapsed,
                type(error).__name__,
                error,
            )

    # -- operations --------------------------------------------------------------------------------

    def create_character(
        self,
        video_url: str,
        *,
        character_prompt: str | None,
        safety_instruction: str | None,
        callback_url: str | None,
    ) -> Flow[CreatedTask]:
        """createTask: validate, send once (retried only when no task can exist), return CreatedTask."""
        spec = _create_spec(video_url, character_prompt, safety_instruction, callback_url)
        return (yield from self._create(spec, deadline=None))

    def _create(self, spec: RequestSpec, *, deadline: float | None) -> Flow[CreatedTask]:
        """Send createTask; an error after which a task may exist says so (``task_may_exist``)."""
        try:
            try:
                data = yield from self.request(spec, self.create_route, deadline=deadline)
            except _DeadlineCutError as cut:
                raise cut.error from cut
            created = CreatedTask.from_data(data)
            try:
                check_task_id(created.task_id)
            except InvalidInputError as exc:
                raise MalformedResponseError(
                    f"createTask answered an unusable taskId ({exc.message})"
                ) from exc
        except Sora2CharactersError as error:
            if _may_have_created(error):
                error.task_unknown()
            raise
        return created

    def create_character_from_task(
        self,
        origin_task_id: str,
        *,
        start: float,
        end: float,
        character_prompt: str,
        character_user_name: str | None,
        safety_instruction: str | None,
        callback_url: str | None,
    ) -> Flow[CreatedTask]:
        """Send sora-2-characters-pro's createTask: validate, send once (as create_character)."""
        spec = _create_from_task_spec(
            origin_task_id,
            start=start,
            end=end,
            character_prompt=character_prompt,
            character_user_name=character_user_name,
            safety_instruction=safety_instruction,
            callback_url=callback_url,
        )
        return (yield from self._create(spec, deadline=None))

    def get_task(self, task_id: str) -> Flow[TaskInfo]:
        """Query a task once; an unknown id raises NotFoundError (404, or 422 "recordInfo is null")."""
        check_task_id(task_id)
        try:
            return (yield from self._query_task(task_id, deadline=None))
        except Sora2CharactersError as error:
            error.about_task(task_id)
            raise

    def _query_task(self, task_id: str, *, deadline: float | None) -> Flow[TaskInfo]:
        """Query an already checked task id; a record of another task is a MalformedResponseError."""
        data = yield from self.request(
            build_task_query(task_id),
            self.query_route,
            deadline=deadline,
            on_error=not_found_from_task_query,
        )
        info = TaskInfo.from_data(data, task_id=task_id)
        if info.task_id != task_id:
            raise MalformedResponseError(
                f"asked for task {task_id!r}, the service answered the record of task {info.task_id!r}"
            )
        return info

    def get_credits(self) -> Flow[float]:
        """Return the remaining credit balance."""
        data = yield from self.request(build_credits(), self.query_route)
        return decode_credits(data)

    def upload_video(self, source: Any, *, file_name: str | None) -> Flow[UploadedFile]:
        """Validate by content, then stream to the upload endpoint under one unique path for all attempts."""
        from ._uploads import prepare_upload  # noqa: PLC0415 - on the first upload: keeps Client's import small

        prepared = yield from _offload(lambda: prepare_upload(source, file_name=file_name))
        opened: list[IO[bytes]] = []

        def build() -> RequestSpec:
            stream = prepared.open()
            if prepared.owns_stream:
                opened.append(stream)
            return build_upload_stream(
                stream,
                upload_path=prepared.upload_path,
                file_name=prepared.file_name,
                mime_type=prepared.mime_type,
            )

        try:
            data = yield from self.request(build, self.upload_route)
        finally:
            for stream in opened:
                stream.close()
        return UploadedFile.from_data(data)

    def wait(
        self,
        task_id: str,
        *,
        max_wait: float,
        poll_interval: float | None,
        on_update: Callable[[TaskInfo], Any] | None,
    ) -> Flow[TaskInfo]:
        """Poll until the task ends or ``max_wait`` passes; see ``Client.wait``."""
        check_task_id(task_id)
        max_wait_s, interval = self._wait_options(max_wait, poll_interval)
        start = self.clock()
        return (yield from self._wait(task_id, start, max_wait_s, interval, on_update))

    def _wait_options(self, max_wait: float, poll_interval: float | None) -> tuple[float, float | None]:
        """Check ``max_wait`` and ``poll_interval``; the interval defaults to the client's."""
        max_wait_s = check_positive("max_wait", max_wait, limit=MAX_MAX_WAIT_S)
        if poll_interval is None:
            return max_wait_s, self.config.poll_interval
        return max_wait_s, check_positive("poll_interval", poll_interval, limit=MAX_POLL_INTERVAL_S)

    def _wait(
        self,
        task_id: str,
        start: float,
        max_wait_s: float,
        interval: float | None,
        on_update: Callable[[TaskInfo], Any] | None,
        *,
        first_poll_delayed: bool = False,
    ) -> Flow[TaskInfo]:
        """Poll an already checked task id until ``start + max_wait_s``.

        Every error raised names the task (``task_id``) and says how to resume.
        ``first_poll_delayed`` waits one poll interval before the first query: a task just created
        cannot have ended yet, so asking at once would only add a request.
        """
        try:
            return (
                yield from self._poll(
                    task_id, start, max_wait_s, interval, on_update, first_poll_delayed=first_poll_delayed
                )
            )
        except TaskFailedError as failed:
            self.redact(failed)  # the key blanked out of the server's failMsg
            raise
        except Sora2CharactersError as error:
            if error.task_id is None:
                error.about_task(task_id)
            raise

    def _poll(
        self,
        task_id: str,
        start: float,
        max_wait_s: float,
        interval: float | None,
        on_update: Callable[[TaskInfo], Any] | None,
        *,
        first_poll_delayed: bool,
    ) -> Flow[TaskInfo]:
        clock = self.clock
        deadline = start + max_wait_s
        last_state: TaskState | None = None
        if first_poll_delayed:
            now = clock()
            first = interval if interval is not None else poll_delay(now - start, self.rng.random())
            yield Pause(max(0.0, min(first, deadline - now)))
        while True:
            info: TaskInfo | None
            try:
                info = yield from self._query_task(task_id, deadline=deadline)
            except NotFoundError:
                if clock() - start >= NOT_FOUND_GRACE_S:
                    raise
                info = None
            except _DeadlineCutError as cut:
                raise WaitTimeoutError(task_id, last_state, max_wait_s) from cut.error
            if info is not None:
                state = info.state
                if state != last_state:
                    last_state = state
                    if on_update is not None:
                        yield Notify(on_update, info)
                if state is TaskState.SUCCESS:
                    return info
                if state is TaskState.FAIL:
                    raise TaskFailedError(info)
            now = clock()
            remaining = deadline - now
            if remaining <= 0.0:
                raise WaitTimeoutError(task_id, last_state, max_wait_s)
            delay = interval if interval is not None else poll_delay(now - start, self.rng.random())
            yield Pause(min(delay, remaining))

    def create_character_and_wait(
        self,
        video_url: str,
        *,
        character_prompt: str | None,
        safety_instruction: str | None,
        callback_url: str | None,
        max_wait: float,
        poll_interval: float | None,
        on_update: Callable[[TaskInfo], Any] | None,
    ) -> Flow[TaskInfo]:
        """createTask, then wait for it; ``max_wait`` counts from the call, createTask included.

        Every argument is checked before anything is sent. The first query comes one poll interval
        after the create (a task just created cannot have ended).
        """
        max_wait_s, interval = self._wait_options(max_wait, poll_interval)
        spec = _create_spec(video_url, character_prompt, safety_instruction, callback_url)
        return (yield from self._create_and_wait(spec, max_wait_s, interval, on_update))

    def _create_and_wait(
        self,
        spec: RequestSpec,
        max_wait_s: float,
        interval: float | None,
        on_update: Callable[[TaskInfo], Any] | None,
    ) -> Flow[TaskInfo]:
        """Send a checked createTask, then wait; the deadline counts from now, createTask included.

        The first query comes one poll interval after the create: a task just created cannot have
        ended, so asking at once would only add a request.
        """
        start = self.clock()
        created = yield from self._create(spec, deadline=start + max_wait_s)
        return (
            yield from self._wait(
                created.task_id, start, max_wait_s, interval, on_update, first_poll_delayed=True
            )
        )

    def create_character_from_task_and_wait(
        self,
        origin_task_id: str,
        *,
        start: float,
        end: float,
        character_prompt: str,
        character_user_name: str | None,
        safety_instruction: str | None,
        callback_url: str | None,
        max_wait: float,
        poll_interval: float | None,
        on_update: Callable[[TaskInfo], Any] | None,
    ) -> Flow[TaskInfo]:
        """Send sora-2-characters-pro's createTask, then wait (``max_wait`` counts from the call).

        Every argument is checked before anything is sent.
        """
        max_wait_s, interval = self._wait_options(max_wait, poll_interval)
        spec = _create_from_task_spec(
            origin_task_id,
            start=start,
            end=end,
            character_prompt=character_prompt,
            character_user_name=character_user_name,
            safety_instruction=safety_instruction,
            callback_url=callback_url,
        )
        return (yield from self._create_and_wait(spec, max_wait_s, interval, on_update))


def _create_spec(
    video_url: str, character_prompt: str | None, safety_instruction: str | None, callback_url: str | None
) -> RequestSpec:
    """Check createTask's arguments and build its request."""
    check_url("video_url", video_url)
    check_text("character_prompt", character_prompt)
    check_text("safety_instruction", safety_instruction)
    if callback_url is not None:
        check_url("callback_url", callback_url)
    return build_create_task(video_url, character_prompt, safety_instruction, callback_url)


def _create_from_task_spec(
    origin_task_id: str,
    *,
    start: float,
    end: float,
    character_prompt: str,
    character_user_name: str | None,
    safety_instruction: str | None,
    callback_url: str | None,
) -> RequestSpec:
    """Check sora-2-characters-pro's arguments (the segment first) and build its createTask."""
    check_task_id(origin_task_id, field="origin_task_id")
    timestamps = check_segment(start, end)
    check_required_text("character_prompt", character_prompt)
    check_character_name(character_user_name)
    check_text("safety_instruction", safety_instruction)
    if callback_url is not None:
        check_url("callback_url", callback_url)
    return build_create_task_from_task(
        origin_task_id,
        timestamps=timestamps,
        character_prompt=character_prompt,
        character_user_name=character_user_name,
        safety_instruction=safety_instruction,
        callback_url=callback_url,
    )


def _offload(work: Callable[[], T]) -> Flow[T]:
    """Run blocking ``work`` through the shell (in a worker thread on the async client)."""
    effect = Offload(work)
    yield effect
    return effect.outcome()
