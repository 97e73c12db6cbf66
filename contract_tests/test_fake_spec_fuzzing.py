"""Schemathesis against the fake: generated valid requests for every operation, stateless checks.

The fake runs in the ``http`` error style (HTTP status = body code), the one the spec describes;
the live style's HTTP 200 errors are by design outside the strict spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sora2_characters._spec import spec_path
from sora2_characters.testing import FakeApikley

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SCHEMA = schemathesis.openapi.from_path(spec_path())
OPERATIONS: dict[str, Any] = {}
for _result in SCHEMA.get_all_operations():
    if not isinstance(_result, Ok):
        raise _result.err()  # the spec must have no invalid operation
    _operation: Any = _result.ok()
    OPERATIONS[_operation.label] = _operation
MAX_EXAMPLES = 25
# Random values cannot name a task or a stored file, nor (almost ever) be valid base64: these
# operations answer their documented error to generated requests; the seeded test covers success.
EXPECTED_ERRORS = {
    "GET /api/v1/jobs/recordInfo": {422},
    "POST /api/v1/common/download-url": {422},
    "POST /api/file-base64-upload": {400},
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApikley]:
    with FakeApikley(error_style="http", time_scale=0, initial_credits=1e9, fetch_timeout=1.0) as server:
        yield server


def test_every_operation_is_covered() -> None:
    assert len(OPERATIONS) == 7


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_generated_requests_get_conforming_answers(fake: FakeApikley, label: str) -> None:
    operation = OPERATIONS[label]
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    statuses: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: Any) -> None:
        case = data.draw(operation.as_strategy())
        response = case.call_and_validate(base_url=fake.base_url, headers=headers, checks=CHECKS, timeout=10)
        statuses.append(response.status_code)

    fake.reset()
    run()
    assert statuses, "no request was made"
    assert set(statuses) & ({200} | EXPECTED_ERRORS.get(label, set())), statuses
    operation_name = {r.operation for r in fake.requests}
    assert len(operation_name) == 1, operation_name  # every call reached the intended operation


def call(fake: FakeApikley, label: str, **parts: Any) -> Any:
    """Send one hand-made case of the operation ``label`` and run the checks on the answer."""
    if "body" in parts:
        parts["media_type"] = "application/json"
    case = OPERATIONS[label].Case(**parts)
    return case.call_and_validate(
        base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}, checks=CHECKS
    )


def test_seeded_requests_get_conforming_success_answers(fake: FakeApikley) -> None:
    """Requests naming a real task (in every state) and a real file succeed and conform."""
    fake.reset()
    uploaded = call(
        fake,
        "POST /api/file-base64-upload",
        body={"base64Data": "aGk=", "uploadPath": "seed", "fileName": "hi.txt"},
    )
    file_url = uploaded.json()["data"]["downloadUrl"]
    assert call(fake, "POST /api/v1/common/download-url", body={"url": file_url}).status_code == 200
    body = {"model": "sora-2-characters", "input": {"character_file_url": ["https://cdn.example.test/a.mp4"]}}
    task_ids = []
    for time_scale, fail in ((1000.0, False), (0.0, False), (0.0, True)):  # waiting, success, fail
        fake.time_scale = time_scale
        if fail:
            fake.fail_task(fail_code="501", fail_msg="content policy")
        task_ids.append(call(fake, "POST /api/v1/jobs/createTask", body=body).json()["data"]["taskId"])
    states = [
        call(fake, "GET /api/v1/jobs/recordInfo", query={"taskId": task_id}).json()["data"]["state"]
        for task_id in task_ids
    ]
    assert states == ["waiting", "success", "fail"]
