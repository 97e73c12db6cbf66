"""``sora2_characters._api``: requests built, envelopes decoded; every documented code in both forms,
unknown codes, malformed bodies, long messages, and arbitrary bodies raising only our errors."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

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
    error,
    json_values,
    make_client,
    ok,
    records,
    task,
)
from sora2_characters import Client
from sora2_characters._api import decode_credits, decode_envelope, decode_upload_envelope
from sora2_characters._models import CreatedTask, TaskInfo, UploadedFile

CODES: dict[int, type[sc.APIError]] = {
    400: sc.BadRequestError,
    401: sc.AuthenticationError,
    402: sc.InsufficientCreditsError,
    404: sc.NotFoundError,
    422: sc.UnprocessableEntityError,
    429: sc.RateLimitError,
    433: sc.UsageLimitError,
    455: sc.ServiceUnavailableError,
    500: sc.InternalServerError,
    501: sc.GenerationFailedError,
    505: sc.FeatureDisabledError,
}


@pytest.mark.parametrize("form", ["http-200", "matching-status"])
@pytest.mark.parametrize(("code", "cls"), sorted(CODES.items()))
def test_every_code_maps_to_its_class_in_both_forms(code: int, cls: type[sc.APIError], form: str) -> None:
    status = 200 if form == "http-200" else code
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(CREATE_URL).mock(return_value=error(code, status=status, msg=f"m{code}"))
        client = make_client(max_retries=0)
        with pytest.raises(cls) as caught:
            client.create_character(VIDEO_URL)
    assert type(caught.value) is cls
    assert caught.value.code == code
    assert caught.value.http_status == status
    assert caught.value.message == f"m{code}"
    assert f"code {code}" in str(caught.value)
    assert route.call_count == 1


@pytest.mark.parametrize("form", ["http-200", "matching-status"])
@pytest.mark.parametrize(("code", "cls"), sorted(CODES.items()))
def test_every_code_from_the_task_query(code: int, cls: type[sc.APIError], form: str) -> None:
    status = 200 if form == "http-200" else code
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=error(code, status=status))
        with pytest.raises(cls) as caught:
            make_client(max_retries=0).get_task("task_1")
    assert caught.value.code == code


@pytest.mark.parametrize(("code", "status"), [(418, 200), (599, 599), (201, 200)])
def test_unknown_code_raises_api_error_itself(code: int, status: int) -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(return_value=error(code, status=status))
        with pytest.raises(sc.APIError) as caught:
            make_client(max_retries=0).get_credits()
    assert type(caught.value) is sc.APIError
    assert caught.value.code == code


def test_422_record_info_is_null_is_not_found_from_get_task() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=error(422, msg="recordInfo is null"))
        with pytest.raises(sc.NotFoundError) as caught:
            make_client().get_task("task_missing")
    assert caught.value.code == 422


def test_422_validation_error_elsewhere_stays_unprocessable() -> None:
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=error(422, msg="character_file_url is invalid"))
        with pytest.raises(sc.UnprocessableEntityError):
            make_client().create_character(VIDEO_URL)


@pytest.mark.parametrize(
    ("status", "cls"),
    [(502, sc.APIError), (503, sc.APIError), (500, sc.InternalServerError), (429, sc.RateLimitError)],
)
def test_html_error_page_maps_by_http_status(status: int, cls: type[sc.APIError]) -> None:
    html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=httpx.Response(status, content=html))
        with pytest.raises(cls) as caught:
            make_client(max_retries=0).create_character(VIDEO_URL)
    assert type(caught.value) is cls
    assert caught.value.code is None
    assert caught.value.http_status == status


def test_body_code_200_with_http_error_status_is_an_error() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(
            return_value=httpx.Response(500, json={"code": 200, "msg": "ok", "data": 1})
        )
        with pytest.raises(sc.InternalServerError) as caught:
            make_client(max_retries=0).get_credits()
    assert caught.value.code is None
    assert caught.value.http_status == 500


MALFORMED_BODIES = [
    pytest.param(b"<html>oops</html>", id="html"),
    pytest.param(b"", id="empty"),
    pytest.param(b'{"code": 200, "msg": "success", "data": {"taskId": "t', id="truncated"),
    pytest.param(b'{"code": 200, "msg": "success", "data": null}', id="data-null"),
    pytest.param(b'{"code": 200, "msg": "success"}', id="data-missing"),
    pytest.param(b'{"code": 200, "msg": "success", "data": []}', id="data-list"),
    pytest.param(b'{"code": 200, "msg": "success", "data": {"taskId": 7.5e400}}', id="data-wrong-type"),
    pytest.param(b'{"code": true, "msg": "success", "data": {"taskId": "t"}}', id="code-bool"),
    pytest.param(b'{"code": "abc", "data": {"taskId": "t"}}', id="code-text"),
    pytest.param(b'{"msg": "success", "data": {"taskId": "t"}}', id="code-missing"),
    pytest.param(b"[1, 2, 3]", id="array"),
    pytest.param(b"null", id="null"),
    pytest.param(b"\xff\xfe\x00garbage", id="binary"),
]


@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_malformed_create_task_bodies(body: bytes) -> None:
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=httpx.Response(200, content=body))
        with pytest.raises(sc.MalformedResponseError) as caught:
            make_client().create_character(VIDEO_URL)
    assert caught.value.code is None or caught.value.code == 200


@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_malformed_task_query_bodies(body: bytes) -> None:
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=httpx.Response(200, content=body))
        with pytest.raises(sc.MalformedResponseError):
            make_client().get_task("task_1")
    assert route.call_count == 1  # a malformed 200 is not retried


def test_message_falls_back_to_message_key() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(return_value=httpx.Response(200, json={"code": 402, "message": "broke"}))
        with pytest.raises(sc.InsufficientCreditsError) as caught:
            make_client().get_credits()
    assert caught.value.message == "broke"


def test_code_given_as_a_string_is_read() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(return_value=httpx.Response(200, json={"code": "401", "msg": "bad key"}))
        with pytest.raises(sc.AuthenticationError):
            make_client().get_credits()


def test_decoding_error_is_malformed() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(
            return_value=httpx.Response(
                200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}
            )
        )
        with pytest.raises(sc.MalformedResponseError):
            make_client(max_retries=0).get_credits()


# -- properties: arbitrary bodies raise only our errors ---------------------------------------------

envelopes = st.fixed_dictionaries(
    {},
    optional={
        "code": st.sampled_from([200, 401, 422, 500, "200", 200.0, None, True]) | st.integers(),
        "msg": json_values,
        "message": json_values,
        "success": json_values,
        "data": json_values | records,
    },
)


def _decode_all(status: int, content: bytes) -> None:
    decoders: list[Any] = [
        lambda: TaskInfo.from_data(decode_envelope(status, content), task_id="t"),
        lambda: CreatedTask.from_data(decode_envelope(status, content)),
        lambda: decode_credits(decode_envelope(status, content)),
        lambda: UploadedFile.from_data(decode_upload_envelope(status, content)),
    ]
    for decoder in decoders:
        with contextlib.suppress(sc.Sora2CharactersError):
            decoder()


@settings(max_examples=200, deadline=None)
@given(body=envelopes | json_values, status=st.sampled_from([200, 201, 400, 404, 429, 500, 502]))
def test_arbitrary_json_bodies_raise_only_our_errors(body: Any, status: int) -> None:
    _decode_all(status, json.dumps(body).encode())


@settings(max_examples=150, deadline=None)
@given(content=st.binary(max_size=200), status=st.integers(min_value=100, max_value=599))
def test_arbitrary_bytes_raise_only_our_errors(content: bytes, status: int) -> None:
    _decode_all(status, content)


@pytest.fixture(scope="module")
def shared_client() -> Iterator[Client]:
    """One client for every hypothesis example (module scope: hypothesis refuses per-test fixtures)."""
    with make_client(max_retries=0) as client:
        yield client


@settings(max_examples=100, deadline=None)
@given(body=envelopes)
def test_arbitrary_bodies_through_the_client(shared_client: Client, body: dict[str, Any]) -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(return_value=httpx.Response(200, content=json.dumps(body).encode()))
        client = shared_client
        with contextlib.suppress(sc.Sora2CharactersError):
            client.get_task("t")


@pytest.mark.parametrize("task_id", ["a b", "é/ü?&x=1#frag", "task\u200b_1", "t+1%20"])
def test_task_ids_are_url_encoded(task_id: str) -> None:
    with respx.mock:
        route = respx.get(QUERY_URL).mock(return_value=ok(task("waiting", task_id=task_id)))
        info = make_client().get_task(task_id)
    request = route.calls[0].request
    assert request.url.path == "/api/v1/jobs/recordInfo"
    assert request.url.params["taskId"] == task_id
    assert info.task_id == task_id


@pytest.mark.parametrize("code", ["200", 200.0, " 200"])
def test_success_code_as_a_string_or_float(code: Any) -> None:
    body = {"code": code, "msg": "success", "data": {"taskId": "task_s"}}
    with respx.mock:
        respx.post(CREATE_URL).mock(return_value=httpx.Response(200, json=body))
        if code == " 200":  # not a number as JSON sends it: not the envelope
            with pytest.raises(sc.MalformedResponseError):
                make_client().create_character(VIDEO_URL)
        else:
            assert make_client().create_character(VIDEO_URL).task_id == "task_s"


def test_msg_wins_over_message_and_empty_msg_falls_back() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(
            side_effect=[
                httpx.Response(200, json={"code": 402, "msg": "from msg", "message": "from message"}),
                httpx.Response(200, json={"code": 402, "msg": "", "message": "from message"}),
                httpx.Response(200, json={"code": 402}),
            ]
        )
        client = make_client()
        messages = []
        for _ in range(3):
            with pytest.raises(sc.InsufficientCreditsError) as caught:
                client.get_credits()
            messages.append(caught.value.message)
    assert messages[:2] == ["from msg", "from message"]
    assert "402" in messages[2]


def test_a_huge_body_gives_a_bounded_message() -> None:
    page = "x" * 900_000  # under the 1 MiB body cap
    with respx.mock:
        respx.get(CREDITS_URL).mock(return_value=httpx.Response(200, json={"code": 505, "msg": page}))
        with pytest.raises(sc.FeatureDisabledError) as caught:
            make_client().get_credits()
    assert len(str(caught.value)) < 1200
    assert "900000 characters" in caught.value.message
