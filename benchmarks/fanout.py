"""Fan-out: many ``create_character_and_wait`` calls in flight on one AsyncClient with its DEFAULT settings.

The fake runs in its own process at ``time_scale=1`` (fake seconds are wall seconds), so every
figure includes the real request costs. The client is ``AsyncClient(key, base_url=..., upload_base_url=...)``:
the pool, the in-flight gate and the poll schedule users get. Contenders, on the same fake, in
rotating order, ``runs`` times each:

- ``sdk``: the default AsyncClient;
- ``peer``: a hand-tuned bare-httpx loop doing the same create and poll schedule (one
  ``httpx.AsyncClient`` whose pool, like its ``asyncio.Semaphore``, allows ``PEER_GATE`` requests:
  4, the default client's own size; at 1,000 tasks the peer's walls with 2, 3, 4 and 5 were within
  the noise of each other, its CPU per request lowest with 2-3 (``--who peer --pool 2 3 4 5``);
- ``aiohttp`` (when ``httpx-aiohttp`` is installed): the AsyncClient on ``HttpxAiohttpClient()``.

The ideal wall is the task's duration plus the first poll interval's longest draw (the client
cannot notice the end sooner); requests come from the fake's log. Client CPU is this process's
CPU time (the fake is another process) per request, compared with an isolated call's: sequential
``get_task`` calls on the same client. Open sockets are counted client side as file descriptors
above the count before the run, sampled with RSS every ``SAMPLE_EVERY_S`` (one ``/proc`` listing:
nothing is asked of the fake while it serves). ``scale`` runs the default client at several task
counts (10 ... 10,000) to check the pool choice beyond one point.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]  # no stubs for the pinned psutil

from sora2_characters import AsyncClient
from sora2_characters._polling import poll_delay

from ._fake_proc import FakeProcess

VIDEO_URL = "https://files.example.com/sora2-characters/x/character.mp4"
CREATE_PATH = "/api/v1/jobs/createTask"
QUERY_PATH = "/api/v1/jobs/recordInfo"
#: The bare-httpx peer's pool size and semaphore (chosen by measurement: see the module docstring).
PEER_GATE = 4
SAMPLE_EVERY_S = 0.25
#: The longest first poll interval of the default schedule (its draw at 1.0).
FIRST_POLL_MAX_S = poll_delay(0.0, 1.0)

Outcome = dict[str, Any]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open window ``[t, t + window)`` that starts at an event."""
    ordered = sorted(times)
    best = 0
    for i, start in enumerate(ordered):
        best = max(best, bisect.bisect_left(ordered, start + window) - i)
    return best


