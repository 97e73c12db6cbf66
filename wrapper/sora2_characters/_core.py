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
from typing import IO, Any, TypeAlias, TypeVar

import attrs
import httpx

from ._api import (
    RequestSpec,
    build_create_task,
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
    MalformedResponseError,
    NotFoundError,
    Sora2CharactersError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._logging import logger
from ._models import CreatedTask, TaskInfo, TaskState, UploadedFile
from ._polling import NOT_FOUND_GRACE_S, poll_delay
from ._retry import RequestKind, parse_retry_after, retry_delay, should_retry
from ._validation import (
    MAX_MAX_WAIT_S,
    MAX_POLL_INTERVAL_S,
    check_positive,
    check_task_id,
    check_text,
    check_url,
)
from ._version import __version__ as _version

__all__ = [
    "ClientCore",
    "Effect",
    "Flow",
    "Notify",
    "Outcome",
    "Pause",
    "Route",
    "Send",
    "translate_transport_error",
]

_DEBUG = 10
_MIN_DEADLINE_TIMEOUT_S = 1.0


@attrs.frozen(slots=True)
class Send:
    """Send one HTTP request."""

    method: str
    url: str
    headers: httpx.Headers
    timeout: httpx.Timeout
    params: dict[str, str] | None = None
    json: Any = None
    files: Any = None


@attrs.frozen(slots=True)
class Pause:
    """Sleep for ``seconds``."""

    seconds: float


@attrs.frozen(slots=True)
class Notify:
    """Call ``callback(info)``."""

    callback: Callable[[TaskInfo], Any]
    info: TaskInfo


T = TypeVar("T")
Effect: TypeAlias = Send | Pause | Notify
#: What a shell sends back: the response or the transport exception for Send, None otherwise.
Outcome: TypeAlias = httpx.Response | Exception | None
#: An operation: yields effects, receives their outcomes, returns a ``T``.
Flow: TypeAlias = Generator[Effect, Outcome, T]


@attrs.frozen(slots=True)
class Route:
    """How one kind of request is sent: where, with which timeout, retry rules and decoder."""

    #: The retry rules (see ``_retry``); createTask attempts also pass the rate limit.
    kind: RequestKind
    base_url: str
    timeout: httpx.Timeout
    decode: Callable[[int, bytes], Any]


class _DeadlineCutError(Exception):
    """A retry would end after the wait's deadline (internal; ``wait`` turns it into WaitTimeoutError)."""

    def __init__(self, error: Sora2CharactersError) -> None:
        self.error = error
        super().__init__(str(error))


def translate_transport_error(exc: Exception) -> Sora2CharactersError:
    """Translate an httpx exception; ``request_sent`` is False only when nothing can have left."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return APITimeoutError(f"timed out before the request was sent ({text})", request_sent=False)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(f"timed out after the request was sent ({text})", request_sent=True)
    if isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return APIConnectionError(f"could not connect ({text})", request_sent=False)
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponseError(f"the response body could not be decoded ({text})")
    return APIConnectionError(f"the connection failed ({text})", request_sent=True)


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

    # -- one request with retries -----------------------------------------------------------------

    def request(
        self,
        spec: RequestSpec | Callable[[], RequestSpec],
        route: Route,
        *,
        deadline: float | None = None,
        on_error: Callable[[APIError], APIError] | None = None,
    ) -> Flow[Any]:
        """Send a request on ``route``, retrying per its rules; return the envelope's ``data``."""
        config = self.config
        clock = self.clock
        kind = route.kind
        base = route.base_url
        timeout = route.timeout
        decode = route.decode
        limiter = self.limiter if kind is RequestKind.CREATE else None
        attempt = 0
        while True:
            if limiter is not None:
                yield from self._acquire(limiter)
            current = spec() if callable(spec) else spec
            request_timeout = timeout
            if deadline is not None:
                remaining = deadline - clock()
                if remaining < self._read_timeout:
                    request_timeout = httpx.Timeout(max(remaining, _MIN_DEADLINE_TIMEOUT_S))
            started = clock()
            outcome = yield Send(
                method=current.method,
                url=base + current.path,
                headers=self.headers,
                timeout=request_timeout,
                params=current.params,
                json=current.json,
                files=current.files,
            )
            status, data, error, cause = self._settle(outcome, decode, on_error)
            if logger.isEnabledFor(_DEBUG):
                self._log(current, status, attempt, clock() - started, error)
            if error is None:
                return data
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

    def _acquire(self, limiter: RateLimiter) -> Flow[None]:
        delay = limiter.try_acquire(self.clock())
        while delay > 0.0:
            yield Pause(delay)
            delay = limiter.try_acquire(self.clock())

    def _settle(
        self,
        outcome: Outcome,
        decode: Callable[[int, bytes], Any],
        on_error: Callable[[APIError], APIError] | None,
    ) -> tuple[int | None, Any, Sora2CharactersError | None, BaseException | None]:
        """Decode a response or translate a transport error: ``(status, data, error, cause)``."""
        if not isinstance(outcome, httpx.Response):
            assert outcome is not None  # noqa: S101 - the shells send a response or an exception
            return None, None, translate_transport_error(outcome), outcome
        status = outcome.status_code
        try:
            return status, decode(status, outcome.content), None, None
        except APIError as exc:
            self._redact(exc)
            if "retry-after" in outcome.headers:  # the decoder sees the body only
                exc.retry_after = parse_retry_after(outcome.headers.get("retry-after"), self.wall_clock())
            return status, None, (on_error(exc) if on_error is not None else exc), None

    def _redact(self, error: APIError) -> None:
        """Blank the API key out of a message the server wrote (some echo the key they refused)."""
        key = self.config.api_key.reveal()
        if key in error.message:
            error.message = error.message.replace(key, "[redacted]")
            error.args = (error.message,)

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
        check_url("video_url", video_url)
        check_text("character_prompt", character_prompt)
        check_text("safety_instruction", safety_instruction)
        if callback_url is not None:
            check_url("callback_url", callback_url)
        spec = build_create_task(video_url, character_prompt, safety_instruction, callback_url)
        data = yield from self.request(spec, self.create_route)
        return CreatedTask.from_data(data)

    def get_task(self, task_id: str) -> Flow[TaskInfo]:
        """Query a task once; an unknown id raises NotFoundError (404, or 422 "recordInfo is null")."""
        check_task_id(task_id)
        return (yield from self._query_task(task_id, deadline=None))

    def _query_task(self, task_id: str, *, deadline: float | None) -> Flow[TaskInfo]:
        """Query an already checked task id."""
        data = yield from self.request(
            build_task_query(task_id),
            self.query_route,
            deadline=deadline,
            on_error=not_found_from_task_query,
        )
        return TaskInfo.from_data(data, task_id=task_id)

    def get_credits(self) -> Flow[float]:
        """Return the remaining credit balance."""
        data = yield from self.request(build_credits(), self.query_route)
        return decode_credits(data)

    def upload_video(self, source: Any, *, file_name: str | None) -> Flow[UploadedFile]:
        """Validate by content, then stream to the upload endpoint under one unique path for all attempts."""
        from ._uploads import prepare_upload  # noqa: PLC0415 - on the first upload: keeps Client's import small

        prepared = prepare_upload(source, file_name=file_name)
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
        return (yield from self._wait(task_id, max_wait_s, interval, on_update))

    def _wait_options(self, max_wait: float, poll_interval: float | None) -> tuple[float, float | None]:
        """Check ``max_wait`` and ``poll_interval``; the interval defaults to the client's."""
        max_wait_s = check_positive("max_wait", max_wait, limit=MAX_MAX_WAIT_S)
        if poll_interval is None:
            return max_wait_s, self.config.poll_interval
        return max_wait_s, check_positive("poll_interval", poll_interval, limit=MAX_POLL_INTERVAL_S)

    def _wait(
        self,
        task_id: str,
        max_wait_s: float,
        interval: float | None,
        on_update: Callable[[TaskInfo], Any] | None,
        *,
        first_poll_delayed: bool = False,
    ) -> Flow[TaskInfo]:
        """Poll an already checked task id with already checked options.

        ``first_poll_delayed`` waits one poll interval before the first query: a task just created
        cannot have ended yet, so asking at once would only add a request.
        """
        clock = self.clock
        start = clock()
        deadline = start + max_wait_s
        last_state: TaskState | None = None
        if first_poll_delayed:
            first = interval if interval is not None else poll_delay(0.0, self.rng.random())
            yield Pause(min(first, max_wait_s))
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
        """createTask, then wait for it (the wait options are checked before anything is sent).

        The first query comes one poll interval after the create.
        """
        max_wait_s, interval = self._wait_options(max_wait, poll_interval)
        created = yield from self.create_character(
            video_url,
            character_prompt=character_prompt,
            safety_instruction=safety_instruction,
            callback_url=callback_url,
        )
        return (
            yield from self._wait(created.task_id, max_wait_s, interval, on_update, first_poll_delayed=True)
        )
