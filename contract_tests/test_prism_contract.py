"""The wrapper against a real Prism mock of the strict bundle: the contract as Prism enforces it.

Prism answers with the spec's examples, a missing bearer header with HTTP 401, spec violations with
HTTP 422 and ``Prefer: code=N`` with the documented response N, each with the matching HTTP status
(the live API says the same with HTTP 200): the client must map both forms to the same exceptions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.support import loopback_http
from sora2_characters import (
    APIError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    FeatureDisabledError,
    GenerationFailedError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    TaskState,
    UnprocessableEntityError,
    UsageLimitError,
)
from sora2_characters._prism import PrismServer

pytestmark = pytest.mark.prism

EXAMPLE_TASK_ID = "task_sora-2-characters_1765174270120"
VIDEO = "https://static.aiquickdraw.com/tools/example/character1.mp4"
KEY = "sk-prism-contract-key"


def _no_sleep(_: float) -> None:
    """Retries against Prism need no real waiting."""


async def _no_async_sleep(_: float) -> None:
    """Retries against Prism need no real waiting."""


@contextlib.contextmanager
def _client(prism: PrismServer, headers: dict[str, str] | None = None, **options: Any) -> Iterator[Client]:
    """A client on Prism through a caller-owned httpx client (which the wrapper never closes)."""
    with (
        loopback_http(headers=headers or {}, timeout=10.0) as http,
        Client(KEY, base_url=prism.base_url, upload_base_url=prism.base_url, http_client=http,
               sleep=_no_sleep, **options) as client,
    ):  # fmt: skip
        yield client


@pytest.fixture(scope="module")
def wire() -> Iterator[httpx.Client]:
    """One bare httpx client for the raw requests to Prism."""
    with loopback_http(timeout=10.0) as client:
        yield client


@pytest.fixture
def client(prism_mock: PrismServer) -> Iterator[Client]:
    with _client(prism_mock) as bound:
        yield bound


def test_create_character_returns_the_task_id(client: Client) -> None:
    created = client.create_character(
        VIDEO, character_prompt="A friendly cartoon", safety_instruction="Family friendly",
        callback_url="https://your-domain.com/api/callback",
    )  # fmt: skip
    assert created.task_id == EXAMPLE_TASK_ID


def test_get_task_parses_the_spec_example(client: Client) -> None:
    task = client.get_task(EXAMPLE_TASK_ID)
    assert task.task_id == EXAMPLE_TASK_ID
    assert task.state is TaskState.SUCCESS
    assert task.character_id == "example_123456789"
    assert task.model == "sora-2-characters"
    assert task.created_at == dt.datetime(2025, 12, 8, 6, 11, 10, 120000, tzinfo=dt.UTC)
    assert task.completed_at == dt.datetime(2025, 12, 8, 6, 11, 25, 120000, tzinfo=dt.UTC)
    assert task.progress == 100
    assert task.credits_consumed == 2.5
    assert isinstance(task.param, dict)
    assert task.param["input"]["character_file_url"] == [VIDEO]


def test_create_character_and_wait_completes(client: Client) -> None:
    task = client.create_character_and_wait(VIDEO, max_wait=30.0)
    assert task.state is TaskState.SUCCESS
    assert task.character_id == "example_123456789"


def test_upload_and_credits_follow_the_spec(client: Client) -> None:
    from contract_tests.support import VIDEO_MP4

    uploaded = client.upload_video(VIDEO_MP4)
    assert uploaded.download_url.startswith("https://")
    assert uploaded.uploaded_at == dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    assert client.get_credits() == 100.5


@pytest.mark.anyio
async def test_async_client_against_prism(prism_mock: PrismServer) -> None:
    async with AsyncClient(KEY, base_url=prism_mock.base_url, upload_base_url=prism_mock.base_url,
                           sleep=_no_async_sleep) as client:  # fmt: skip
        created = await client.create_character(VIDEO)
        assert created.task_id == EXAMPLE_TASK_ID
        task = await client.get_task(created.task_id)
        assert task.character_id == "example_123456789"
        done = await client.create_character_and_wait(VIDEO, max_wait=30.0)
        assert done.state is TaskState.SUCCESS
        assert await client.get_credits() == 100.5


@pytest.mark.parametrize("authorization", ["", "Token abc", "Bearer"])
def test_missing_or_malformed_authorization_raises_authentication_error(
    prism_mock: PrismServer, authorization: str
) -> None:
    def mangle(request: httpx.Request) -> None:
        if authorization:
            request.headers["Authorization"] = authorization
        else:
            del request.headers["Authorization"]

    with (
        httpx.Client(event_hooks={"request": [mangle]}, timeout=10.0) as http,
        Client(KEY, base_url=prism_mock.base_url, http_client=http, sleep=_no_sleep) as client,
    ):
        with pytest.raises(AuthenticationError) as caught:
            client.create_character(VIDEO)
        assert caught.value.code == 401
        assert caught.value.http_status == 401
        with pytest.raises(AuthenticationError):
            client.get_task(EXAMPLE_TASK_ID)


CREATE_ERRORS: list[tuple[int, type[APIError]]] = [
    (400, BadRequestError),
    (402, InsufficientCreditsError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (433, UsageLimitError),
    (455, ServiceUnavailableError),
    (500, InternalServerError),  # the seed documents 500 without a body: mapped by HTTP status
    (501, GenerationFailedError),
    (505, FeatureDisabledError),
]


@pytest.mark.parametrize(("code", "error"), CREATE_ERRORS, ids=[str(code) for code, _ in CREATE_ERRORS])
def test_prefer_code_reaches_every_create_task_error(
    prism_mock: PrismServer, code: int, error: type[APIError]
) -> None:
    requests: list[httpx.Request] = []
    with (
        httpx.Client(headers={"Prefer": f"code={code}"}, event_hooks={"request": [requests.append]}) as http,
        Client(KEY, base_url=prism_mock.base_url, http_client=http, sleep=_no_sleep, max_retries=2) as client,
        pytest.raises(error) as caught,
    ):
        client.create_character(VIDEO)
    assert type(caught.value) is error
    assert caught.value.code == (None if code == 500 else code)  # no body: there is no body code
    assert caught.value.http_status == code
    # Only "nothing was created" answers are retried on createTask.
    assert len(requests) == (3 if code in (429, 455) else 1)


QUERY_ERRORS: list[tuple[int, type[APIError]]] = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (404, NotFoundError),
    (422, NotFoundError),  # "recordInfo is null": the task does not exist
    (429, RateLimitError),
    (455, ServiceUnavailableError),
    (500, InternalServerError),
]


@pytest.mark.parametrize(("code", "error"), QUERY_ERRORS, ids=[str(code) for code, _ in QUERY_ERRORS])
def test_prefer_code_reaches_every_task_query_error(
    prism_mock: PrismServer, code: int, error: type[APIError]
) -> None:
    with _client(prism_mock, {"Prefer": f"code={code}"}) as client, pytest.raises(error) as caught:
        client.get_task(EXAMPLE_TASK_ID)
    assert type(caught.value) is error
    assert caught.value.http_status == code


# --- the client's local validation agrees with Prism's --------------------------------------------

CHARACTERS = ["a", "é", "字", "\U0001f600", " ", "\n"]
texts_near_the_limit = st.builds(
    lambda char, length, tail: (char * length + tail)[: length + len(tail)],
    st.sampled_from(CHARACTERS),
    st.integers(min_value=4990, max_value=5010),
    st.text(max_size=3),
)
optional_texts = st.none() | st.text(max_size=40) | texts_near_the_limit
http_urls = st.builds(
    "{}://{}.example.com/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_./-]{0,30}", fullmatch=True),
)
# Strings both sides must refuse as URLs: relative, empty, spaces, no scheme.
not_urls = st.sampled_from(["", "character.mp4", "/videos/a.mp4", "not a url", "www.example.com/a.mp4"])
url_lists = st.lists(http_urls | not_urls, min_size=0, max_size=2)
callback_urls = st.none() | http_urls | not_urls


def _body(urls: list[str], prompt: str | None, safety: str | None, callback: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "sora-2-characters", "input": {"character_file_url": urls}}
    if prompt is not None:
        body["input"]["character_prompt"] = prompt
    if safety is not None:
        body["input"]["safety_instruction"] = safety
    if callback is not None:
        body["callBackUrl"] = callback
    return body


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(urls=url_lists, prompt=optional_texts, safety=optional_texts, callback=callback_urls)
def test_local_validation_agrees_with_prism(
    prism_mock: PrismServer,
    wire: httpx.Client,
    *,
    urls: list[str],
    prompt: str | None,
    safety: str | None,
    callback: str | None,
) -> None:
    raw = wire.post(
        f"{prism_mock.base_url}/api/v1/jobs/createTask",
        content=json.dumps(_body(urls, prompt, safety, callback)),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert raw.status_code in (200, 422), raw.text
    prism_accepts = raw.status_code == 200

    client_accepts = len(urls) == 1  # the API takes exactly one video; other lengths cannot be sent
    if client_accepts:
        with _client(prism_mock, max_retries=0) as client:
            try:
                client.create_character(urls[0], character_prompt=prompt, safety_instruction=safety,
                                        callback_url=callback)  # fmt: skip
            except InvalidInputError:
                client_accepts = False
    assert client_accepts == prism_accepts, f"client {client_accepts}, Prism {raw.status_code}: {raw.text}"


@pytest.mark.parametrize("url", ["ftp://files.example.com/a.mp4", "javascript:alert(1)", "mailto:a@b.c"])
def test_client_is_stricter_than_the_spec_on_url_schemes(prism_mock: PrismServer, url: str) -> None:
    """The spec's ``format: uri`` admits any scheme; the API can only fetch http(s), so we refuse early."""
    raw = httpx.post(
        f"{prism_mock.base_url}/api/v1/jobs/createTask",
        json=_body([url], None, None, None),
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10.0,
    )
    assert raw.status_code == 200
    with _client(prism_mock) as client, pytest.raises(InvalidInputError, match="video_url"):
        client.create_character(url)
