"""AsyncClient on the optional aiohttp transport (extra ``aiohttp``) passes the same client tests.

Each test runs twice on the fake: with the client's own httpx pool and with
``http_client=httpx_aiohttp.HttpxAiohttpClient()``. The fake's tasks end at once and the client's
sleep is a fake one, so nothing waits for real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.support import FakeTime
from sora2_characters import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    InsufficientCreditsError,
    MalformedResponseError,
    NotFoundError,
    Sora2CharactersError,
    TaskFailedError,
)
from sora2_characters.testing import FakeApikley

httpx_aiohttp = pytest.importorskip("httpx_aiohttp")

CHARACTER = Path(__file__).resolve().parent.parent / "examples" / "character.mp4"
TRANSPORTS = ("httpx", "aiohttp")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApikley]:
    with FakeApikley(time_scale=0.0) as server:
        yield server


@pytest.fixture(params=TRANSPORTS)
async def client(request: pytest.FixtureRequest, fake: FakeApikley) -> AsyncIterator[AsyncClient]:
    fake.reset()
    fake.time_scale = 0.0
    clock = FakeTime()
    options: dict[str, Any] = {"sleep": clock.async_sleep, "clock": clock.clock}
    if request.param == "httpx":
        async with fake.async_client(**options) as own:
            yield own
        return
    async with (
        httpx_aiohttp.HttpxAiohttpClient() as http,
        fake.async_client(http_client=http, **options) as on_aiohttp,
    ):
        yield on_aiohttp


@pytest.mark.anyio
async def test_upload_create_wait_and_credits(client: AsyncClient, fake: FakeApikley) -> None:
    video = await client.upload_video(CHARACTER)
    task = await client.create_character_and_wait(video.download_url, character_prompt="a fox")
    assert task.character_id is not None
    assert fake.tasks[0].body["input"]["character_prompt"] == "a fox"
    assert len(fake.requests_for("createTask")) == 1
    assert len(fake.requests_for("recordInfo")) == 1  # the first poll comes after the task ended
    assert await client.get_credits() == fake.credits


@pytest.mark.anyio
async def test_a_failed_task_raises_task_failed(client: AsyncClient, fake: FakeApikley) -> None:
    video = await client.upload_video(CHARACTER)
    fake.fail_task(fail_msg="no character in frame")
    with pytest.raises(TaskFailedError, match="no character in frame"):
        await client.create_character_and_wait(video.download_url)


@pytest.mark.anyio
async def test_api_errors_keep_their_class(client: AsyncClient, fake: FakeApikley) -> None:
    fake.fail_next("createTask", code=402, msg="Credits insufficient")
    with pytest.raises(InsufficientCreditsError):
        await client.create_character("https://files.example.com/a.mp4")
    with pytest.raises(NotFoundError):
        await client.get_task("task_never_created")


@pytest.mark.anyio
async def test_a_rate_limited_query_is_retried(client: AsyncClient, fake: FakeApikley) -> None:
    task_id = (await client.create_character("https://files.example.com/a.mp4")).task_id
    fake.rate_limit_next("recordInfo", retry_after=1.0)
    info = await client.get_task(task_id)
    assert info.task_id == task_id
    assert len(fake.requests_for("recordInfo")) == 2


@pytest.mark.anyio
async def test_a_dropped_create_is_never_repeated(client: AsyncClient, fake: FakeApikley) -> None:
    fake.drop_connection_next("createTask", when="after_read")
    with pytest.raises(APIConnectionError) as caught:
        await client.create_character("https://files.example.com/a.mp4")
    assert caught.value.request_sent is True
    assert len(fake.requests_for("createTask")) == 1
    assert len(fake.tasks) == 1


@pytest.mark.anyio
async def test_a_slow_answer_is_a_timeout(fake: FakeApikley) -> None:
    fake.reset()
    fake.set_latency(1.0, operation="recordInfo")
    try:
        for transport in TRANSPORTS:
            async with (
                httpx_aiohttp.HttpxAiohttpClient() as http,
                fake.async_client(
                    http_client=http if transport == "aiohttp" else None, timeout=0.2, max_retries=0
                ) as client,
            ):
                with pytest.raises(APITimeoutError):
                    await client.get_task("task_any")
    finally:
        fake.clear_faults()


@pytest.mark.anyio
async def test_a_refused_connection_is_a_connection_error() -> None:
    for transport in TRANSPORTS:
        async with (
            httpx_aiohttp.HttpxAiohttpClient() as http,
            AsyncClient(
                "sk-test",
                base_url="http://127.0.0.1:9",
                http_client=http if transport == "aiohttp" else None,
                max_retries=0,
            ) as client,
        ):
            with pytest.raises(APIConnectionError) as caught:
                await client.get_credits()
            assert caught.value.request_sent is False


@pytest.mark.anyio
async def test_a_truncated_answer_is_a_typed_error(client: AsyncClient, fake: FakeApikley) -> None:
    task_id = (await client.create_character("https://files.example.com/a.mp4")).task_id
    fake.malformed_next("recordInfo", kind="truncated", times=None)
    try:
        with pytest.raises(Sora2CharactersError) as caught:
            await client.get_task(task_id)
    finally:
        fake.clear_faults()
    assert isinstance(caught.value, (APIConnectionError, MalformedResponseError))


def _wrapped(outer: type[Exception], cause: BaseException) -> Exception:
    error = outer("mapped by httpx-aiohttp")
    error.__cause__ = cause
    return error


def test_only_connect_phase_errors_count_as_not_sent() -> None:
    import aiohttp
    from aiohttp.client_reqrep import ConnectionKey

    from sora2_characters._client import _from_aiohttp

    key = ConnectionKey("127.0.0.1", 9, False, True, None, None, None)
    refused = _wrapped(httpx.ConnectTimeout, aiohttp.ClientConnectorError(key, OSError(111, "refused")))
    assert _from_aiohttp(refused) is refused
    connect_timeout = _wrapped(httpx.ConnectTimeout, aiohttp.ConnectionTimeoutError("connect"))
    assert _from_aiohttp(connect_timeout) is connect_timeout
    for after_sending in (aiohttp.ServerDisconnectedError(), aiohttp.ClientOSError(104, "reset")):
        corrected = _from_aiohttp(_wrapped(httpx.ConnectTimeout, after_sending))
        assert isinstance(corrected, httpx.ReadError)
        assert corrected.__cause__ is after_sending
    raw = aiohttp.ClientPayloadError("the body ended early")
    assert isinstance(_from_aiohttp(raw), httpx.ReadError)
    foreign = ValueError("not a transport error")
    assert _from_aiohttp(foreign) is foreign
    read_timeout = _wrapped(httpx.ReadTimeout, aiohttp.SocketTimeoutError("read"))
    assert _from_aiohttp(read_timeout) is read_timeout
