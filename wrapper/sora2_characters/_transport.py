"""The shells' I/O limits: a whole request within its time limit, a response body within its cap.

Time: every request has a total time limit (``Send.total``): waiting for a request slot, connecting,
sending and reading the whole response all count. The async client wraps the exchange in a cancel
scope. The blocking client cannot cancel a thread, so on its own connection pool every socket
operation (connect, TLS, each read and write) is given at most the time left until the request's
deadline (:func:`deadline_scope` sets it for the calling thread), and the body is read chunk by
chunk with the clock checked between chunks. A caller's ``http_client`` keeps its own pool: there
the per-operation timeouts are capped to the request's limit and the body check applies.

Memory: the body is read as a stream and decompressed here with a bound on the output
(``Send.max_body``), so a 200 MB body, a gzip bomb or an endless chunked body stops at the cap with
:class:`MalformedResponseError`, holding at most the cap (plus one network chunk) in memory.
"""

from __future__ import annotations

import contextlib
import threading
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ._core import Received
from ._exceptions import MalformedResponseError
from ._validation import is_loopback_host

__all__ = [
    "BodyReader",
    "deadline_scope",
    "install_deadline_backend",
    "loopback_mounts",
    "read_body",
    "read_body_async",
    "time_left",
]

_LOCAL = threading.local()


class _DeadlineScope:
    """Sets this thread's deadline on entry and puts the previous one back on exit."""

    __slots__ = ("_deadline", "_previous")

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline
        self._previous: float | None = None

    def __enter__(self) -> None:
        self._previous = getattr(_LOCAL, "deadline", None)
        _LOCAL.deadline = self._deadline

    def __exit__(self, *exc_info: object) -> None:
        _LOCAL.deadline = self._previous


def deadline_scope(deadline: float) -> contextlib.AbstractContextManager[None]:
    """Give every socket operation of this thread at most until ``deadline`` (``time.monotonic()``).

    A slotted class rather than a ``contextlib.contextmanager`` generator: entered on every blocking
    request, it costs a third as much.
    """
    return _DeadlineScope(deadline)


def time_left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` capped to the time left before this thread's deadline; ``error`` once it passed."""
    deadline: float | None = getattr(_LOCAL, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0.0:
        raise error("the request's total time limit passed")
    return left if timeout is None else min(timeout, left)


def install_deadline_backend(client: httpx.Client) -> bool:
    """Bound every socket operation of our own blocking client by the request's deadline.

    httpx builds its connection pools without a way to pass a network backend, so the pools it
    built (the default one and those of mounted transports, proxies included) get theirs wrapped
    here. Returns whether every pool was reached (a test checks it, so an httpx upgrade that moves
    these attributes fails loudly instead of silently losing the limit).
    """
    # httpcore loads here, with the first blocking client: the pools httpx builds need it anyway,
    # while importing it with this module cost 0.3x ``import httpx`` and loaded anyio.
    from ._deadline import DeadlineBackend  # noqa: PLC0415

    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    reached = True
    for transport in transports:
        if transport is None:
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            reached = False
            continue
        if not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return reached


def loopback_mounts(
    base_urls: tuple[str, ...],
    make: type[httpx.HTTPTransport] | type[httpx.AsyncHTTPTransport],
    **options: Any,
) -> dict[str, httpx.BaseTransport | httpx.AsyncBaseTransport]:
    """Direct transports (no environment proxy) for the loopback hosts among ``base_urls``.

    A request to our own machine never goes through ``HTTP_PROXY``/``ALL_PROXY``: a proxy would
    see the key, over plain http.
    """
    mounts: dict[str, httpx.BaseTransport | httpx.AsyncBaseTransport] = {}
    for base in base_urls:
        url = httpx.URL(base)
        if is_loopback_host(url.host):
            host = f"[{url.host}]" if ":" in url.host else url.host
            if f"all://{host}" not in mounts:  # one transport per host: each is a pool
                mounts[f"all://{host}"] = make(**options)
    return mounts


class BodyReader:
    """Collects a response body, decompressing gzip and deflate itself, never past ``cap`` bytes."""

    def __init__(self, response: httpx.Response, cap: int) -> None:
        self.cap = cap
        self._chunks: list[bytes] = []
        self._size = 0
        self._status = response.status_code
        encoding = response.headers.get("content-encoding", "").strip().lower()
        self._inflater: Any = None
        self._raw = encoding in {"", "identity", "gzip", "x-gzip", "deflate"}
        if encoding in {"gzip", "x-gzip"}:
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._inflater = zlib.decompressobj()
            self._deflate_probe = True

    @property
    def reads_raw(self) -> bool:
        """Whether the body is read raw (decoded here); other encodings are left to httpx."""
        return self._raw

    def feed(self, chunk: bytes) -> None:
        """Add a chunk as received (raw if :attr:`reads_raw`, else already decoded)."""
        if self._inflater is None or not self._raw:
            self._keep(chunk)
            return
        data = chunk
        while data:
            room = self.cap + 1 - self._size
            try:
                out = self._inflater.decompress(data, room)
            except zlib.error as exc:
                if getattr(self, "_deflate_probe", False) and self._size == 0:
                    # "deflate" is sent both zlib-wrapped and raw; retry raw, as httpx does.
                    self._deflate_probe = False
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise MalformedResponseError(
                    f"the response body could not be decompressed ({exc})", http_status=self._status
                ) from exc
            self._deflate_probe = False
            self._keep(out)
            data = self._inflater.unconsumed_tail

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self.cap:
            raise MalformedResponseError(
                f"the response body is larger than {self.cap} bytes (decompressed); reading stopped there",
                http_status=self._status,
            )
        if data:
            self._chunks.append(data)

    def finish(self, response: httpx.Response) -> Received:
        """Return the whole response (the body without its content encoding)."""
        if self._inflater is not None and self._raw:
            self._keep(self._inflater.flush())
        return Received(response.status_code, response.headers, b"".join(self._chunks))


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise httpx.ReadTimeout("the whole response did not arrive within the request's total time limit")


def _already_read(response: httpx.Response, cap: int) -> Received | None:
    """Return the response if a transport handed it over already read (a mock); None for a stream."""
    if not response.is_stream_consumed:  # a network stream, not read yet: spares raising ResponseNotRead
        return None
    try:
        content = response.content
    except httpx.ResponseNotRead:
        return None
    if len(content) > cap:
        raise MalformedResponseError(
            f"the response body is larger than {cap} bytes (decompressed)", http_status=response.status_code
        )
    headers = response.headers.copy()
    headers.pop("content-encoding", None)
    return Received(response.status_code, headers, content)


def read_body(response: httpx.Response, cap: int, deadline: float) -> Received:
    """Read a streamed response whole, within ``cap`` bytes and by ``deadline``."""
    done = _already_read(response, cap)
    if done is not None:
        return done
    reader = BodyReader(response, cap)
    chunks = response.iter_raw() if reader.reads_raw else response.iter_bytes()
    for chunk in chunks:
        _check_deadline(deadline)
        reader.feed(chunk)
    return reader.finish(response)


async def read_body_async(response: httpx.Response, cap: int) -> Received:
    """Read a streamed response whole within ``cap`` bytes (the caller's cancel scope bounds time)."""
    done = _already_read(response, cap)
    if done is not None:
        return done
    reader = BodyReader(response, cap)
    chunks: AsyncIterator[bytes] = response.aiter_raw() if reader.reads_raw else response.aiter_bytes()
    async for chunk in chunks:
        reader.feed(chunk)
    return reader.finish(response)
