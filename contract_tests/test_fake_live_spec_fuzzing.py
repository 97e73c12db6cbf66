"""Schemathesis against the fake in its live style, checked with the live wire spec: 0 failures.

``openapi/bundled/apikley-live.json`` describes what the live service sends (errors as HTTP 200
envelopes, nullable record fields, ``recordId``...); the fake's default style must answer every
generated request within it, as ``test_fake_spec_fuzzing`` shows for the strict spec and the
``http`` style.
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

from contract_tests.support import OPENAPI
from sora2_characters.testing import FakeApikley

LIVE_BUNDLE = OPENAPI / "bundled" / "apikley-live.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SCHEMA = schemathesis.openapi.from_path(LIVE_BUNDLE)
OPERATIONS: dict[str, Any] = {}
for _result in SCHEMA.get_all_operations():
    if not isinstance(_result, Ok):
        raise _result.err()
    _operation: Any = _result.ok()
    OPERATIONS[_operation.label] = _operation
MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeApikley]:
    with FakeApikley(time_scale=0, initial_credits=1e9, fetch_timeout=1.0) as server:  # live style
        yield server


def test_every_operation_is_covered() -> None:
    assert len(OPERATIONS) == 7


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_generated_requests_get_answers_the_live_spec_allows(fake: FakeApikley, label: str) -> None:
    operation = OPERATIONS[label]
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    codes: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def run(data: Any) -> None:
        case = data.draw(operation.as_strategy())
        response = case.call_and_validate(base_url=fake.base_url, headers=headers, checks=CHECKS, timeout=10)
        assert response.status_code == 200  # live: every answer of a known route is HTTP 200
        codes.append(response.json()["code"])

    fake.reset()
    run()
    assert codes, "no request was made"
    assert {r.operation for r in fake.requests} == {operation_name(label)}


def operation_name(label: str) -> str:
    """The fake's operation name for a spec label (``POST /api/v1/jobs/createTask``: ``createTask``)."""
    from sora2_characters._fake.routes import OPERATION_PATHS

    method, path = label.split(" ", 1)
    return OPERATION_PATHS[(method.lower(), path)]


def call(fake: FakeApikley, label: str, **parts: Any) -> Any:
    """Send one hand-made case of ``label`` and run the checks on the answer."""
    if "body" in parts:
        parts["media_type"] = "application/json"
    case = OPERATIONS[label].Case(**parts)
    return case.call_and_validate(
        base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}, checks=CHECKS
    )


def test_every_state_and_the_errors_conform(fake: FakeApikley) -> None:
    """A task in every state, the live errors (bad key, no credits, unknown id) and an upload conform."""
    fake.reset()
    for state in ("waiting", "queuing", "generating", "success", "fail"):
        task_id = fake.seed_task(state=state)
        answer = call(fake, "GET /api/v1/jobs/recordInfo", query={"taskId": task_id}).json()
        assert answer["data"]["state"] == state
    assert call(fake, "GET /api/v1/jobs/recordInfo", query={"taskId": "unknown"}).json()["code"] == 422
    body = {"model": "sora-2-characters", "input": {"character_file_url": ["https://cdn.example.test/a.mp4"]}}
    assert "recordId" in call(fake, "POST /api/v1/jobs/createTask", body=body).json()["data"]
    fake.credits = 0
    assert call(fake, "POST /api/v1/jobs/createTask", body=body).json()["code"] == 402
    uploaded = call(
        fake,
        "POST /api/file-base64-upload",
        body={"base64Data": "aGk=", "uploadPath": "seed", "fileName": "hi.txt"},
    )
    assert uploaded.json()["data"]["success"] is True
    fake.api_keys = ()
    try:
        assert call(fake, "GET /api/v1/chat/credit").json()["code"] == 401
    finally:
        fake.api_keys = (fake.api_key,)