class _Sampler:
    """Peak open file descriptors (above the start) and peak RSS of this process, sampled slowly."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.base_fds: int = self.process.num_fds()
        self.base_rss: int = self.process.memory_info().rss
        self.peak_fds = self.base_fds
        self.peak_rss = self.base_rss
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    def _sample(self) -> None:
        self.peak_fds = max(self.peak_fds, self.process.num_fds())
        self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)
        self.samples += 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            self._sample()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> dict[str, Any]:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._sample()
        return {
            "peak_sockets": self.peak_fds - self.base_fds,
            "peak_rss_mib": self.peak_rss / 2**20,
            "rss_rise_mib": (self.peak_rss - self.base_rss) / 2**20,
            "samples": self.samples,
        }


async def _measure(jobs: Callable[[], list[Awaitable[Any]]]) -> Outcome:
    """Run the jobs concurrently; wall, client CPU, errors, sockets and memory."""
    gc.collect()
    sampler = _Sampler()
    sampler.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    outcomes = await asyncio.gather(*jobs(), return_exceptions=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    sampled = await sampler.stop()
    errors = Counter(type(o).__name__ for o in outcomes if isinstance(o, BaseException))
    return {"wall_s": wall, "cpu_s": cpu, "errors": dict(errors), **sampled}


def _sdk_client(fake: FakeProcess, transport: str, pool: int | None = None) -> AsyncClient:
    if transport == "aiohttp":
        import httpx_aiohttp  # type: ignore[import-not-found,unused-ignore]  # the `aiohttp` extra

        http = httpx_aiohttp.HttpxAiohttpClient()
        return AsyncClient(
            fake.api_key, base_url=fake.base_url, upload_base_url=fake.upload_base_url, http_client=http
        )
    if pool is not None:  # the sweep: what the default would be with another size
        return AsyncClient(
            fake.api_key,
            base_url=fake.base_url,
            upload_base_url=fake.upload_base_url,
            max_concurrent_requests=pool,
        )
    return AsyncClient(fake.api_key, base_url=fake.base_url, upload_base_url=fake.upload_base_url)


async def _sdk_fan_out(
    fake: FakeProcess, tasks: int, max_wait: float, transport: str = "default", pool: int | None = None
) -> Outcome:
    client = _sdk_client(fake, transport, pool)
    http = client._http  # closed here when it is the caller's (aiohttp), by aclose() when it is ours
    async with client:
        result = await _measure(
            lambda: [client.create_character_and_wait(VIDEO_URL, max_wait=max_wait) for _ in range(tasks)]
        )
    if transport != "default":
        await http.aclose()
    return result


async def _peer_fan_out(fake: FakeProcess, tasks: int, max_wait: float, gate: int = PEER_GATE) -> Outcome:
    """Bare httpx: create, sleep the schedule's first interval, query until success (same schedule)."""
    body = {"model": "sora-2-characters", "input": {"character_file_url": [VIDEO_URL]}}
    sem = asyncio.Semaphore(gate)
    rng = random.Random()
    limits = httpx.Limits(max_connections=gate, max_keepalive_connections=gate)
    headers = {"Authorization": f"Bearer {fake.api_key}", "Accept": "application/json"}

    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers, limits=limits, timeout=30) as http:

        async def call(method: str, path: str, **kw: Any) -> Any:
            async with sem:
                response = await http.request(method, path, **kw)
            envelope = json.loads(response.content)
            if response.status_code != 200 or envelope.get("code") != 200:
                raise RuntimeError(f"{method} {path}: {response.status_code} {envelope.get('code')}")
            return envelope["data"]

        async def one() -> str:
            task_id = (await call("POST", CREATE_PATH, json=body))["taskId"]
            start = time.monotonic()
            await asyncio.sleep(poll_delay(0.0, rng.random()))
            while time.monotonic() - start < max_wait:
                data = await call("GET", QUERY_PATH, params={"taskId": task_id})
                if data["state"] == "success":
                    return str(json.loads(data["resultJson"])["character_id"])
                if data["state"] == "fail":
                    raise RuntimeError(f"task {task_id} failed")
                await asyncio.sleep(poll_delay(time.monotonic() - start, rng.random()))
            raise TimeoutError(task_id)

        return await _measure(lambda: [one() for _ in range(tasks)])


async def _isolated_cpu(fake: FakeProcess, calls: int) -> float:
    """Client CPU seconds per sequential ``get_task`` call on a default AsyncClient (after a warm-up)."""
    async with AsyncClient(
        fake.api_key, base_url=fake.base_url, upload_base_url=fake.upload_base_url
    ) as client:
        task_id = (await client.create_character(VIDEO_URL)).task_id
        for _ in range(20):
            await client.get_task(task_id)
        gc.collect()
        cpu0 = time.process_time()
        for _ in range(calls):
            await client.get_task(task_id)
        return (time.process_time() - cpu0) / calls


def _log_figures(dump: dict[str, Any], tasks: int) -> dict[str, Any]:
    records, requests = dump["tasks"], dump["requests"]
    ops = Counter(r["operation"] for r in requests)
    created = [t["created_at"] for t in records]
    return {
        "tasks_created": len(records),
        "requests": len(requests),
        "requests_per_task": len(requests) / tasks,
        "status_requests_per_task": ops.get("recordInfo", 0) / tasks,
        "slowest_task_s": max((t["ends_at"] - t["created_at"] for t in records), default=0.0),
        "creation_spread_s": (max(created) - min(created)) if created else 0.0,
    }


