"""``sora2_characters._client``: credits, the caller's http_client, event loops, the in-flight cap.

Requests in flight are capped per client (``max_concurrent_requests``): the rest wait their turn.
httpcore's pool slows every request down as its internal queue grows (1,000 coroutines on a pool of
100 took 154 s in the fan-out benchmark, 4.7 s once queued in the client), so the client queues them.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import respx

import sora2_characters as sc
from contract_tests.support import (
    CREDITS_URL,
    KEY,
    VIDEO_URL,
    make_async_client,
    make_client,
    ok,
    task,
)
from sora2_characters import AsyncClient, Client, InvalidInputError
from sora2_characters._client import _time_limit, _TrioSafeGate
from sora2_characters.testing import FakeApikley


@pytest.mark.parametrize(("data", "expected"), [(100.5, 100.5), (7, 7.0), ("12.25", 12.25), (0, 0.0)])
def test_get_credits(data: Any, expected: float) -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(return_value=ok(data))
        assert make_client().get_credits() == expected


@pytest.mark.parametrize("data", [None, True, "lots", [], {"balance": 1}, "nan"])
def test_get_credits_malformed(data: Any) -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(return_value=ok(data))
        with pytest.raises(sc.MalformedResponseError):
            make_client().get_credits()


def test_callers_http_client_is_used_everywhere_and_never_closed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("createTask"):
            return ok({"taskId": "task_1"})
        if request.url.path.endswith("credit"):
            return ok(1)
        return ok(task("success"))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with make_client(http_client=http) as client:
        client.create_character_and_wait(VIDEO_URL)
        client.get_credits()
    assert not http.is_closed
    assert seen == ["/api/v1/jobs/createTask", "/api/v1/jobs/recordInfo", "/api/v1/chat/credit"]
    http.close()


def test_own_http_client_is_closed() -> None:
    client = make_client()
    client.close()
    assert client._http.is_closed


@pytest.mark.anyio
async def test_async_callers_http_client_is_not_closed() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: ok(3.5)))
    async with make_async_client(http_client=http) as client:
        assert await client.get_credits() == 3.5
    assert not http.is_closed
    await http.aclose()


def test_an_async_client_survives_two_event_loops() -> None:
    with FakeApikley(time_scale=0) as fake:
        client = sc.AsyncClient(fake.api_key, base_url=fake.base_url, upload_base_url=fake.upload_base_url)
        dropped = [client._http]
        assert asyncio.run(client.get_credits()) == 100.0
        assert asyncio.run(client.get_credits()) == 100.0  # was: RuntimeError "Event loop is closed"
        assert client._http is not dropped[0]
        dropped.append(client._http)

        async def twice_then_close() -> tuple[float, float]:
            one = await client.get_credits()
            pool = client._http
            two = await client.get_credits()
            assert client._http is pool  # the same loop keeps its pool
            await client.aclose()
            return one, two

        assert asyncio.run(twice_then_close()) == (100.0, 100.0)
        assert client._http not in dropped
        # Loops that ended without aclose() leave their pools' sockets behind: dropped with them.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            del dropped
            gc.collect()


def test_a_callers_async_client_is_never_replaced() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: ok(2)))
    client = sc.AsyncClient(KEY, http_client=http)
    assert asyncio.run(client.get_credits()) == 2.0
    assert asyncio.run(client.get_credits()) == 2.0
    assert client._http is http
    asyncio.run(http.aclose())


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


@pytest.mark.parametrize("on_asyncio", [True, False], ids=["asyncio", "other-library"])
def test_the_async_total_limit_ends_a_request_that_outlives_it(on_asyncio: bool) -> None:
    # asyncio's own timeout on asyncio (cheaper per request), anyio's under another library's gate.
    async def outlive_a_spent_limit() -> None:
        gate = asyncio.Semaphore(1) if on_asyncio else _TrioSafeGate(1)
        async with _time_limit(0.0, gate):
            await asyncio.Event().wait()  # never set: only the limit ends it

    with pytest.raises(TimeoutError):
        asyncio.run(outlive_a_spent_limit())
