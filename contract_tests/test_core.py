"""``sora2_characters._core``: the task-creation rate limit (``RateLimiter``)
and the injected clock and sleep."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest
import respx

import sora2_characters as sc
from contract_tests.support import (
    KEY,
    QUERY_URL,
    VIDEO_URL,
    FakeTime,
    make_client,
    ok,
    task,
)
from sora2_characters._core import RateLimiter


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(2.0)
    assert limiter.try_acquire(0.0) == 0.0
    assert limiter.try_acquire(0.1) == 0.0
    assert limiter.try_acquire(0.2) == pytest.approx(0.81)
    assert limiter.try_acquire(1.01) == 0.0
    slow = RateLimiter(0.5)
    assert slow.try_acquire(0.0) == 0.0
    assert slow.try_acquire(1.0) == pytest.approx(1.01)


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_sync_rate_limit_with_a_fake_clock() -> None:
    fake = FakeTime()
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(fake.now)
        return ok({"taskId": "t"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = make_client(fake, http_client=http, max_tasks_per_second=3)
    for _ in range(20):
        client.create_character(VIDEO_URL)
    assert _max_in_window(sent) <= 3
    assert sent[-1] - sent[0] < 7.5
    http.close()


class SleepQueue:
    """Virtual time for many concurrent tasks: sleeping tasks wake in order, nothing really waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._counter = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        event = anyio.Event()
        self._counter += 1
        self._sleepers.append((self.now + seconds, self._counter, event))
        await event.wait()

    async def drive(self, done: anyio.Event) -> None:
        while not done.is_set():
            for _ in range(50):  # let every runnable task reach its next sleep
                await anyio.sleep(0)
            if not self._sleepers:
                continue
            self._sleepers.sort(key=lambda item: (item[0], item[1]))
            wake_at, _, event = self._sleepers.pop(0)
            self.now = max(self.now, wake_at)
            event.set()


@pytest.mark.anyio
async def test_async_rate_limit_holds_under_concurrency() -> None:
    virtual = SleepQueue()
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("createTask"):
            sent.append(virtual.now)
            return ok({"taskId": "task_1"})
        return ok(task("success"))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = sc.AsyncClient(
        KEY, http_client=http, max_tasks_per_second=5, sleep=virtual.sleep, clock=virtual.clock
    )
    done = anyio.Event()
    async with anyio.create_task_group() as outer:
        outer.start_soon(virtual.drive, done)
        async with anyio.create_task_group() as group:
            for _ in range(200):
                group.start_soon(client.create_character_and_wait, VIDEO_URL)
        done.set()
    assert len(sent) == 200
    assert _max_in_window(sent) <= 5
    assert sent[-1] < 200 / 5 * 1.1
    await http.aclose()


@pytest.mark.anyio
async def test_rate_limit_holds_when_requests_queue_for_a_slot() -> None:
    """The grant is taken once a request holds its slot, so creates queued behind slow calls never
    leave together when the slots come free."""
    virtual = SleepQueue()
    sent: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("createTask"):
            sent.append(virtual.now)
            await virtual.sleep(0.01)
            return ok({"taskId": "task_1"})
        await virtual.sleep(3.0)  # two slow queries hold both slots for 3 s
        return ok(task("generating", task_id="task_slow"))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = sc.AsyncClient(
        KEY,
        http_client=http,
        max_tasks_per_second=5,
        max_concurrent_requests=2,
        sleep=virtual.sleep,
        clock=virtual.clock,
    )
    done = anyio.Event()
    async with anyio.create_task_group() as outer:
        outer.start_soon(virtual.drive, done)
        async with anyio.create_task_group() as group:
            for _ in range(2):
                group.start_soon(client.get_task, "task_slow")
            await virtual.sleep(0.001)
            for _ in range(20):
                group.start_soon(client.create_character, VIDEO_URL)
        done.set()
    assert len(sent) == 20
    assert _max_in_window(sent) <= 5
    await http.aclose()


def test_rate_limit_counts_retried_attempts() -> None:
    fake = FakeTime()
    sent: list[float] = []
    responses = iter([sc_error_429(), ok({"taskId": "a"}), ok({"taskId": "b"})])

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(fake.now)
        return next(responses)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = make_client(fake, http_client=http, max_tasks_per_second=1)
    client.create_character(VIDEO_URL)
    client.create_character(VIDEO_URL)
    assert len(sent) == 3
    assert _max_in_window(sent) == 1
    http.close()


def sc_error_429() -> httpx.Response:
    return httpx.Response(200, json={"code": 429, "msg": "slow down", "data": None})


def test_fake_time_is_not_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_real_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s for real")

    monkeypatch.setattr(time, "sleep", no_real_sleep)
    fake = FakeTime()
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=ok(task("generating")))
        with pytest.raises(sc.WaitTimeoutError):
            make_client(fake).wait("task_1", max_wait=600.0)
    assert sum(fake.sleeps) == pytest.approx(600.0)