def _one(fake: FakeProcess, who: str, tasks: int, max_wait: float, pool: int | None = None) -> Outcome:
    fake.command("reset")
    if who == "peer":
        outcome = asyncio.run(_peer_fan_out(fake, tasks, max_wait, gate=pool or PEER_GATE))
    else:
        outcome = asyncio.run(_sdk_fan_out(fake, tasks, max_wait, transport=who, pool=pool))
    figures = _log_figures(fake.command("dump"), tasks)
    ideal = figures["slowest_task_s"] + FIRST_POLL_MAX_S
    outcome.update(figures)
    outcome["ideal_s"] = ideal
    outcome["wall_ratio_to_ideal"] = outcome["wall_s"] / ideal
    outcome["cpu_per_request_ms"] = 1e3 * outcome["cpu_s"] / max(figures["requests"], 1)
    outcome["ok"] = not outcome["errors"] and figures["tasks_created"] == tasks
    outcome["load_average_1m"] = os.getloadavg()[0]  # the machine is shared: how busy it was
    return outcome


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _has_aiohttp() -> bool:
    try:
        import httpx_aiohttp  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True


def run(
    *,
    tasks: int,
    task_duration: float,
    runs: int,
    isolated_calls: int,
    scale: tuple[int, ...],
    rate_tasks: int,
    rate: float,
) -> dict[str, Any]:
    """Contenders at ``tasks`` (``runs`` rounds), the scale sweep, the CPU baseline, the rate limit."""
    max_wait = 120.0 + 10 * task_duration
    contenders = ["sdk", "peer"] + (["aiohttp"] if _has_aiohttp() else [])
    per_run: dict[str, list[Outcome]] = {who: [] for who in contenders}
    with FakeProcess() as fake:
        fake.command("configure", time_scale=1.0, task_duration=task_duration)
        isolated_ms = 1e3 * asyncio.run(_isolated_cpu(fake, isolated_calls))
        for round_no in range(runs):
            shift = round_no % len(contenders)
            for who in contenders[shift:] + contenders[:shift]:
                per_run[who].append(_one(fake, who, tasks, max_wait))
        scaled = {str(n): _one(fake, "sdk", n, max_wait) for n in scale}
    results: dict[str, Any] = {
        "tasks": tasks,
        "task_duration_s": task_duration,
        "first_poll_max_s": FIRST_POLL_MAX_S,
        "peer_gate": PEER_GATE,
        "isolated_cpu_per_request_ms": isolated_ms,
        "runs": per_run,
        "scale": scaled,
    }
    sdk, peer = per_run["sdk"], per_run["peer"]
    results["sdk_wall_ratio_to_ideal"] = _summary([o["wall_ratio_to_ideal"] for o in sdk])
    results["sdk_wall_ratio_to_peer"] = _summary(
        [s["wall_s"] / p["wall_s"] for s, p in zip(sdk, peer, strict=True)]
    )
    results["sdk_cpu_ratio_to_isolated"] = _summary([o["cpu_per_request_ms"] / isolated_ms for o in sdk])
    if "aiohttp" in per_run:
        results["aiohttp_wall_ratio_to_sdk"] = _summary(
            [a["wall_s"] / s["wall_s"] for a, s in zip(per_run["aiohttp"], sdk, strict=True)]
        )
    results["met"] = {
        "no_errors": all(o["ok"] for o in sdk) and all(o["ok"] for o in scaled.values()),
        "wall_vs_ideal": results["sdk_wall_ratio_to_ideal"]["max"] <= 1.25,
        "wall_vs_peer": results["sdk_wall_ratio_to_peer"]["median"] <= 1.10,
        "cpu_vs_isolated": results["sdk_cpu_ratio_to_isolated"]["median"] <= 1.5,
        "two_requests_per_task": max(o["requests_per_task"] for o in sdk) <= 2.0,
    }
    results["rate_limited"] = rate_limited(rate_tasks, rate, task_duration, max_wait)
    return results


