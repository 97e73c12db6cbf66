"""Every documented code in both of its forms, unknown codes, malformed bodies, transport errors."""

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
    KEY,
    QUERY_URL,
    VIDEO_URL,
    error,
    make_client,
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


def test_task_query_wrong_field_types_are_tolerated() -> None:
    record = {
        "taskId": "t",
        "state": 42,
        "resultJson": "{not json",
        "failCode": 422,
        "failMsg": None,
        "createTime": "soon",
        "updateTime": 10**400,
        "progress": "50",
        "creditsConsumed": [],
        "param": {"already": "decoded"},
    }
    with respx.mock:
        respx.get(QUERY_URL).mock(
            return_value=httpx.Response(
                200, content=json.dumps(record).join(['{"code": 200, "msg": "ok", "data": ', "}"])
            )
        )
        info = make_client().get_task("t")
    assert info.state.value == "42"
    assert not info.state.is_known
    assert not info.state.is_terminal
    assert info.character_id is None
    assert info.fail_code == "422"
    assert info.created_at is None
    assert info.updated_at is None
    assert info.progress == 50
    assert info.credits_consumed is None
    assert info.param == {"already": "decoded"}


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


@pytest.mark.parametrize(
    ("exc", "cls", "sent"),
    [
        (httpx.ConnectError("refused"), sc.APIConnectionError, False),
        (httpx.ConnectTimeout("slow"), sc.APITimeoutError, False),
        (httpx.PoolTimeout("pool"), sc.APITimeoutError, False),
        (httpx.ReadTimeout("read"), sc.APITimeoutError, True),
        (httpx.WriteTimeout("write"), sc.APITimeoutError, True),
        (httpx.ReadError("reset"), sc.APIConnectionError, True),
        (httpx.WriteError("broken pipe"), sc.APIConnectionError, True),
        (httpx.RemoteProtocolError("eof"), sc.APIConnectionError, True),
    ],
)
def test_transport_errors_are_translated_and_chained(
    exc: Exception, cls: type[Exception], sent: bool
) -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(side_effect=exc)
        with pytest.raises(cls) as caught:
            make_client(max_retries=0).get_credits()
    assert type(caught.value) is cls
    assert caught.value.__cause__ is exc
    assert isinstance(caught.value, sc.APIConnectionError)
    assert caught.value.request_sent is sent


def test_decoding_error_is_malformed() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(
            return_value=httpx.Response(
                200, stream=httpx.ByteStream(b"not gzip"), headers={"Content-Encoding": "gzip"}
            )
        )
        with pytest.raises(sc.MalformedResponseError):
            make_client(max_retries=0).get_credits()


def test_the_key_never_appears_in_errors() -> None:
    with respx.mock:
        respx.get(CREDITS_URL).mock(side_effect=httpx.ConnectError("refused"))
        respx.post(CREATE_URL).mock(return_value=error(401, msg="You do not have access permissions"))
        client = make_client(max_retries=0)
        for call in (client.get_credits, lambda: client.create_character(VIDEO_URL)):
            with pytest.raises(sc.Sora2CharactersError) as caught:
                call()
            text = f"{caught.value!s} {caught.value!r} {caught.getrepr(showlocals=True)}"
            assert KEY not in text


def test_task_failed_and_wait_timeout_stand_apart() -> None:
    info = TaskInfo.from_data(task("fail", failCode="500", failMsg="internal error"))
    failed = sc.TaskFailedError(info)
    assert not isinstance(failed, sc.APIError)
    assert (failed.task_id, failed.fail_code, failed.fail_message, failed.task) == (
        "task_1",
        "500",
        "internal error",
        info,
    )
    timeout = sc.WaitTimeoutError("task_1", sc.TaskState.GENERATING, 5.0)
    assert not isinstance(timeout, sc.APIError)
    assert timeout.last_state is sc.TaskState.GENERATING
    assert "generating" in str(timeout)
    assert issubclass(sc.InvalidInputError, ValueError)
    assert issubclass(sc.APITimeoutError, sc.APIConnectionError)


# -- properties: arbitrary bodies raise only our errors ---------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
task_keys = st.sampled_from(
    [
        "taskId",
        "task_id",
        "model",
        "state",
        "param",
        "resultJson",
        "failCode",
        "failMsg",
        "costTime",
        "completeTime",
        "createTime",
        "updateTime",
        "progress",
        "creditsConsumed",
        "downloadUrl",
        "fileName",
        "fileSize",
        "uploadedAt",
        "mimeType",
        "character_id",
    ]
)
records = st.dictionaries(
    task_keys, json_values | st.sampled_from(["success", "fail", "", "{}", '{"character_id": 1}'])
)
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


@settings(max_examples=150, deadline=None)
@given(record=records)
def test_arbitrary_task_records_decode_or_raise_malformed(record: dict[str, Any]) -> None:
    try:
        info = TaskInfo.from_data(record)
    except sc.MalformedResponseError:
        task_id = record.get("taskId", record.get("task_id"))
        assert "state" not in record or (
            not (isinstance(task_id, str) and task_id) and type(task_id) is not int
        )
        return
    assert isinstance(info.state, sc.TaskState)
    assert info.character_id is None or isinstance(info.character_id, str)
    assert info.raw is record


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
