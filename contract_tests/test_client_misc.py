"""Credits, the caller's http_client, context managers, logging and the task-creation rate limit."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import anyio
import httpx
import pytest
import respx

import sora2_characters as sc
from contract_tests.client_support import (
    CREDITS_URL,
    KEY,
    QUERY_URL,
    VIDEO_URL,
    FakeTime,
    make_async_client,
    make_client,
    ok,
    task,
)
from sora2_characters._core import RateLimiter
from sora2_characters._prism import PrismServer, PrismStartError


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


def test_default_timeouts_are_explicit() -> None:
    with respx.mock:
        route = respx.get(CREDITS_URL).mock(return_value=ok(1))
        make_client().get_credits()
    timeout = route.calls[0].request.extensions["timeout"]
    assert timeout == {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}


@pytest.mark.anyio
async def test_async_callers_http_client_is_not_closed() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: ok(3.5)))
    async with make_async_client(http_client=http) as client:
        assert await client.get_credits() == 3.5
    assert not http.is_closed
    await http.aclose()


def test_logging_enabled_by_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("sora2_characters")
    monkeypatch.setenv("SORA2_CHARACTERS_LOG", "debug")
    before = list(logger.handlers)
    level = logger.level
    try:
        with respx.mock:
            respx.get(QUERY_URL).mock(return_value=ok(task("waiting")))
            make_client().get_task("task_1")
            make_client()  # a second client adds no second handler
        added = [handler for handler in logger.handlers if handler not in before]
        assert len(added) == 1
        err = capsys.readouterr().err
        assert re.search(
            r"GET /api/v1/jobs/recordInfo\?taskId=task_1 -> 200 \(attempt 1, \d+\.\d{3} s\)", err
        )
        assert KEY not in err
    finally:
        for handler in logger.handlers[:]:
            if handler not in before:
                logger.removeHandler(handler)
        logger.setLevel(level)


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


class VirtualTime:
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
    virtual = VirtualTime()
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


def test_prism_exiting_while_starting_raises_prism_start_error() -> None:
    # start() appends "mock <spec> --host ... --port ..."; python -c leaves them in sys.argv.
    prism = PrismServer(command=[sys.executable, "-c", "print('no such spec'); raise SystemExit(3)"])
    with pytest.raises(PrismStartError, match=r"exited with 3 while starting:\n.*no such spec"):
        prism.start()
    prism.stop()  # already stopped: safe to call again