def run_many(*, tasks: int, task_duration: float) -> dict[str, Any]:
    """``tasks`` (10,000) in flight on one default AsyncClient: errors, wall, sockets, memory, CPU."""
    max_wait = 300.0 + tasks / 20
    with FakeProcess() as fake:
        fake.command("configure", time_scale=1.0, task_duration=task_duration)
        isolated_ms = 1e3 * asyncio.run(_isolated_cpu(fake, 200))
        outcome = _one(fake, "sdk", tasks, max_wait)
    outcome["isolated_cpu_per_request_ms"] = isolated_ms
    outcome["cpu_ratio_to_isolated"] = outcome["cpu_per_request_ms"] / isolated_ms
    outcome["task_duration_s"] = task_duration
    outcome["tasks"] = tasks
    outcome["met"] = outcome["ok"]
    return outcome


async def _rate_limited(fake: FakeProcess, tasks: int, rate: float, max_wait: float) -> Outcome:
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
        start = time.perf_counter()
        outcomes = await asyncio.gather(
            *(client.create_character_and_wait(VIDEO_URL, max_wait=max_wait) for _ in range(tasks)),
            return_exceptions=True,
        )
        wall = time.perf_counter() - start
    errors = Counter(type(o).__name__ for o in outcomes if isinstance(o, BaseException))
    return {"wall_s": wall, "errors": dict(errors), "max_creates_sent_in_1s_window": max_in_window(sent)}


def rate_limited(tasks: int, rate: float, task_duration: float, max_wait: float) -> dict[str, Any]:
    """``max_tasks_per_second``: the most createTask requests issued in any one-second window."""
    with FakeProcess() as fake:
        fake.command("configure", time_scale=1.0, task_duration=task_duration)
        outcome = asyncio.run(_rate_limited(fake, tasks, rate, max_wait))
        created = [t["created_at"] for t in fake.command("dump")["tasks"]]
    outcome.update(
        tasks=tasks,
        rate_limit_per_s=rate,
        max_creates_processed_in_1s_window=max_in_window(created),
        load_average_1m=os.getloadavg()[0],
        met=not outcome["errors"] and outcome["max_creates_sent_in_1s_window"] <= rate,
    )
    return outcome


def sweep_pool(
    sizes: list[int], tasks: int, rounds: int, who: tuple[str, ...] = ("sdk",)
) -> dict[str, list[Outcome]]:
    """Run the default client and/or the peer with each pool size, in rotating order.

    ``sdk``: the default client with ``max_concurrent_requests`` (= its pool) of that size; ``peer``:
    the bare-httpx loop with that pool and semaphore. Returns ``{"sdk 4": [outcome per round], ...}``.
    """
    combos = [(contender, size) for contender in who for size in sizes]
    found: dict[str, list[Outcome]] = {f"{contender} {size}": [] for contender, size in combos}
    with FakeProcess() as fake:
        fake.command("configure", time_scale=1.0, task_duration=2.0)
        for round_no in range(rounds):
            shift = round_no % len(combos)
            for contender, size in combos[shift:] + combos[:shift]:
                found[f"{contender} {size}"].append(_one(fake, contender, tasks, 300.0, pool=size))
    return found


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.fanout --pool 2 4 10 [--who sdk peer] [--tasks N] [--rounds R]``: the sweep."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fanout", description=main.__doc__)
    parser.add_argument("--pool", type=int, nargs="+", required=True)
    parser.add_argument("--who", nargs="+", choices=("sdk", "peer"), default=["sdk"])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    for name, outcomes in sweep_pool(args.pool, args.tasks, args.rounds, tuple(args.who)).items():
        walls = ", ".join(f"{o['wall_s']:.1f}" for o in outcomes)
        cpu = ", ".join(f"{o['cpu_per_request_ms']:.2f}" for o in outcomes)
        load = ", ".join(f"{o['load_average_1m']:.1f}" for o in outcomes)
        errors = [o["errors"] for o in outcomes if o["errors"]]
        print(
            f"{name:>9}: wall s {walls}; client CPU per request ms {cpu}; "
            f"load average {load}; errors {errors or 'none'}"
        )


if __name__ == "__main__":
    main()
