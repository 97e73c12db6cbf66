"""Fan-out: many ``create_character_and_wait`` calls in flight on one AsyncClient against the fake.

The fake runs in its own process at ``time_scale=1`` (fake seconds are wall seconds here: the
client's own clock and sleep are used unmodified), so the figures include all real request costs.
Wall time is compared with the slowest task's own duration (creation to completion, on the fake)
plus one poll interval of the client's schedule at that point, times 1.25. Requests per task come
from the fake's request log; peak open connections are counted on the server side (established TCP
connections to its port, sampled with psutil inside the fake's process). The rate-limit run checks
the most createTask requests the client issued in any one-second window (an httpx request hook on
the ``http_client`` it is given); how many the fake processed per window is reported beside it,
as queueing on the way can bunch them. A diagnostic times bare httpx (no wrapper) sending the same
burst of createTask requests unbounded and gated to the pool size: why the client holds requests
beyond ``max_concurrent_requests`` (default: the pool size) in its own queue.
"""

from __future__ import annotations

import asyncio
import bisect
import statistics
import time
from collections import Counter
from typing import Any

import httpx
from httpx._config import DEFAULT_LIMITS

from sora2_characters import AsyncClient
from sora2_characters._polling import poll_delay

from ._fake_proc import FakeProcess

VIDEO_URL = "https://files.example.com/sora2-characters/x/character.mp4"
CREATE_PATH = "/api/v1/jobs/createTask"


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open window ``[t, t + window)`` that starts at an event."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        best = max(best, bisect.bisect_left(ordered, start + window) - i)
    return best


async def _fan_out(fake: FakeProcess, tasks: int, rate: float | None, max_wait: float) -> dict[str, Any]:
    sent: list[float] = []  # when the client issued each createTask (before waiting for a connection)

    async def on_request(request: httpx.Request) -> None:
        if request.url.path.endswith(CREATE_PATH):
            sent.append(time.time())

    async with (
        httpx.AsyncClient(event_hooks={"request": [on_request]}) as http,
        AsyncClient(
            fake.api_key,
            base_url=fake.base_url,
            upload_base_url=fake.upload_base_url,
            max_tasks_per_second=rate,
            http_client=http,
        ) as client,
    ):
        fake.command("sample_start")
        start = time.time()
        outcomes = await asyncio.gather(
            *(client.create_character_and_wait(VIDEO_URL, max_wait=max_wait) for _ in range(tasks)),
            return_exceptions=True,
        )
        wall = time.time() - start
        connections = fake.command("sample_stop")
    errors = Counter(type(o).__name__ for o in outcomes if isinstance(o, BaseException))
    return {
        "wall_s": wall,
        "errors": dict(errors),
        "connections": connections,
        "max_creates_sent_in_1s_window": max_in_window(sent),
    }


async def _bare_burst(fake: FakeProcess, count: int, gate: int | None) -> float:
    """Seconds for ``count`` concurrent bare createTask POSTs on one httpx.AsyncClient."""
    body = {"model": "sora-2-characters", "input": {"character_file_url": [VIDEO_URL]}}
    gate_sem = asyncio.Semaphore(gate) if gate is not None else None
    async with httpx.AsyncClient(
        base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}, timeout=300
    ) as http:

        async def one() -> None:
            if gate_sem is None:
                (await http.post(CREATE_PATH, json=body)).raise_for_status()
                return
            async with gate_sem:
                (await http.post(CREATE_PATH, json=body)).raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return time.perf_counter() - start


def pool_diagnostic(count: int) -> dict[str, Any]:
    """Bare httpx, no wrapper: ``count`` concurrent POSTs, unbounded and gated to the pool size.

    httpcore's pool does work proportional to its queue on every enqueue and release (see
    encode/httpcore#1035), so thousands of queued requests cost quadratic CPU in the client.
    """
    pool = DEFAULT_LIMITS.max_connections or 100
    with FakeProcess() as fake:
        unbounded = asyncio.run(_bare_burst(fake, count, None))
        gated = asyncio.run(_bare_burst(fake, count, pool))
    return {"requests": count, "unbounded_s": unbounded, "gated_to_pool_s": gated, "gate": pool}


def _figures(dump: dict[str, Any], tasks: int) -> dict[str, Any]:
    records = dump["tasks"]
    requests = dump["requests"]
    ops = Counter(r["operation"] for r in requests)
    by_task: dict[str, list[float]] = {}
    for r in requests:
        if r["operation"] == "recordInfo" and r["task_id"]:
            by_task.setdefault(r["task_id"], []).append(r["time"])
    gaps = [
        max(b - a for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False))
        for ts in by_task.values()
        if len(ts) > 1
    ]
    created = [t["created_at"] for t in records]
    return {
        "tasks_created": len(records),
        "requests_total": len(requests),
        "requests_per_task": len(requests) / tasks,
        "create_requests": ops.get("createTask", 0),
        "status_requests": ops.get("recordInfo", 0),
        "status_requests_per_task": ops.get("recordInfo", 0) / tasks,
        "slowest_task_s": max((t["ends_at"] - t["created_at"] for t in records), default=0.0),
        "creation_spread_s": (max(created) - min(created)) if created else 0.0,
        "median_largest_poll_gap_s": statistics.median(gaps) if gaps else None,
        "max_creates_processed_in_1s_window": max_in_window(created),
        "creation_rate_per_s": (len(created) - 1) / (max(created) - min(created))
        if len(created) > 1
        else None,
    }


def run(*, tasks: int, task_duration: float, rate_tasks: int, rate: float, diagnostic: int) -> dict[str, Any]:
    """The fan-out run (no rate limit) and the rate-limited run, each on a fresh fake."""
    results: dict[str, Any] = {
        "task_duration_s": task_duration,
        "pool_max_connections": DEFAULT_LIMITS.max_connections,
    }
    # The client's schedule: its longest poll interval at the moment the task ends.
    interval = poll_delay(task_duration, 1.0)
    results["poll_interval_s"] = interval
    max_wait = 60.0 + 10 * task_duration
    variants: tuple[tuple[str, int, float | None], ...] = (
        ("fan_out", tasks, None),
        ("rate_limited", rate_tasks, rate),
    )
    for name, count, limit in variants:
        with FakeProcess() as fake:
            fake.command("configure", time_scale=1.0, task_duration=task_duration)
            run_result = asyncio.run(_fan_out(fake, count, limit, max_wait))
            figures = _figures(fake.command("dump"), count)
        entry: dict[str, Any] = {"tasks": count, "rate_limit_per_s": limit, **run_result, **figures}
        bound = 1.25 * (figures["slowest_task_s"] + interval)
        entry["wall_bound_s"] = bound
        entry["wall_ratio_to_task_plus_poll"] = run_result["wall_s"] / (figures["slowest_task_s"] + interval)
        entry["connections_within_pool"] = run_result["connections"]["peak"] <= DEFAULT_LIMITS.max_connections
        ok = not run_result["errors"] and figures["tasks_created"] == count
        if limit is None:
            entry["met"] = ok and run_result["wall_s"] <= bound and entry["connections_within_pool"]
        else:
            entry["met"] = ok and run_result["max_creates_sent_in_1s_window"] <= limit
        results[name] = entry
    if diagnostic:
        results["httpx_pool_diagnostic"] = pool_diagnostic(diagnostic)
    return results
