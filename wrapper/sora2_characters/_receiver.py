"""The callback receiver: an ASGI app that verifies, deduplicates and acknowledges Apikley's callbacks.

It is plain ASGI (no framework), so it runs under uvicorn, gunicorn's uvicorn workers or any other
ASGI server, and mounts inside Starlette or FastAPI. Each delivery goes through the same steps:

1. ``POST`` on ``path`` only (405 / 404 otherwise); a body over ``max_body`` bytes answers 413.
2. With a ``secret``, the signature is verified (401 with our error text, never the secret).
3. The body is parsed into a :class:`~sora2_characters.TaskInfo` (400 when malformed).
4. The outcome (task id and final state) is claimed in the :class:`OutcomeStore`; an outcome already
   handled, or being handled by a concurrent delivery, is acknowledged without calling the handler.
5. ``handler(info)`` runs (a sync handler in a worker thread, an async one awaited). When it
   returns, the outcome is completed and the answer is ``{"code": 200, "msg": "success"}``; when it
   raises, the claim is released and the answer is 500, so the next delivery retries it.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any, Final

from ._exceptions import MalformedResponseError, StoreError, WebhookVerificationError
from ._models import TaskInfo
from ._stores import MemoryStore, OutcomeStore

__all__ = ["DEFAULT_MAX_BODY", "CallbackApp", "outcome_key"]

#: The largest callback body accepted, in bytes (a real one is about 2 KB).
DEFAULT_MAX_BODY: Final = 1024 * 1024

_log = logging.getLogger("sora2_characters.webhooks")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[TaskInfo], Any]


def outcome_key(info: TaskInfo) -> str:
    """Return the deduplication key of a callback: its task id and state (one outcome per task)."""
    return f"{info.task_id}:{info.state.value}"


class _BodyTooLargeError(Exception):
    pass


class CallbackApp:
    """An ASGI app for ``callBackUrl``: each task outcome reaches ``handler`` once.

    >>> from sora2_characters.webhooks import CallbackApp, SQLiteStore
    >>> def handler(info):
    ...     print(info.task_id, info.state, info.character_id)
    >>> app = CallbackApp(handler, secret="s3cret", store=SQLiteStore("callbacks.sqlite"))
    >>> # uvicorn module:app --workers 4

    Args:
        handler: called with the :class:`~sora2_characters.TaskInfo` of each new outcome; may be a
            plain function (run in a thread) or a coroutine function (awaited). Raise to refuse the
            delivery (answered 500, retried on the next delivery).
        secret: the webhook secret; when given, unsigned, badly signed or stale deliveries are refused
            with 401 and never reach the handler.
        store: where handled outcomes are remembered (default: a :class:`MemoryStore`, which is right
            for one worker process only; use :class:`SQLiteStore` or :class:`RedisStore` for more).
        tolerance: seconds a signature's timestamp may be away from now.
        path: the path the callbacks are POSTed to.
        max_body: the largest body accepted, in bytes (413 above it).

    """

    def __init__(
        self,
        handler: Handler,
        *,
        secret: str | bytes | None = None,
        store: OutcomeStore | None = None,
        tolerance: float = 300.0,
        path: str = "/",
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        if not callable(handler):
            raise TypeError("handler must be callable: handler(info) -> None")
        if secret is not None and not secret:
            raise ValueError("secret must be non-empty (or None for no verification)")
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
            raise ValueError("tolerance must be a non-negative number of seconds")
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body <= 0:
            raise ValueError("max_body must be a positive number of bytes")
        self.handler = handler
        self._secret = secret
        self.store: OutcomeStore = store if store is not None else MemoryStore()
        self.tolerance = float(tolerance)
        self.path = path
        self.max_body = max_body
        self._is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004 - an object whose __call__ is async
        )

    def __repr__(self) -> str:
        signed = "signed" if self._secret is not None else "unsigned"
        return f"CallbackApp(path={self.path!r}, {signed}, store={self.store!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI event (HTTP requests and lifespan; anything else is ignored)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":  # websockets and the like are not ours
            return
        status, message = await self._handle(scope, receive)
        body = json.dumps({"code": status, "msg": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await _in_thread(self.store.check)
                except StoreError as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _in_thread(self.store.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope.get("headers", ()), b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise _BodyTooLargeError
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _BodyTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, str]:
        accepted = await self._accept(scope, receive)
        if not isinstance(accepted, TaskInfo):
            return accepted
        return await self._deliver(accepted)

    async def _accept(self, scope: Scope, receive: Receive) -> TaskInfo | tuple[int, str]:
        """Return the verified, parsed callback, or the refusal to answer."""
        if _own_path(scope) != self.path:
            return 404, f"callbacks are received on {self.path}"
        if scope.get("method") != "POST":
            return 405, "callbacks are POSTed"
        try:
            body = await self._read_body(scope, receive)
        except _BodyTooLargeError:
            return 413, f"the callback body is over {self.max_body} bytes"
        try:
            if self._secret is not None:
                from .webhooks import verify_signature  # noqa: PLC0415 - webhooks re-exports this module

                verify_signature(body, scope.get("headers", ()), self._secret, tolerance=self.tolerance)
            return _parse(body)
        except WebhookVerificationError as exc:
            return 401, str(exc)
        except MalformedResponseError as exc:
            return 400, exc.message

    async def _deliver(self, info: TaskInfo) -> tuple[int, str]:
        """Claim the outcome, run the handler once, and record the result."""
        key = outcome_key(info)
        try:
            claimed = await _in_thread(self.store.claim, key)
        except StoreError as exc:
            _log.error("callback for task %s not handled: %s", info.task_id, exc)
            return 503, "the outcome store is unavailable; deliver again later"
        if not claimed:
            return 200, "success"
        try:
            if self._is_async:
                await self.handler(info)
            else:
                await _in_thread(self.handler, info)
        except Exception:  # noqa: BLE001 - any handler failure means: not handled, retry later
            _log.exception(
                "the callback handler failed on task %s; a later delivery retries it", info.task_id
            )
            await _quietly(self.store.release, key)
            return 500, "the handler failed; deliver again"
        except BaseException:
            await _quietly(self.store.release, key)
            raise
        try:
            await _in_thread(self.store.complete, key)
        except StoreError as exc:
            # The handler ran; the claim lapses after its lease, so a later delivery may repeat it.
            _log.error("task %s handled, but not recorded as handled: %s", info.task_id, exc)
        return 200, "success"


async def _in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run blocking ``func`` in a worker thread (anyio loads with the first request, not on import)."""
    import anyio.to_thread  # noqa: PLC0415 - ``import sora2_characters.webhooks`` stays light

    return await anyio.to_thread.run_sync(func, *args)


def _own_path(scope: Scope) -> str:
    """Return the request path below the mount point (Starlette's ``Mount`` keeps it in ``root_path``)."""
    path = str(scope.get("path", ""))
    root = str(scope.get("root_path", ""))
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def _parse(body: bytes) -> TaskInfo:
    from .webhooks import parse_callback  # noqa: PLC0415 - webhooks re-exports this module

    info = parse_callback(body)
    if not info.task_id:
        raise MalformedResponseError("the callback has no data.taskId")
    return info


async def _quietly(func: Callable[[str], None], key: str) -> None:
    try:
        await _in_thread(func, key)
    except StoreError as exc:
        _log.error("could not release the claim on %s (it lapses after its lease): %s", key, exc)


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None
