"""Client and AsyncClient: thin I/O shells over the shared core in ``_core``.

Both expose the same public methods with the same signatures (a test checks it); the async one
awaits where the sync one blocks. Everything else (validation, requests, decoding, retries, polling,
rate limiting) is the core's.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Generic, Self, TypeVar

import httpx

from ._config import DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_TIMEOUT, DEFAULT_UPLOAD_TIMEOUT, resolve_config
from ._core import ClientCore, Flow, Notify, Outcome, Pause, Send
from ._exceptions import InvalidInputError, MalformedResponseError
from ._logging import setup_from_env
from ._models import CreatedTask, TaskInfo, UploadedFile
from ._polling import DEFAULT_MAX_WAIT_S
from ._tls import LazyTrustContext
from ._transport import deadline_scope, install_deadline_backend, loopback_mounts, read_body, read_body_async
from ._validation import check_http_client

__all__ = ["AsyncClient", "Client"]

_TRANSPORT_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)

#: aiohttp's errors of the connect phase: only these mean that nothing was sent.
_AIOHTTP_CONNECT_ERRORS = frozenset({"ClientConnectorError", "ConnectionTimeoutError"})


def _from_aiohttp(exc: Exception) -> Exception:
    """Correct what the httpx-aiohttp transport reports, so a request that may have left is never retried.

    httpx-aiohttp 0.2.0 turns every ``aiohttp.ClientConnectionError`` into ``httpx.ConnectTimeout``
    (a dropped connection after the request was sent included) and lets other aiohttp errors
    through untranslated. Anything but a connect-phase error becomes ``httpx.ReadError`` (the request
    may have reached the server). Other exceptions are returned unchanged.
    """
    cause = exc if type(exc).__module__.startswith("aiohttp") else exc.__cause__
    if cause is None or not type(cause).__module__.startswith("aiohttp"):
        return exc
    if isinstance(exc, (httpx.ConnectTimeout, httpx.ConnectError)):
        names = {cls.__name__ for cls in type(cause).__mro__}
        if names & _AIOHTTP_CONNECT_ERRORS:
            return exc
    elif isinstance(exc, httpx.HTTPError):
        return exc
    error = httpx.ReadError(f"{type(cause).__name__}: {cause}")
    error.__cause__ = cause
    return error


UploadSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
OnUpdate = Callable[[TaskInfo], object]


_NO_OVERRIDES: dict[str, Any] = {}
#: Stands in for the in-flight gate where a request does not wait for it (see AsyncClient._send).
_NO_GATE = contextlib.nullcontext()


def _overrides(effect: Send, default_timeout: httpx.Timeout | None) -> dict[str, Any]:
    """Return what a request must pass beyond the client's own settings.

    Our own pooled client already carries the headers and the default timeout (``default_timeout``),
    so the usual request passes nothing and skips httpx's per-request merge; a caller's client, an
    upload or a wait near its deadline passes both.
    """
    if effect.timeout is default_timeout:
        return _NO_OVERRIDES
    return {"headers": effect.headers, "timeout": effect.timeout}


T = TypeVar("T")
HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
SleepT = TypeVar("SleepT", Callable[[float], None], Callable[[float], Awaitable[None]])


class _BaseClient(Generic[HttpT, SleepT]):
    """What both clients share: the options, the core, the HTTP client and the sleep (see Client)."""

    #: The ``http_client`` type this client drives, and what to say when it is given another.
    _http_type: ClassVar[type[httpx.Client] | type[httpx.AsyncClient]]
    _http_type_hint: ClassVar[str]

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        upload_base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        upload_timeout: float | httpx.Timeout = DEFAULT_UPLOAD_TIMEOUT,
        max_retries: int = 2,
        poll_interval: float | None = None,
        max_tasks_per_second: float | None = None,
        max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
        http_client: HttpT | None = None,
        allow_insecure_http: bool = False,
        sleep: SleepT | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        check_http_client(http_client, self._http_type, self._http_type_hint)
        setup_from_env()
        config = resolve_config(
            api_key=api_key,
            base_url=base_url,
            upload_base_url=upload_base_url,
            timeout=timeout,
            upload_timeout=upload_timeout,
            max_retries=max_retries,
            poll_interval=poll_interval,
            max_tasks_per_second=max_tasks_per_second,
            max_concurrent_requests=max_concurrent_requests,
            allow_insecure_http=allow_insecure_http,
        )
        self._core = ClientCore(config, clock=clock or time.monotonic, rng=rng or random.Random())  # noqa: S311
        self._owns_http = http_client is None
        # Our own client carries the headers and the default timeout, so the hot path passes neither.
        self._http: HttpT = http_client if http_client is not None else self._new_http()
        self._sleep: SleepT = sleep if sleep is not None else self._default_sleep()
        self._setup_gate()
        self._pid = os.getpid()
        self._closed = False

    def _check_usable(self) -> None:
        """Refuse a closed client; in a child process after ``os.fork()``, renew what the parent owns.

        A forked child shares the parent's pooled sockets (two processes reading one connection mix
        up responses) and may inherit a lock held by a parent thread: it gets its own pool, request
        slots and rate-limit lock. The old pool is dropped, not closed (closing would end the
        parent's connections too). A caller's ``http_client`` is theirs to renew.
        """
        if self._closed:
            raise InvalidInputError("client", "is closed; make a new client (or use it in a with block)")
        if self._pid != os.getpid():
            self._pid = os.getpid()
            if self._owns_http:
                self._http = self._new_http()
            self._setup_gate()
            self._core.renew_locks()
        if self._http.is_closed:
            raise InvalidInputError("http_client", "is closed; pass an open httpx client")

    def _mounts(
        self, transport: type[httpx.HTTPTransport] | type[httpx.AsyncHTTPTransport], tls: ssl.SSLContext
    ) -> dict[str, Any]:
        """Our own pool's direct (proxy-free) transports for loopback base URLs, sharing ``tls``."""
        config = self._core.config
        return loopback_mounts(
            (config.base_url, config.upload_base_url), transport, limits=self._limits(), verify=tls
        )

    def _new_http(self) -> HttpT:
        raise NotImplementedError

    def _setup_gate(self) -> None:
        """Prepare what holds requests beyond ``max_concurrent_requests``."""
        raise NotImplementedError

    def _default_sleep(self) -> SleepT:
        raise NotImplementedError

    def _limits(self) -> httpx.Limits:
        """Our own pool: one connection per request allowed in flight, all kept alive between bursts."""
        size = self._core.config.max_concurrent_requests
        return httpx.Limits(max_connections=size, max_keepalive_connections=size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, upload_base_url={self.upload_base_url!r})"

    @property
    def base_url(self) -> str:
        """The jobs API base URL in use."""
        return self._core.config.base_url

    @property
    def upload_base_url(self) -> str:
        """The File Upload API base URL in use."""
        return self._core.config.upload_base_url


class Client(_BaseClient[httpx.Client, Callable[[float], None]]):
    """The blocking client.

    >>> with Client() as client:  # doctest: +SKIP
    ...     video = client.upload_video("character.mp4")
    ...     task = client.create_character_and_wait(video.download_url, max_wait=600)
    ...     print(task.character_id)

    Args:
        api_key: the Apikley key; defaults to ``APIKLEY_API_KEY``. A missing key raises
            :class:`~sora2_characters.InvalidInputError` here, before any request.
        base_url: the jobs API; defaults to ``APIKLEY_BASE_URL`` or ``https://api.apikley.ru``.
        upload_base_url: the File Upload API; defaults to ``APIKLEY_UPLOAD_BASE_URL`` or
            ``<base_url>/file-upload`` (``https://api.apikley.ru/file-upload`` by default; a
            custom ``base_url`` never sends uploads to the production host).
        timeout: seconds (or an ``httpx.Timeout``) for each jobs request; default 10 s connect, 30 s
            read and write. Applied to every request, also on a caller's ``http_client``. It is also
            each request's total time limit: waiting for a request slot, connecting, sending and
            reading the whole response must end within its longest part (30 s by default), and
            within a wait's ``max_wait``. At most an hour.
        upload_timeout: likewise for uploads; default 10 s connect, 120 s read and write (and in
            total).
        max_retries: retries after the first attempt, for requests that may be retried.
        poll_interval: a fixed poll interval for ``wait``; default: the documented schedule.
        max_tasks_per_second: a client-side limit on createTask attempts, shared by all callers of
            this client; ``None`` for none.
        max_concurrent_requests: requests in flight at once through this client (default 4; our
            own pool is sized to match and keeps every connection alive); more calls wait their turn,
            and the wait counts against the request's total time limit.
        http_client: an ``httpx.Client`` to send every request through (uploads included); it is
            never closed by this client.
        allow_insecure_http: allow plain ``http://`` base URLs to non-loopback hosts, which sends
            the key unencrypted; loopback hosts are always allowed.
        sleep: the function used to sleep (tests inject a fake one).
        clock: a monotonic clock in seconds (tests inject a fake one).
        rng: the random source of the jitter.

    """

    _http_type = httpx.Client
    _http_type_hint = "must be an httpx.Client (use AsyncClient for httpx.AsyncClient)"

    def _setup_gate(self) -> None:
        # One token per request slot: taking one with a timeout is a single C call, where a
        # BoundedSemaphore runs its Python Condition on every acquire and release (2 us a request).
        import queue  # noqa: PLC0415 - with the first client, keeping the package import small

        slots: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(self._core.config.max_concurrent_requests):
            slots.put(None)
        self._gate = slots

    def _new_http(self) -> httpx.Client:
        tls = LazyTrustContext()  # one for the pool and its mounts, loading its CAs at the first handshake
        client = httpx.Client(
            headers=self._core.headers,
            timeout=self._core.config.timeout,
            limits=self._limits(),
            verify=tls,
            mounts=self._mounts(httpx.HTTPTransport, tls),
        )
        install_deadline_backend(client)
        return client

    def _default_sleep(self) -> Callable[[float], None]:
        return time.sleep

    def _run(self, flow: Flow[T]) -> T:
        self._check_usable()
        default_timeout = self._core.config.timeout if self._owns_http else None
        value: Outcome = None
        try:
            while True:
                try:
                    effect = flow.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value = None
                if isinstance(effect, Send):
                    value = self._send(effect, default_timeout)
                elif isinstance(effect, Pause):
                    self._sleep(effect.seconds)
                elif isinstance(effect, Notify):
                    effect.callback(effect.info)
                else:
                    effect.run()
        finally:
            flow.close()

    def _send(self, effect: Send, default_timeout: httpx.Timeout | None) -> Outcome:
        """Send one request and read its body, all within ``effect.total`` seconds."""
        import queue  # noqa: PLC0415 - loaded by _setup_gate

        gate = self._gate
        try:
            gate.get(timeout=effect.total)
        except queue.Empty:
            return httpx.PoolTimeout(f"no request slot came free within {effect.total:g} s")
        try:
            if effect.limiter is not None:  # the rate's grant, taken right before the request leaves
                while (delay := effect.limiter.try_acquire(self._core.clock())) > 0.0:
                    self._sleep(delay)
            deadline = time.monotonic() + effect.total
            with deadline_scope(deadline):
                http = self._http
                request = http.build_request(
                    effect.method,
                    effect.url,
                    params=effect.params,
                    json=effect.json,
                    files=effect.files,
                    **_overrides(effect, default_timeout),
                )
                response = http.send(request, stream=True)
                try:
                    return read_body(response, effect.max_body, deadline)
                finally:
                    response.close()
        except (*_TRANSPORT_ERRORS, MalformedResponseError) as exc:
            return exc
        finally:
            gate.put(None)

    def create_character(
        self,
        video_url: str,
        *,
        character_prompt: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
    ) -> CreatedTask:
        """Create a sora-2-characters task from a 1-4 s video URL; return its ``task_id``.

        Arguments are validated first (:class:`~sora2_characters.InvalidInputError`). The request is
        retried only when no task can have been created (connect failure, 429, 455), so a task is
        never billed twice.
        """
        return self._run(
            self._core.create_character(
                video_url,
                character_prompt=character_prompt,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
            )
        )

    def get_task(self, task_id: str) -> TaskInfo:
        """Query a task once; an unknown id raises :class:`~sora2_characters.NotFoundError`."""
        return self._run(self._core.get_task(task_id))

    def wait(
        self,
        task_id: str,
        *,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        poll_interval: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> TaskInfo:
        """Poll a task until it succeeds; return that :class:`~sora2_characters.TaskInfo`.

        Raises :class:`~sora2_characters.TaskFailedError` when the task fails and
        :class:`~sora2_characters.WaitTimeoutError` when ``max_wait`` seconds pass (no sleep goes past
        the deadline). ``on_update(info)`` is called on every state change. "No such task" is
        tolerated for the first 10 s (a new task may not be visible yet); an unknown state keeps
        polling. Each poll retries transient errors as queries do; once those retries are used up
        the error propagates.
        """
        return self._run(
            self._core.wait(task_id, max_wait=max_wait, poll_interval=poll_interval, on_update=on_update)
        )

    def create_character_and_wait(
        self,
        video_url: str,
        *,
        character_prompt: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        poll_interval: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> TaskInfo:
        """:meth:`create_character`, then :meth:`wait`; return the successful task."""
        return self._run(
            self._core.create_character_and_wait(
                video_url,
                character_prompt=character_prompt,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
                max_wait=max_wait,
                poll_interval=poll_interval,
                on_update=on_update,
            )
        )

    def create_character_from_task(
        self,
        origin_task_id: str,
        *,
        start: float,
        end: float,
        character_prompt: str,
        character_user_name: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
    ) -> CreatedTask:
        """Create a sora-2-characters-pro task: a character from seconds ``start``-``end`` of an earlier task.

        ``origin_task_id`` is a completed video task; the segment must be 1 to 4 seconds long
        (``start >= 0``), sent with at most two decimals. ``character_prompt`` is required,
        ``character_user_name`` at most 40 characters. Arguments are validated before anything is
        sent (:class:`~sora2_characters.InvalidInputError`); sent once, as :meth:`create_character`.
        """
        return self._run(
            self._core.create_character_from_task(
                origin_task_id,
                start=start,
                end=end,
                character_prompt=character_prompt,
                character_user_name=character_user_name,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
            )
        )

    def create_character_from_task_and_wait(
        self,
        origin_task_id: str,
        *,
        start: float,
        end: float,
        character_prompt: str,
        character_user_name: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        poll_interval: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> TaskInfo:
        """:meth:`create_character_from_task`, then :meth:`wait`; return the successful task."""
        return self._run(
            self._core.create_character_from_task_and_wait(
                origin_task_id,
                start=start,
                end=end,
                character_prompt=character_prompt,
                character_user_name=character_user_name,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
                max_wait=max_wait,
                poll_interval=poll_interval,
                on_update=on_update,
            )
        )

    def upload_video(self, source: UploadSource, *, file_name: str | None = None) -> UploadedFile:
        """Validate a video by its content and stream it to the File Upload API.

        ``source`` is a path, ``bytes`` or a binary file object (uploaded from its start). The
        video must be mp4, webm or avi, at most 10 MB and 1-4 s long when its duration can be read.
        It goes to a fresh unique ``uploadPath``, reused by retries. Pass the result's
        ``download_url`` to :meth:`create_character`; uploaded files are temporary.
        """
        return self._run(self._core.upload_video(source, file_name=file_name))

    def get_credits(self) -> float:
        """Return the account's remaining credit balance."""
        return self._run(self._core.get_credits())

    def close(self) -> None:
        """Close the HTTP client if this client created it (a caller's ``http_client`` stays open).

        A closed client refuses further calls with :class:`~sora2_characters.InvalidInputError`.
        """
        self._closed = True
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _TrioSafeGate:
    """The in-flight gate outside asyncio (anyio picks the running library's primitive)."""

    def __init__(self, size: int) -> None:
        import anyio  # noqa: PLC0415 - only outside asyncio

        self._semaphore = anyio.Semaphore(size)

    async def __aenter__(self) -> object:
        await self._semaphore.acquire()
        return self

    async def __aexit__(self, *exc_info: object) -> object:
        self._semaphore.release()
        return None


if TYPE_CHECKING:  # asyncio is imported on the async client's first request, not for the sync client
    import asyncio

    _AsyncGate = asyncio.Semaphore | _TrioSafeGate


async def _to_thread(work: Callable[[], object]) -> None:
    import anyio.to_thread  # noqa: PLC0415 - loaded on first use

    await anyio.to_thread.run_sync(work)


async def _read_files_in_thread(files: Any) -> Any:
    """Return the multipart ``files`` with every file object read to bytes in a worker thread."""
    import anyio.to_thread  # noqa: PLC0415 - loaded on first use

    read: list[tuple[str, Any]] = []
    for field, value in files:
        part = value
        if isinstance(value, tuple) and len(value) >= 2 and hasattr(value[1], "read"):
            content = await anyio.to_thread.run_sync(value[1].read)
            part = (value[0], content, *value[2:])
        read.append((field, part))
    return read


class _AnyioTimeLimit:
    """``anyio.fail_after`` as an async context manager: the time limit outside asyncio (trio)."""

    def __init__(self, seconds: float) -> None:
        import anyio  # noqa: PLC0415 - only outside asyncio

        self._scope = anyio.fail_after(seconds)

    async def __aenter__(self) -> object:
        return self._scope.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return self._scope.__exit__(exc_type, exc, tb)


def _time_limit(seconds: float, gate: _AsyncGate) -> contextlib.AbstractAsyncContextManager[object]:
    """Return a cancel scope raising ``TimeoutError`` after ``seconds``: asyncio's own on asyncio.

    ``asyncio.timeout`` costs a third of ``anyio.fail_after`` (6 us against 15 us per request);
    another async library (where the gate is a :class:`_TrioSafeGate`) gets anyio's.
    """
    if isinstance(gate, _TrioSafeGate):
        return _AnyioTimeLimit(seconds)
    import asyncio  # noqa: PLC0415 - see _AsyncGate

    return asyncio.timeout(seconds)


async def _anyio_sleep(seconds: float) -> None:
    import anyio  # noqa: PLC0415 - imported on first sleep, keeping the package import small

    await anyio.sleep(seconds)


class AsyncClient(_BaseClient[httpx.AsyncClient, Callable[[float], Awaitable[None]]]):
    """The asynchronous client: the same methods as :class:`Client`, awaited.

    >>> async with AsyncClient() as client:  # doctest: +SKIP
    ...     task = await client.create_character_and_wait(url, max_wait=600)

    Arguments are those of :class:`Client`; ``http_client`` is an ``httpx.AsyncClient`` and
    ``sleep`` an async function. ``on_update`` may be a plain or an async function. The upload's
    content inspection and file reads are blocking (a 10 MB file at most). One client may serve
    several event loops in turn (``asyncio.run`` twice): its own connection pool is renewed for
    each new loop (the old pool's sockets are released by the garbage collector; ``aclose()`` before
    a loop ends releases them at once); a caller's ``http_client`` is bound to its loop as httpx
    binds it.
    """

    _http_type = httpx.AsyncClient
    _http_type_hint = "must be an httpx.AsyncClient (use Client for httpx.Client)"

    def _setup_gate(self) -> None:
        # Made per event loop, on first use (see _bind_loop).
        self._loop: object = None
        self._gate: _AsyncGate | None = None

    def _new_http(self) -> httpx.AsyncClient:
        tls = LazyTrustContext()  # one for the pool and its mounts, loading its CAs at the first handshake
        return httpx.AsyncClient(
            headers=self._core.headers,
            timeout=self._core.config.timeout,
            limits=self._limits(),
            verify=tls,
            mounts=self._mounts(httpx.AsyncHTTPTransport, tls),
        )

    def _default_sleep(self) -> Callable[[float], Awaitable[None]]:
        return _anyio_sleep

    def _bind_loop(self) -> _AsyncGate:
        """Return the in-flight gate of the running loop; renew it (and our own pool) for a new loop.

        The gate (``max_concurrent_requests``) belongs to the loop that made it.

        Pooled connections belong to the loop that opened them; reusing them from another loop (two
        ``asyncio.run`` calls) fails with "Event loop is closed". The old pool's loop is gone, so it
        cannot be closed properly (``aclose`` needs that loop), and httpx offers no public way to
        close its sockets synchronously: the old pool is dropped, and its idle connections' sockets
        are released when the garbage collector reclaims them (asyncio may then report an "unclosed
        transport" ``ResourceWarning``). To avoid that, close the client (``async with``) before
        its loop ends. A caller's ``http_client`` is theirs to manage and is never replaced.
        """
        import asyncio  # noqa: PLC0415 - see _AsyncGate

        try:
            loop: object = asyncio.get_running_loop()
        except RuntimeError:  # another async library (trio): its own rules, and its own gate
            if self._gate is None or self._loop is not None:
                self._gate, self._loop = _TrioSafeGate(self._core.config.max_concurrent_requests), None
            return self._gate
        if loop is not self._loop or self._gate is None:  # also after a fork (_check_usable)
            if self._loop is not None and self._owns_http:
                self._http = self._new_http()
            self._loop = loop
            self._gate = asyncio.Semaphore(self._core.config.max_concurrent_requests)
        return self._gate

    async def _run(self, flow: Flow[T]) -> T:
        self._check_usable()
        gate = self._bind_loop()
        default_timeout = self._core.config.timeout if self._owns_http else None
        value: Outcome = None
        try:
            while True:
                try:
                    effect = flow.send(value)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value = None
                if isinstance(effect, Send):
                    value = await self._send(gate, effect, default_timeout)
                elif isinstance(effect, Pause):
                    await self._sleep(effect.seconds)
                elif isinstance(effect, Notify):
                    notified = effect.callback(effect.info)
                    if inspect.isawaitable(notified):
                        await notified
                else:
                    await _to_thread(effect.run)
        finally:
            flow.close()

    async def _take_grant(self, effect: Send) -> None:
        """Wait for the rate limiter's grant (createTask), holding the slot, right before sending."""
        if effect.limiter is not None:
            while (delay := effect.limiter.try_acquire(self._core.clock())) > 0.0:
                await self._sleep(delay)

    async def _send(self, gate: _AsyncGate, effect: Send, default_timeout: httpx.Timeout | None) -> Outcome:
        """Send one request and read its body, all within ``effect.total`` seconds (a cancel scope).

        A file to upload is read in a worker thread first, never on the event loop. The wait for a
        request slot counts against ``effect.total`` only when a deadline cut the request short:
        otherwise it is a place in this client's own queue, behind requests each bounded by their own
        total (10,000 tasks in flight queue for longer than one request may take).
        """
        files = effect.files
        if files is not None:
            files = await _read_files_in_thread(files)
        config = self._core.config
        uncut = effect.timeout is config.timeout or effect.timeout is config.upload_timeout
        queue, slot_in_total = (gate, _NO_GATE) if uncut else (_NO_GATE, gate)
        slot = False
        try:
            async with queue:
                if uncut and effect.limiter is not None:  # the rate's wait stays out of the total
                    await self._take_grant(effect)
                async with _time_limit(effect.total, gate), slot_in_total:
                    slot = True
                    if not uncut and effect.limiter is not None:
                        await self._take_grant(effect)
                    http = self._http
                    request = http.build_request(
                        effect.method,
                        effect.url,
                        params=effect.params,
                        json=effect.json,
                        files=files,
                        **_overrides(effect, default_timeout),
                    )
                    response = await http.send(request, stream=True)
                    try:
                        return await read_body_async(response, effect.max_body)
                    finally:
                        await response.aclose()
        except TimeoutError:
            if not slot:
                return httpx.PoolTimeout(f"no request slot came free within {effect.total:g} s")
            return httpx.ReadTimeout(
                f"the request did not complete within its total limit of {effect.total:g} s"
            )
        except MalformedResponseError as exc:
            return exc
        except _TRANSPORT_ERRORS as exc:
            return exc if self._owns_http else _from_aiohttp(exc)
        except Exception as exc:
            translated = _from_aiohttp(exc)  # an aiohttp error httpx-aiohttp let through
            if translated is exc:
                raise
            return translated

    async def create_character(
        self,
        video_url: str,
        *,
        character_prompt: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
    ) -> CreatedTask:
        """Create a sora-2-characters task; see :meth:`Client.create_character`."""
        return await self._run(
            self._core.create_character(
                video_url,
                character_prompt=character_prompt,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
            )
        )

    async def get_task(self, task_id: str) -> TaskInfo:
        """Query a task once; see :meth:`Client.get_task`."""
        return await self._run(self._core.get_task(task_id))

    async def wait(
        self,
        task_id: str,
        *,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        poll_interval: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> TaskInfo:
        """Poll a task until it succeeds; see :meth:`Client.wait`."""
        return await self._run(
            self._core.wait(task_id, max_wait=max_wait, poll_interval=poll_interval, on_update=on_update)
        )

    async def create_character_and_wait(
        self,
        video_url: str,
        *,
        character_prompt: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        poll_interval: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> TaskInfo:
        """Create a task, then wait for it; see :meth:`Client.create_character_and_wait`."""
        return await self._run(
            self._core.create_character_and_wait(
                video_url,
                character_prompt=character_prompt,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
                max_wait=max_wait,
                poll_interval=poll_interval,
                on_update=on_update,
            )
        )

    async def create_character_from_task(
        self,
        origin_task_id: str,
        *,
        start: float,
        end: float,
        character_prompt: str,
        character_user_name: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
    ) -> CreatedTask:
        """Create a sora-2-characters-pro task; see :meth:`Client.create_character_from_task`."""
        return await self._run(
            self._core.create_character_from_task(
                origin_task_id,
                start=start,
                end=end,
                character_prompt=character_prompt,
                character_user_name=character_user_name,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
            )
        )

    async def create_character_from_task_and_wait(
        self,
        origin_task_id: str,
        *,
        start: float,
        end: float,
        character_prompt: str,
        character_user_name: str | None = None,
        safety_instruction: str | None = None,
        callback_url: str | None = None,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        poll_interval: float | None = None,
        on_update: OnUpdate | None = None,
    ) -> TaskInfo:
        """Create a pro task, then wait; see :meth:`Client.create_character_from_task_and_wait`."""
        return await self._run(
            self._core.create_character_from_task_and_wait(
                origin_task_id,
                start=start,
                end=end,
                character_prompt=character_prompt,
                character_user_name=character_user_name,
                safety_instruction=safety_instruction,
                callback_url=callback_url,
                max_wait=max_wait,
                poll_interval=poll_interval,
                on_update=on_update,
            )
        )

    async def upload_video(self, source: UploadSource, *, file_name: str | None = None) -> UploadedFile:
        """Validate and stream a video to the File Upload API; see :meth:`Client.upload_video`."""
        return await self._run(self._core.upload_video(source, file_name=file_name))

    async def get_credits(self) -> float:
        """Return the account's remaining credit balance."""
        return await self._run(self._core.get_credits())

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it (a caller's ``http_client`` stays open).

        A closed client refuses further calls with :class:`~sora2_characters.InvalidInputError`.
        """
        self._closed = True
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
