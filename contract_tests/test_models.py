"""``sora2_characters._models``: every documented form of a task record, tolerated
oddities, arbitrary records."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings

import sora2_characters as sc
from contract_tests.support import (
    QUERY_URL,
    make_client,
    records,
    task,
)
from sora2_characters._models import TaskInfo

# -- task records: every documented form ----------------------------------------------------------


@pytest.mark.parametrize(
    ("result_json", "expected"),
    [
        (json.dumps({"character_id": "c1"}), "c1"),
        ({"character_id": "c2"}, "c2"),
        (json.dumps({"character_id_list": "c3"}), "c3"),
        (json.dumps({"character_id_list": ["c4", "c5"]}), "c4"),
        ({"character_id_list": ["c6"]}, "c6"),
        ("", None),
        (None, None),
        ("   ", None),
        ("{broken", None),
        (json.dumps({"other": 1}), None),
        (json.dumps(["c7"]), None),
    ],
)
def test_result_json_forms(result_json: Any, expected: str | None) -> None:
    info = TaskInfo.from_data(task("success", resultJson=result_json))
    assert info.character_id == expected


@pytest.mark.parametrize(
    ("fail_code", "expected"), [("422", "422"), (422, "422"), ("", None), (None, None), (500.0, "500.0")]
)
def test_fail_code_forms(fail_code: Any, expected: str | None) -> None:
    info = TaskInfo.from_data(task("fail", failCode=fail_code, failMsg=""))
    assert info.fail_code == expected
    assert info.fail_message is None


def test_timestamps_are_timezone_aware() -> None:
    info = TaskInfo.from_data(
        task("success", completeTime=1765174290120, createTime="2025-12-08T06:11:10", updateTime=1765174285)
    )
    for stamp in (info.created_at, info.updated_at, info.completed_at):
        assert stamp is not None
        assert stamp.utcoffset() == timedelta(0)
    assert info.completed_at is not None
    assert info.completed_at.timestamp() == pytest.approx(1765174290.120)


def test_unknown_state_is_kept_and_not_terminal() -> None:
    info = TaskInfo.from_data(task("PAUSED-for-review"))
    assert info.state.value == "PAUSED-for-review"
    assert not info.state.is_known
    assert not info.is_terminal
    assert TaskInfo.from_data(task("SUCCESS")).state is sc.TaskState.SUCCESS


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
