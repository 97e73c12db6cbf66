"""Deliver finished tasks to their ``callBackUrl``: one scheduler task in the server's event loop.

Task states are derived lazily, so nothing fires when a task ends; the scheduler wakes when a task
is created and then every few milliseconds while any task with a callback is unfinished, and POSTs
each task once, right after it ends. Only loopback URLs are called (the fake never leaves the
machine); others are recorded as ``refused``. Transport errors are recorded as ``failed`` and never
stop the server.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from sora2_characters._fake.state import CallbackAttempt, FakeState, TaskRecord

TICK = 0.005
IDLE_WAIT = 1.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def callback_payload(task: TaskRecord, now: float) -> dict[str, Any]:
    """Build the body of a task's callback: a recordInfo response (code 200 on success, 501 on failure)."""
    view = task.view(now)
    if view["state"] == "success":
        return {"code": 200, "msg": "success", "data": view}
    return {"code": 501, "msg": view["failMsg"] or "Generation failed", "data": view}


def _signature_headers(task_id: str, secret: str | bytes | None) -> dict[str, str]:
    if secret is None:
        return {}
    from sora2_characters.webhooks import sign  # noqa: PLC0415 - only when signing is on

    return dict(sign(task_id, secret))


async def deliver(state: FakeState, client: httpx.AsyncClient, task: TaskRecord) -> CallbackAttempt:
    """POST ``task``'s callback once and record the attempt."""
    url = task.callback_url or ""
    now = state.now()
    payload = callback_payload(task, now)
    headers = {
        "Content-Type": "application/json",
        **_signature_headers(task.task_id, state.settings.webhook_secret),
    }
    status: int | None = None
    error: str | None = None
    host = httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
    if host not in _LOOPBACK:
        outcome = "refused"
        error = "not a loopback URL: the fake only calls back to this machine"
    else:
        try:
            response = await client.post(url, json=payload, headers=headers)
            status, outcome = response.status_code, "delivered"
        except httpx.HTTPError as exc:
            outcome, error = "failed", f"{type(exc).__name__}: {exc}"
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
    with state.lock:
        state.callbacks.append(attempt)
    return attempt


def _due(state: FakeState) -> tuple[list[TaskRecord], bool]:
    """(tasks to call back now, whether some callback is still to come)."""
    now = state.now()
    due: list[TaskRecord] = []
    waiting = False
    with state.lock:
        for task in state.tasks.values():
            if task.callback_url is None or task.callback_done:
                continue
            if task.state(now) in ("success", "fail"):
                task.callback_done = True
                due.append(task)
            else:
                waiting = True
    return due, waiting


async def run_scheduler(state: FakeState) -> None:
    """Run until cancelled, delivering callbacks as tasks end."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def wakeup() -> None:
        loop.call_soon_threadsafe(wake.set)

    state.wakeup = wakeup
    try:
        async with httpx.AsyncClient(timeout=state.settings.callback_timeout, trust_env=False) as client:
            while True:
                due, waiting = _due(state)
                for task in due:
                    await deliver(state, client, task)
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), TICK if waiting else IDLE_WAIT)
    finally:
        state.wakeup = lambda: None
