"""create_character_and_wait sends no poll that cannot yet succeed.

A task just created cannot have ended, so the first query comes one poll interval after the create:
a task that ends before that interval costs exactly two requests (create + one query). The task
below ends ``duration`` seconds after the create on the test's fake clock; every request is counted.
"""

from __future__ import annotations

import random

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.support import (
    CREATE_URL,
    QUERY_URL,
    VIDEO_URL,
    FakeTime,
    make_async_client,
    make_client,
    ok,
    task,
)
from sora2_characters._polling import MIN_POLL_S, poll_delay


class TimedTask:
    """A task that ends ``duration`` seconds (fake clock) after its create; records every request."""

    def __init__(self, fake: FakeTime, duration: float) -> None:
        self.fake = fake
        self.duration = duration
        self.created_at: float | None = None
        self.queries: list[float] = []
        self.requests = 0

    def create(self, request: httpx.Request) -> httpx.Response:
        assert self.created_at is None, "createTask sent twice"
        self.requests += 1
        self.created_at = self.fake.now
        return ok({"taskId": "task_1"})

    def query(self, request: httpx.Request) -> httpx.Response:
        assert self.created_at is not None, "queried before the create"
        self.requests += 1
        self.queries.append(self.fake.now)
        done = self.fake.now - self.created_at >= self.duration
        return ok(task("success" if done else "generating"))

    def mount(self, router: respx.MockRouter) -> None:
        router.post(CREATE_URL).mock(side_effect=self.create)
        router.get(QUERY_URL).mock(side_effect=self.query)


@settings(max_examples=25, deadline=None)
@given(duration=st.floats(0.0, MIN_POLL_S), seed=st.integers(0, 2**32 - 1))
def test_a_task_that_ends_before_the_first_poll_costs_two_requests(duration: float, seed: int) -> None:
    fake = FakeTime()
    timed = TimedTask(fake, duration)
    with respx.mock(assert_all_called=True) as router:
        timed.mount(router)
        info = make_client(fake, rng=random.Random(seed)).create_character_and_wait(VIDEO_URL)
    assert info.character_id == "char_1"
    assert timed.requests == 2
    assert timed.created_at is not None
    assert len(timed.queries) == 1
    assert timed.queries[0] - timed.created_at >= MIN_POLL_S


@pytest.mark.anyio
async def test_the_async_client_waits_one_interval_before_its_first_query() -> None:
    fake = FakeTime()
    timed = TimedTask(fake, 1.5)
    with respx.mock(assert_all_called=True) as router:
        timed.mount(router)
        async with make_async_client(fake, rng=random.Random(3)) as client:
            info = await client.create_character_and_wait(VIDEO_URL)
    assert info.character_id == "char_1"
    assert timed.requests == 2
    assert timed.created_at is not None
    # The pause is the schedule's first interval, drawn from the client's own random source.
    assert timed.queries == [timed.created_at + poll_delay(0.0, random.Random(3).random())]


@settings(max_examples=20, deadline=None)
@given(duration=st.floats(MIN_POLL_S, 400.0), seed=st.integers(0, 2**32 - 1))
def test_longer_tasks_are_never_queried_before_the_first_interval(duration: float, seed: int) -> None:
    fake = FakeTime()
    timed = TimedTask(fake, duration)
    with respx.mock() as router:
        timed.mount(router)
        make_client(fake, rng=random.Random(seed)).create_character_and_wait(VIDEO_URL, max_wait=900)
    assert timed.created_at is not None
    assert timed.queries[0] - timed.created_at >= MIN_POLL_S
    # Exactly one query sees the task done; every earlier one saw it still running.
    assert timed.queries[-1] - timed.created_at >= duration
    assert all(t - timed.created_at < duration for t in timed.queries[:-1])


def test_a_fixed_poll_interval_is_also_the_first_delay() -> None:
    fake = FakeTime()
    timed = TimedTask(fake, 0.5)
    with respx.mock() as router:
        timed.mount(router)
        make_client(fake).create_character_and_wait(VIDEO_URL, poll_interval=7.0)
    assert timed.created_at is not None
    assert timed.queries == [timed.created_at + 7.0]
    assert fake.sleeps == [7.0]


def test_the_first_delay_never_passes_max_wait() -> None:
    fake = FakeTime()
    timed = TimedTask(fake, 0.1)
    with respx.mock() as router:
        timed.mount(router)
        info = make_client(fake).create_character_and_wait(VIDEO_URL, max_wait=0.5)
    assert info.character_id == "char_1"
    assert fake.sleeps == [0.5]


def test_wait_on_an_existing_task_still_asks_at_once() -> None:
    fake = FakeTime()
    with respx.mock() as router:
        router.get(QUERY_URL).mock(return_value=ok(task("success")))
        info = make_client(fake).wait("task_1")
    assert info.character_id == "char_1"
    assert fake.sleeps == []


def test_a_character_from_a_task_also_waits_one_interval_before_its_first_query() -> None:
    """create_character_from_task_and_wait shares the create-then-wait flow: the same first delay."""
    fake = FakeTime()
    timed = TimedTask(fake, 0.5)
    with respx.mock() as router:
        timed.mount(router)
        info = make_client(fake).create_character_from_task_and_wait(
            "task_origin", start=1.0, end=3.0, character_prompt="a robot", poll_interval=7.0
        )
    assert info.character_id == "char_1"
    assert timed.requests == 2
    assert timed.created_at is not None
    assert timed.queries == [timed.created_at + 7.0]
