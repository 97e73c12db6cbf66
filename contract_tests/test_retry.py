"""Retry rules (counting requests), backoff and Retry-After."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

import sora2_characters as sc
from contract_tests.support import (
    CREATE_URL,
    CREDITS_URL,
    QUERY_URL,
    VIDEO_URL,
    FakeTime,
    error,
    make_async_client,
    make_client,
    ok,
    task,
)
from sora2_characters._retry import (
    BACKOFF_CAP_S,
    RETRY_AFTER_CAP_S,
    RequestKind,
    backoff_delay,
    parse_retry_after,
    retry_delay,
    should_retry,
)

HTML = b"<html>bad gateway</html>"

RETRYABLE_QUERY_FAILURES = [
    pytest.param(httpx.ConnectError("refused"), id="connect-error"),
    pytest.param(httpx.ReadTimeout("slow"), id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("reset"), id="reset"),
    pytest.param(error(429), id="429"),
    pytest.param(error(429, status=429), id="429-http"),
    pytest.param(error(455), id="455"),
    pytest.param(error(500), id="500"),
    pytest.param(error(500, status=500), id="500-http"),
    pytest.param(httpx.Response(502, content=HTML), id="html-502"),
    pytest.param(httpx.Response(503, content=b""), id="empty-503"),
]


def _side(failure: httpx.Response | Exception) -> httpx.Response | Exception:
    return failure


@pytest.mark.parametrize("failure", RETRYABLE_QUERY_FAILURES)
def test_queries_retry_up_to_max_retries(failure: httpx.Response | Exception) -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.get(CREDITS_URL).mock(side_effect=[failure, failure, failure, ok(1.5)])
        client = make_client(fake, max_retries=2)
        with pytest.raises(sc.Sora2CharactersError):
            client.get_credits()
    assert route.call_count == 3
    assert len(fake.sleeps) == 2


@pytest.mark.parametrize("failure", RETRYABLE_QUERY_FAILURES)
def test_queries_recover_after_a_retry(failure: httpx.Response | Exception) -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.get(QUERY_URL).mock(side_effect=[failure, ok(task("generating"))])
        info = make_client(fake).get_task("task_1")
    assert info.state is sc.TaskState.GENERATING
    assert route.call_count == 2
    assert len(fake.sleeps) == 1


@pytest.mark.parametrize("code", [400, 401, 402, 404, 422, 433, 501, 505])
def test_queries_do_not_retry_final_codes(code: int) -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=error(code))
        with pytest.raises(sc.APIError):
            make_client(fake, max_retries=5).get_task("task_1")
    assert route.call_count == 1
    assert fake.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ConnectError("refused"), id="connect-error"),
        pytest.param(httpx.ConnectTimeout("slow connect"), id="connect-timeout"),
        pytest.param(httpx.PoolTimeout("pool"), id="pool-timeout"),
        pytest.param(error(429), id="429"),
        pytest.param(error(429, status=429), id="429-http"),
        pytest.param(httpx.Response(429, content=HTML), id="429-html"),
        pytest.param(error(455), id="455"),
        pytest.param(error(455, status=455), id="455-http"),
    ],
)
def test_create_task_retries_only_when_no_task_can_exist(failure: httpx.Response | Exception) -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.post(CREATE_URL).mock(side_effect=[failure, ok({"taskId": "task_9"})])
        created = make_client(fake).create_character(VIDEO_URL)
    assert created.task_id == "task_9"
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ReadTimeout("read"), id="read-timeout"),
        pytest.param(httpx.WriteTimeout("write"), id="write-timeout"),
        pytest.param(httpx.ReadError("reset after sending"), id="read-error"),
        pytest.param(httpx.WriteError("partial"), id="write-error"),
        pytest.param(httpx.RemoteProtocolError("server disconnected"), id="remote-protocol"),
        pytest.param(error(500), id="500"),
        pytest.param(error(500, status=500), id="500-http"),
        pytest.param(error(501), id="501"),
        pytest.param(error(505), id="505"),
        pytest.param(httpx.Response(502, content=HTML), id="html-502"),
        pytest.param(httpx.Response(504, content=HTML), id="html-504"),
    ],
)
def test_create_task_never_retries_when_a_task_may_exist(failure: httpx.Response | Exception) -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.post(CREATE_URL).mock(side_effect=[failure, ok({"taskId": "task_dup"})])
        with pytest.raises(sc.Sora2CharactersError):
            make_client(fake, max_retries=5).create_character(VIDEO_URL)
    assert route.call_count == 1
    assert fake.sleeps == []


def test_create_task_gives_up_after_max_retries() -> None:
    fake = FakeTime()
    with respx.mock:
        route = respx.post(CREATE_URL).mock(return_value=error(429))
        with pytest.raises(sc.RateLimitError):
            make_client(fake, max_retries=3).create_character(VIDEO_URL)
    assert route.call_count == 4


def test_max_retries_zero_means_one_attempt() -> None:
    with respx.mock:
        route = respx.get(CREDITS_URL).mock(return_value=error(500))
        with pytest.raises(sc.InternalServerError):
            make_client(max_retries=0).get_credits()
    assert route.call_count == 1


def test_retry_after_seconds_is_honoured_and_capped() -> None:
    fake = FakeTime()
    with respx.mock:
        respx.get(CREDITS_URL).mock(
            side_effect=[
                error(429, status=429, headers={"Retry-After": "7"}),
                error(455, headers={"Retry-After": "3600"}),
                ok(2),
            ]
        )
        assert make_client(fake).get_credits() == 2.0
    assert fake.sleeps == [7.0, RETRY_AFTER_CAP_S]


def test_retry_after_http_date_is_honoured() -> None:
    fake = FakeTime()
    when = formatdate(time.time() + 20, usegmt=True)
    with respx.mock:
        respx.get(CREDITS_URL).mock(side_effect=[error(429, headers={"Retry-After": when}), ok(3)])
        make_client(fake).get_credits()
    assert len(fake.sleeps) == 1
    assert 17.0 <= fake.sleeps[0] <= 21.0


def test_retry_after_below_backoff_keeps_the_backoff() -> None:
    fake = FakeTime()
    with respx.mock:
        respx.get(CREDITS_URL).mock(side_effect=[error(429, headers={"Retry-After": "0"})] * 3 + [ok(1)])
        make_client(fake, max_retries=3).get_credits()
    assert len(fake.sleeps) == 3
    for attempt, slept in enumerate(fake.sleeps):
        assert backoff_delay(attempt, 1.0) <= slept <= backoff_delay(attempt, 0.0)


def test_backoff_doubles_to_the_cap() -> None:
    assert [backoff_delay(n, 0.0) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert backoff_delay(100, 0.0) == BACKOFF_CAP_S


@settings(max_examples=100)
@given(attempt=st.integers(0, 50), jitter=st.floats(0, 1), retry_after=st.none() | st.floats(0, 60))
def test_retry_delay_bounds(attempt: int, jitter: float, retry_after: float | None) -> None:
    delay = retry_delay(attempt, jitter, retry_after)
    assert 0.375 <= delay <= RETRY_AFTER_CAP_S
    assert delay >= 0.75 * min(BACKOFF_CAP_S, 0.5 * 2**attempt)
    if retry_after is not None:
        assert delay >= retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("99999", RETRY_AFTER_CAP_S),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert parse_retry_after(value, now) == expected


def test_should_retry_table() -> None:
    not_sent = sc.APIConnectionError("x", request_sent=False)
    sent = sc.APITimeoutError("x", request_sent=True)
    assert should_retry(RequestKind.CREATE, not_sent)
    assert not should_retry(RequestKind.CREATE, sent)
    assert should_retry(RequestKind.QUERY, sent)
    assert should_retry(RequestKind.UPLOAD, sent)
    assert not should_retry(RequestKind.QUERY, sc.MalformedResponseError("x", http_status=200))
    assert not should_retry(RequestKind.QUERY, sc.InvalidInputError("f", "bad"))


@pytest.mark.anyio
async def test_async_client_follows_the_same_rules() -> None:
    fake = FakeTime()
    with respx.mock:
        create = respx.post(CREATE_URL).mock(side_effect=[error(455), httpx.ReadTimeout("read")])
        query = respx.get(QUERY_URL).mock(
            side_effect=[httpx.ConnectError("x"), error(500), ok(task("waiting"))]
        )
        async with make_async_client(fake) as client:
            with pytest.raises(sc.APITimeoutError):
                await client.create_character(VIDEO_URL)
            info = await client.get_task("task_1")
    assert create.call_count == 2
    assert query.call_count == 3
    assert info.state is sc.TaskState.WAITING
