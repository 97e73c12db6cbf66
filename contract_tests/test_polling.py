"""``sora2_characters._polling`` and ``wait()``: the schedule, sequences, deadlines,
failures, grace for new tasks."""

from __future__ import annotations

import random
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

import sora2_characters as sc
from contract_tests.support import (
    CREATE_URL,
    QUERY_URL,
    VIDEO_URL,
    FakeTime,
    error,
    make_async_client,
    make_client,
    ok,
    task,
)
from sora2_characters._polling import poll_delay


@settings(max_examples=200)
@given(elapsed=st.floats(0, 3600), draw=st.floats(0, 1, exclude_max=True))
def test_poll_delay_follows_the_docs_and_the_ten_percent_rule(elapsed: float, draw: float) -> None:
    delay = poll_delay(elapsed, draw)
    assert delay >= 2.0
    assert delay <= max(3.0, 0.1 * elapsed)
    if elapsed < 30:
        assert delay <= 3.0
    elif elapsed < 120:
        assert delay <= 10.0
    else:
        assert 15.0 <= delay <= 30.0 or delay == pytest.approx(0.1 * elapsed)


def test_poll_delay_examples() -> None:
    assert poll_delay(0, 0) == 2.0
    assert poll_delay(10, 0.99) == pytest.approx(2.99)
    assert poll_delay(60, 0.5) == 6.0
    assert poll_delay(300, 0.0) == 15.0
    assert poll_delay(300, 0.99) == pytest.approx(29.85)
    assert poll_delay(400, 0.99) == pytest.approx(29.85)
    assert poll_delay(200, 0.99) == 20.0


@pytest.mark.parametrize("duration", [10.0, 60.0, 300.0])
def test_detection_delay_stays_under_ten_percent_plus_three_seconds(duration: float) -> None:
    rng = random.Random(1)
    for _ in range(200):
        now = 0.0
        while now < duration:
            now += poll_delay(now, rng.random())
        assert now - duration <= 0.1 * duration + 3.0


def _sequence(*states: str, **extra: Any) -> list[httpx.Response]:
    return [ok(task(state, **extra)) for state in states]


def test_wait_reports_each_state_change_once_and_returns_success() -> None:
    fake = FakeTime()
    seen: list[sc.TaskState] = []
    with respx.mock:
        route = respx.get(QUERY_URL).mock(
            side_effect=_sequence("waiting", "waiting", "queuing", "generating", "generating", "success")
        )
        info = make_client(fake).wait("task_1", on_update=lambda i: seen.append(i.state))
    assert info.state is sc.TaskState.SUCCESS
    assert info.character_id == "char_1"
    assert seen == ["waiting", "queuing", "generating", "success"]
    assert route.call_count == 6
    assert len(fake.sleeps) == 5
    assert all(2.0 <= s <= 3.0 for s in fake.sleeps)


def test_wait_raises_task_failed() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(
            side_effect=[ok(task("generating")), ok(task("fail", failCode=422, failMsg="bad video"))]
        )
        with pytest.raises(sc.TaskFailedError) as caught:
            make_client().wait("task_1")
    assert caught.value.task_id == "task_1"
    assert caught.value.fail_code == "422"
    assert caught.value.fail_message == "bad video"
    assert caught.value.task.state is sc.TaskState.FAIL


def test_wait_times_out_without_sleeping_past_the_deadline() -> None:
    fake = FakeTime()
    start = fake.now
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=ok(task("generating")))
        with pytest.raises(sc.WaitTimeoutError) as caught:
            make_client(fake).wait("task_1", max_wait=45.0)
    assert caught.value.task_id == "task_1"
    assert caught.value.last_state is sc.TaskState.GENERATING
    assert fake.now - start == pytest.approx(45.0)
    assert route.call_count == len(fake.sleeps) + 1


def test_wait_with_a_fixed_poll_interval() -> None:
    fake = FakeTime()
    with respx.mock:
        respx.get(QUERY_URL).mock(side_effect=_sequence("waiting", "generating", "generating", "success"))
        make_client(fake).wait("task_1", poll_interval=5.0)
    assert fake.sleeps == [5.0, 5.0, 5.0]


def test_client_default_poll_interval() -> None:
    fake = FakeTime()
    with respx.mock:
        respx.get(QUERY_URL).mock(side_effect=_sequence("waiting", "success"))
        make_client(fake, poll_interval=4.0).wait("task_1")
    assert fake.sleeps == [4.0]


def test_wait_keeps_polling_an_unknown_state() -> None:
    seen: list[str] = []
    with respx.mock:
        respx.get(QUERY_URL).mock(side_effect=_sequence("paused", "rendering", "success"))
        info = make_client().wait("task_1", on_update=lambda i: seen.append(i.state.value))
    assert seen == ["paused", "rendering", "success"]
    assert info.character_id == "char_1"


def test_wait_tolerates_not_found_right_after_creation() -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.get(QUERY_URL).mock(
            side_effect=[error(422, msg="recordInfo is null"), error(404), ok(task("success"))]
        )
        info = make_client(fake).wait("task_1")
    assert info.state is sc.TaskState.SUCCESS
    assert route.call_count == 3


