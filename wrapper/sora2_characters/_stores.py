"""Where a callback receiver remembers the task outcomes it has handled: memory, SQLite or Redis.

One small protocol, :class:`OutcomeStore`, with three operations on a key (one task outcome):

- ``claim(key)``: ``True`` when the caller may handle the outcome now. It is ``False`` when the
  outcome was already handled, or another delivery holds a live claim on it. A claim lapses after
  ``lease`` seconds, so a worker that died in the middle of a handler does not block the outcome
  forever.
- ``complete(key)``: the handler succeeded; the outcome is never claimed again.
- ``release(key)``: the handler failed; the next delivery may claim it.

Every operation is atomic in the backing store, so any number of threads, worker processes
(``SQLiteStore``) or machines (``RedisStore``) can share one store. Bring your own store by
implementing the three methods (and ``close``); ``check`` is called once at start-up.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, Protocol, runtime_checkable

from ._exceptions import StoreError

__all__ = [
    "DEFAULT_LEASE_S",
    "MemoryStore",
    "OutcomeStore",
    "RedisStore",
    "SQLiteStore",
    "store_from_url",
]

#: Seconds a claim holds before another delivery may take the outcome over (a crashed handler).
DEFAULT_LEASE_S: Final = 300.0
_CLAIMED: Final = "claimed"
_DONE: Final = "done"


@runtime_checkable
class OutcomeStore(Protocol):
    """What :class:`~sora2_characters.webhooks.CallbackApp` needs to deliver each outcome once."""

    def check(self) -> None:
        """Raise :class:`~sora2_characters.StoreError` when the store cannot be used (called at start)."""

    def claim(self, key: str) -> bool:
        """Atomically take ``key``; ``False`` when it is done or held by a live claim."""

    def complete(self, key: str) -> None:
        """Mark ``key`` handled for good."""

    def release(self, key: str) -> None:
        """Drop the claim on ``key`` so a later delivery can handle it."""

    def close(self) -> None:
        """Free the store's connections."""


def _key_bytes(key: str) -> bytes:
    """Return ``key`` as bytes; a lone surrogate (JSON can put one in a task id) is kept, not refused."""
    return key.encode("utf-8", "surrogatepass")


def _check_lease(lease: float) -> float:
    if isinstance(lease, bool) or not isinstance(lease, (int, float)) or not lease > 0:
        raise StoreError(f"lease must be a positive number of seconds, got {lease!r}")
    return float(lease)


