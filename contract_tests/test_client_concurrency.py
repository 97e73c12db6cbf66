"""Requests in flight are capped per client (``max_concurrent_requests``): the rest wait their turn.

httpcore's pool slows every request down as its internal queue grows (1,000 coroutines on a pool of
100 took 154 s in the fan-out benchmark, 4.7 s once queued in the client), so the client queues them.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from contract_tests.support import KEY, ok, task
from sora2_characters import AsyncClient, Client, InvalidInputError


class Tracker:
    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self.total = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.total += 1
            self.peak = max(self.peak, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1


@pytest.mark.anyio
async def test_async_client_keeps_at_most_the_cap_in_flight() -> None:
    tracker = Tracker()

    async def handler(request: httpx.Request) -> httpx.Response:
        tracker.enter()
        for _ in range(3):  # let the other coroutines pile up
            await asyncio.sleep(0)
        tracker.leave()
        return ok(task("success", request.url.params["taskId"]))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with http, AsyncClient(KEY, http_client=http, max_concurrent_requests=5) as client:
        infos = await asyncio.gather(*(client.get_task(f"task_{n}") for n in range(40)))
    assert [info.task_id for info in infos] == [f"task_{n}" for n in range(40)]
    assert tracker.total == 40
    assert tracker.peak == 5


def test_sync_client_shared_by_threads_keeps_at_most_the_cap_in_flight() -> None:
    tracker = Tracker()
    release = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        tracker.enter()
        release.wait(timeout=0.05)  # bounded: holds the slot long enough for others to queue
        tracker.leave()
        return ok(task("success", request.url.params["taskId"]))

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        Client(KEY, http_client=http, max_concurrent_requests=3) as client,
        ThreadPoolExecutor(max_workers=12) as pool,
    ):
        infos = list(pool.map(client.get_task, [f"task_{n}" for n in range(24)]))
    assert len(infos) == 24
    assert tracker.peak == 3


def test_our_own_pool_is_sized_to_the_cap() -> None:
    with Client(KEY, max_concurrent_requests=7) as client:
        pool = client._http._transport._pool  # type: ignore[attr-defined]
        assert pool._max_connections == 7
        assert pool._max_keepalive_connections == 7


@pytest.mark.parametrize("value", [0, -1, 1.5, True, None, 10_001])
def test_a_bad_cap_is_refused(value: object) -> None:
    with pytest.raises(InvalidInputError, match="max_concurrent_requests"):
        Client(KEY, max_concurrent_requests=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="max_concurrent_requests"):
        AsyncClient(KEY, max_concurrent_requests=value)  # type: ignore[arg-type]