def test_wait_gives_up_on_not_found_after_the_grace_period() -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=error(422, msg="recordInfo is null"))
        with pytest.raises(sc.NotFoundError):
            make_client(fake).wait("task_missing")
    assert 10.0 <= sum(fake.sleeps) <= 14.0
    assert route.call_count >= 4


def test_wait_retries_transient_errors_per_poll() -> None:
    with respx.mock:
        route = respx.get(QUERY_URL).mock(
            side_effect=[ok(task("generating")), error(500), httpx.ConnectError("x"), ok(task("success"))]
        )
        assert make_client().wait("task_1").state is sc.TaskState.SUCCESS
    assert route.call_count == 4


def test_wait_propagates_when_poll_retries_are_exhausted() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(side_effect=[ok(task("generating"))] + [error(455)] * 3)
        with pytest.raises(sc.ServiceUnavailableError):
            make_client(max_retries=2).wait("task_1")


def test_wait_turns_a_retry_past_the_deadline_into_a_timeout() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(
            side_effect=[ok(task("generating")), error(429, headers={"Retry-After": "50"})]
        )
        with pytest.raises(sc.WaitTimeoutError) as caught:
            make_client().wait("task_1", max_wait=10.0)
    assert isinstance(caught.value.__cause__, sc.RateLimitError)
    assert caught.value.last_state is sc.TaskState.GENERATING


def test_wait_caps_the_request_timeout_at_the_remaining_time() -> None:
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=ok(task("success")))
        make_client().wait("task_1", max_wait=5.0)
    assert route.calls[0].request.extensions["timeout"]["read"] == pytest.approx(5.0)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "10", True])
def test_wait_rejects_a_bad_max_wait(bad: Any) -> None:
    with respx.mock, pytest.raises(sc.InvalidInputError, match="max_wait"):
        make_client().wait("task_1", max_wait=bad)


@pytest.mark.parametrize("bad", ["", "   ", None, 5])
def test_wait_and_get_task_reject_a_bad_task_id(bad: Any) -> None:
    with respx.mock:
        client = make_client()
        with pytest.raises(sc.InvalidInputError, match="task_id"):
            client.get_task(bad)
        with pytest.raises(sc.InvalidInputError, match="task_id"):
            client.wait(bad)


def test_create_character_and_wait() -> None:
    with respx.mock:
        create = respx.post(CREATE_URL).mock(return_value=ok({"taskId": "task_1"}))
        respx.get(QUERY_URL).mock(side_effect=_sequence("waiting", "success"))
        info = make_client().create_character_and_wait(VIDEO_URL, character_prompt="a fox")
    assert create.call_count == 1
    assert info.character_id == "char_1"
    assert info.param["input"]["character_file_url"] == [VIDEO_URL]


@pytest.mark.anyio
async def test_async_wait_awaits_async_on_update() -> None:
    fake = FakeTime()
    seen: list[str] = []

    async def on_update(info: sc.TaskInfo) -> None:
        seen.append(info.state.value)

    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=ok({"taskId": "task_1"}))
        respx.get(QUERY_URL).mock(side_effect=_sequence("queuing", "generating", "success"))
        async with make_async_client(fake) as client:
            info = await client.create_character_and_wait(VIDEO_URL, on_update=on_update)
    assert seen == ["queuing", "generating", "success"]
    assert info.character_id == "char_1"
    assert len(fake.sleeps) == 3  # one poll interval before the first query, then one between each


@pytest.mark.anyio
async def test_async_wait_times_out() -> None:
    fake = FakeTime()
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=ok(task("waiting")))
        async with make_async_client(fake) as client:
            with pytest.raises(sc.WaitTimeoutError):
                await client.wait("task_1", max_wait=20.0)
    assert sum(fake.sleeps) == pytest.approx(20.0)


def test_a_poll_interval_longer_than_max_wait_still_meets_the_deadline() -> None:
    fake = FakeTime()
    start = fake.now
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=ok(task("generating")))
        with pytest.raises(sc.WaitTimeoutError):
            make_client(fake).wait("task_1", max_wait=5.0, poll_interval=60.0)
    assert fake.sleeps == [5.0]
    assert fake.now - start == pytest.approx(5.0)
    assert route.call_count == 2  # once at the start, once at the deadline


def test_an_on_update_that_raises_stops_the_wait_with_its_own_error() -> None:
    class StopError(Exception):
        pass

    def on_update(info: sc.TaskInfo) -> None:
        if info.state is sc.TaskState.GENERATING:
            raise StopError(info.state)

    with respx.mock:
        route = respx.get(QUERY_URL).mock(side_effect=[ok(task("waiting")), ok(task("generating"))])
        with pytest.raises(StopError):
            make_client().wait("task_1", on_update=on_update)
    assert route.call_count == 2


@pytest.mark.parametrize("bad", [-5.0, float("nan"), float("-inf"), None])
def test_create_and_wait_checks_max_wait_before_creating(bad: Any) -> None:
    with respx.mock:
        route = respx.post(CREATE_URL).mock(return_value=ok({"taskId": "t"}))
        with pytest.raises(sc.InvalidInputError, match="max_wait"):
            make_client().create_character_and_wait(VIDEO_URL, max_wait=bad)
    assert route.call_count == 0
