"""``sora2_characters._exceptions``: the hierarchy, transport errors translated and
chained, no key in any text."""

from __future__ import annotations

import traceback

import httpx
import pytest
import respx

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
from sora2_characters._models import TaskInfo


def test_the_key_is_absent_from_a_formatted_chained_traceback() -> None:
    with respx.mock:
        respx.get(QUERY_URL).mock(side_effect=httpx.ConnectError(f"refused for {CREDITS_URL}"))
        respx.post(CREATE_URL).mock(return_value=error(401, msg="You do not have access permissions"))
        client = make_client(max_retries=1)
        for call in (lambda: client.get_task("t"), lambda: client.create_character(VIDEO_URL)):
            with pytest.raises(sc.Sora2CharactersError) as caught:
                call()
            exc = caught.value
            text = "".join(traceback.format_exception(exc))
            summary = traceback.TracebackException.from_exception(exc, capture_locals=True)
            text += "".join(summary.format())
            assert KEY not in text
            assert f"{type(exc).__qualname__}: " in text  # the error's own line is there, redacted


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
