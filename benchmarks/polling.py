"""Polling efficiency: how late ``wait`` notices the end of a 10 s, 60 s or 300 s task, and how often it asks.

Time is scaled: the fake (in its own process) runs ``scale`` wall seconds per fake second, and the
client gets the same scale through its injected seams (``clock`` returns fake seconds, ``sleep``
sleeps ``seconds * scale``), so the client's own poll schedule runs unchanged in fake time. The
detection delay of a task is the wall time at which ``create_character_and_wait`` returned minus the
task's completion time on the fake, divided by the scale (fake seconds). Status requests are counted
from the fake's request log, per task.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

from sora2_characters import AsyncClient

from ._fake_proc import FakeProcess

VIDEO_URL = "https://files.example.com/sora2-characters/x/character.mp4"


async def _run_tasks(fake: FakeProcess, count: int, scale: float, max_wait: float) -> list[tuple[str, float]]:
    origin = time.monotonic()

    def clock() -> float:
        return (time.monotonic() - origin) / scale

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds * scale)

    async with AsyncClient(
        fake.api_key, base_url=fake.base_url, upload_base_url=fake.upload_base_url, clock=clock, sleep=sleep
    ) as client:

        async def one() -> tuple[str, float]:
            info = await client.create_character_and_wait(VIDEO_URL, max_wait=max_wait)
            return info.task_id, time.time()

        return list(await asyncio.gather(*(one() for _ in range(count))))


def run(*, durations: tuple[float, ...], tasks_per_duration: int, scale: float) -> dict[str, Any]:
    """Measure each duration on its own fresh fake; return per-duration figures."""
    results: dict[str, Any] = {"time_scale": scale, "tasks_per_duration": tasks_per_duration, "durations": {}}
    for duration in durations:
        with FakeProcess() as fake:
            fake.command("configure", time_scale=scale, task_duration=duration)
            done = asyncio.run(_run_tasks(fake, tasks_per_duration, scale, max_wait=3 * duration + 60))
            dump = fake.command("dump")
        ends = {t["task_id"]: t["ends_at"] for t in dump["tasks"]}
        delays = [(returned - ends[task_id]) / scale for task_id, returned in done]
        polls = [
            sum(1 for r in dump["requests"] if r["operation"] == "recordInfo" and r["task_id"] == task_id)
            for task_id, _ in done
        ]
        allowed = 0.1 * duration + 3.0
        results["durations"][f"{duration:g}"] = {
            "duration_s": duration,
            "detection_delay_s": {
                "median": statistics.median(delays),
                "max": max(delays),
                "min": min(delays),
            },
            "delay_fraction_median": statistics.median(delays) / duration,
            "delay_fraction_max": max(delays) / duration,
            "status_requests": {"median": statistics.median(polls), "max": max(polls), "min": min(polls)},
            "allowed_delay_s": allowed,
            "met": max(delays) <= allowed,
            "load_average_1m": os.getloadavg()[0],
        }
    results["met"] = all(d["met"] for d in results["durations"].values())
    return results
