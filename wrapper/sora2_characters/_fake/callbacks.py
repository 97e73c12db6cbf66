"""Deliver finished tasks to their ``callBackUrl``: one scheduler task in the server's event loop.

Task states are derived lazily, so nothing fires when a task ends; the scheduler wakes when a task
is created and then every few milliseconds while any task with a callback is unfinished, and POSTs
each task once, right after it ends. Only loopback URLs are called (the fake never leaves the
machine); others are recorded as ``refused``. Any error of one delivery (a transport error, or a
URL httpx cannot even use, such as port 99999) is recorded as ``failed`` and never stops the
scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from sora2_characters._fake.responses import dumps
from sora2_characters._fake.schema import is_loopback_url
from sora2_characters._fake.state import CallbackAttempt, ErrorStyle, FakeState, TaskRecord
from sora2_characters._tls import LazyTrustContext

TICK = 0.005
IDLE_WAIT = 1.0


#: The live callback's content type and client (okhttp), as captured.
LIVE_CALLBACK_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "okhttp/4.12.0"}
LIVE_SUCCESS_MSG = "Playground task completed successfully."
LIVE_FAILURE_MSG = "Playground task failed."


def callback_payload(view: dict[str, Any], style: ErrorStyle = "live") -> dict[str, Any]:
    """Build the body of a task's callback from its final view (code 200 on success, 501 on failure).

    Live: the captured messages, and no ``failCode``/``failMsg`` keys on success. ``http``: the
    recordInfo envelope as documented.
    """
    success = view.get("state") == "success"
    if style == "live":
        data = {
            key: value for key, value in view.items() if not success or key not in {"failCode", "failMsg"}
        }
        if success:
            return {"code": 200, "msg": LIVE_SUCCESS_MSG, "data": data}
        return {"code": 501, "msg": LIVE_FAILURE_MSG, "data": data}
    if success:
        return {"code": 200, "msg": "success", "data": view}
    return {"code": 501, "msg": view.get("failMsg") or "Generation failed", "data": view}


def _signature_headers(task_id: str, secret: str | bytes | None) -> dict[str, str]:
    if secret is None:
        return {}
    from sora2_characters.webhooks import sign  # noqa: PLC0415 - only when signing is on

    return dict(sign(task_id, secret))


def _describe(exc: BaseException) -> str:
    """``Type: message`` of the error, looking inside exception groups (anyio wraps some in one)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


async def deliver(
    state: FakeState, client: httpx.AsyncClient, task: TaskRecord, view: dict[str, Any]
) -> CallbackAttempt:
    """POST ``task``'s callback (its final ``view``) once and record the attempt."""
    url = task.callback_url or ""
    now = state.now()
    style = state.settings.error_style
    payload = callback_payload(view, style)
    base = LIVE_CALLBACK_HEADERS if style == "live" else {"Content-Type": "application/json"}
    headers = {**base, **_signature_headers(task.task_id, state.settings.webhook_secret)}
    status: int | None = None
    error: str | None = None
    if not is_loopback_url(url):
        outcome = "refused"
        error = "not a loopback URL: the fake only calls back to this machine"
    else:
        try:
            response = await client.post(url, content=dumps(payload), headers=headers)
            status, outcome = response.status_code, "delivered"
        except Exception as exc:  # noqa: BLE001 - one bad callback must not stop the scheduler
            outcome, error = "failed", _describe(exc)
    attempt = CallbackAttempt(
        task_id=task.task_id,
        url=url,
        outcome=outcome,  # type: ignore[arg-type]
        status_code=status,
        error=error,
        headers=headers,
        payload=payload,
        time=now,
    )
    state.record_callback(attempt)
    return attempt


async def run_scheduler(state: FakeState) -> None:
    """Run until cancelled, delivering callbacks as tasks end."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def wakeup() -> None:
        loop.call_soon_threadsafe(wake.set)

    state.wakeup = wakeup
    try:
        # The CA bundle loads at the first TLS handshake, not here: 33 ms of CPU that every fake paid
        # at start-up, although its callbacks go to loopback over plain http.
        tls = LazyTrustContext()
        timeout = state.settings.callback_timeout
        async with httpx.AsyncClient(timeout=timeout, trust_env=False, verify=tls) as client:
            while True:
                due, waiting = state.due_callbacks()
                for task, view in due:
                    await deliver(state, client, task, view)
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), TICK if waiting else IDLE_WAIT)
    finally:
        state.wakeup = lambda: None