class MemoryStore:
    """An in-process store: for one worker process (and tests). Safe across threads."""

    def __init__(
        self, *, lease: float = DEFAULT_LEASE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lease = _check_lease(lease)
        self._clock = clock
        self._lock = threading.Lock()
        self._claims: dict[str, float] = {}
        self._done: set[str] = set()

    def __repr__(self) -> str:
        return f"MemoryStore(done={len(self._done)}, claimed={len(self._claims)})"

    def check(self) -> None:
        """Nothing to check: memory is always there."""

    def claim(self, key: str) -> bool:
        """Take ``key`` unless it is done or held by a claim younger than the lease."""
        with self._lock:
            if key in self._done:
                return False
            now = self._clock()
            held = self._claims.get(key)
            if held is not None and held > now:
                return False
            self._claims[key] = now + self._lease
            return True

    def complete(self, key: str) -> None:
        """Mark ``key`` handled."""
        with self._lock:
            self._claims.pop(key, None)
            self._done.add(key)

    def release(self, key: str) -> None:
        """Drop the claim on ``key``."""
        with self._lock:
            self._claims.pop(key, None)

    def close(self) -> None:
        """Nothing to free."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    key BLOB PRIMARY KEY,
    status TEXT NOT NULL,
    expires REAL NOT NULL
)
"""
# One statement, so SQLite makes it atomic across processes: insert a claim, or take over a lapsed one.
_CLAIM = """
INSERT INTO outcomes (key, status, expires) VALUES (?, 'claimed', ?)
ON CONFLICT (key) DO UPDATE SET expires = excluded.expires
WHERE outcomes.status = 'claimed' AND outcomes.expires <= ?
"""


class SQLiteStore:
    """A store in one SQLite file: for several worker processes on one machine.

    The file is opened in WAL mode with a busy timeout, and each claim is a single atomic statement,
    so concurrent writers (uvicorn or gunicorn workers) never both claim one outcome. Each thread gets
    its own connection. The clock is wall time (``time.time``), shared by every process.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        lease: float = DEFAULT_LEASE_S,
        busy_timeout: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self._lease = _check_lease(lease)
        self._busy_timeout = busy_timeout
        self._clock = clock
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            conn = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite store {self.path}: {exc}") from exc
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def _execute(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._connection().execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"the SQLite store {self.path} failed: {exc}") from exc

    def check(self) -> None:
        """Open the file and create the table; raise :class:`StoreError` when that fails."""
        self._execute("SELECT count(*) FROM outcomes", ())

    def claim(self, key: str) -> bool:
        """Take ``key`` unless it is done or held by a claim younger than the lease."""
        now = self._clock()
        return self._execute(_CLAIM, (_key_bytes(key), now + self._lease, now)).rowcount == 1

    def complete(self, key: str) -> None:
        """Mark ``key`` handled."""
        self._execute(
            "INSERT INTO outcomes (key, status, expires) VALUES (?, 'done', 0) "
            "ON CONFLICT (key) DO UPDATE SET status = 'done'",
            (_key_bytes(key),),
        )

    def release(self, key: str) -> None:
        """Drop the claim on ``key``."""
        self._execute("DELETE FROM outcomes WHERE key = ? AND status = 'claimed'", (_key_bytes(key),))

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()


_RELEASE_SCRIPT = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class RedisStore:
    """A store in Redis (extra ``redis``): for receivers on many machines behind a load balancer.

    A claim is ``SET key claimed NX PX lease``; a completed outcome is kept for ``ttl`` seconds
    (default 30 days: far longer than any redelivery). Keys are prefixed with ``prefix``.
    """

    def __init__(
        self,
        url: str,
        *,
        lease: float = DEFAULT_LEASE_S,
        ttl: float = 30 * 86400.0,
        prefix: str = "sora2-characters:outcome:",
        socket_timeout: float = 5.0,
    ) -> None:
        try:
            import redis  # noqa: PLC0415 - the 'redis' extra
        except ImportError as exc:
            raise StoreError(
                "RedisStore needs the 'redis' extra: pip install 'sora2-characters[redis]'"
            ) from exc
        self._lease_ms = int(_check_lease(lease) * 1000)
        self._ttl_ms = int(_check_lease(ttl) * 1000)
        self._prefix = _key_bytes(prefix)
        self._redis_error: type[Exception] = redis.RedisError
        try:
            self._client: Any = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
            )
        except (ValueError, redis.RedisError) as exc:
            raise StoreError(f"not a usable Redis URL: {_without_password(url)}") from exc
        self._url = _without_password(url)
        self._release = self._client.register_script(_RELEASE_SCRIPT)

    def __repr__(self) -> str:
        return f"RedisStore({self._url!r})"

    def _call(self, what: str, func: Callable[[], Any]) -> Any:
        try:
            return func()
        except self._redis_error as exc:
            raise StoreError(f"Redis at {self._url} failed ({what}): {type(exc).__name__}: {exc}") from exc

    def check(self) -> None:
        """Ping the server; raise :class:`StoreError` when it is down or refuses us."""
        self._call("ping", self._client.ping)

    def claim(self, key: str) -> bool:
        """Take ``key`` unless it is done or held by a live claim."""
        name = self._prefix + _key_bytes(key)
        return bool(self._call("claim", lambda: self._client.set(name, _CLAIMED, nx=True, px=self._lease_ms)))

    def complete(self, key: str) -> None:
        """Mark ``key`` handled (kept for ``ttl``)."""
        name = self._prefix + _key_bytes(key)
        self._call("complete", lambda: self._client.set(name, _DONE, px=self._ttl_ms))

    def release(self, key: str) -> None:
        """Drop the claim on ``key`` (a completed key stays completed)."""
        name = self._prefix + _key_bytes(key)
        self._call("release", lambda: self._release(keys=[name], args=[_CLAIMED]))

    def close(self) -> None:
        """Close the connection pool."""
        with contextlib.suppress(Exception):
            self._client.close()


def _without_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (URLs end up in error messages)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in userinfo else f"{scheme}://***@{host}"


def store_from_url(url: str) -> OutcomeStore:
    """Build a store from ``memory:``, ``sqlite:PATH`` or ``redis://...`` (also ``rediss://``, ``unix://``)."""
    if url == "memory:":
        return MemoryStore()
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:")
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise StoreError("sqlite: needs a file path, e.g. sqlite:callbacks.sqlite")
        return SQLiteStore(path)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url)
    raise StoreError(
        f"unknown store {_without_password(url)!r}: use memory:, sqlite:PATH or redis://HOST:PORT/DB"
    )
