"""Schemathesis against the fake, in both error styles, each checked with the spec it must follow.

- ``http`` style (HTTP status = body code), checked with the strict documented spec
  (``openapi/bundled/apikley.json``), the one the generated client is built from.
- ``live`` style, the fake's default, checked with the live wire spec
  (``openapi/bundled/apikley-live.json``: errors as HTTP 200 envelopes, nullable record fields,
  ``recordId``...). The live style's HTTP 200 errors are by design outside the strict spec.

For every operation, generated valid requests get answers that pass schemathesis' stateless checks;
seeded requests (a task in every state, a real file, the errors) show the success answers conform.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
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
from sora2_characters._fake.routes import OPERATION_PATHS
from sora2_characters._spec import spec_path
from sora2_characters.testing import FakeApikley

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25
# Random values cannot name a task or a stored file, nor (almost ever) be valid base64: in the http
# style these operations answer their documented error to generated requests; the seeded test
# covers success.
HTTP_EXPECTED_ERRORS = {
    "GET /api/v1/jobs/recordInfo": {422},
    "POST /api/v1/common/download-url": {422},
    "POST /api/file-base64-upload": {400},
}


HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _labels(path: Path) -> list[str]:
    """The spec's operation labels (``POST /api/v1/jobs/createTask``), read without schemathesis.

    Collection (in every xdist worker) needs only the labels; the schemathesis schema, which takes
    a second to load, is built by :func:`operations` in the worker that runs the tests.
    """
    spec = json.loads(path.read_text(encoding="utf-8"))
    return sorted(
        f"{method.upper()} {route}"
        for route, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    )


def _http_outcome(response: httpx.Response) -> int:
    return response.status_code


def _live_outcome(response: httpx.Response) -> int:
    assert response.status_code == 200  # live: every answer of a known route is HTTP 200
    code: int = response.json()["code"]
    return code


@dataclass(frozen=True)
class Style:
    """One error style of the fake and the spec its answers must fit."""

    name: str
    spec: Path
    #: The answer's outcome: the HTTP status (http style) or the body code (live style, always 200).
    outcome: Callable[[httpx.Response], int]
    #: Per operation, the outcomes generated requests may all end in (besides success).
    expected_errors: dict[str, set[int]]


STYLES = {
    "http": Style("http", spec_path(), _http_outcome, HTTP_EXPECTED_ERRORS),
    "live": Style("live", OPENAPI / "bundled" / "apikley-live.json", _live_outcome, {}),
}
CASES = [(style, label) for style in STYLES for label in _labels(STYLES[style].spec)]


@functools.cache
def operations(style: str) -> dict[str, Any]:
    """The style's spec operations by label, as schemathesis loads them; the spec must have no invalid one."""
    loaded: dict[str, Any] = {}
    for result in schemathesis.openapi.from_path(STYLES[style].spec).get_all_operations():
        if not isinstance(result, Ok):
            raise result.err()
        operation: Any = result.ok()
        loaded[operation.label] = operation
    return loaded


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeApikley]]:
    options: dict[str, Any] = {"time_scale": 0, "initial_credits": 1e9, "fetch_timeout": 1.0}
    with (
        FakeApikley(error_style="http", **options) as http,
        FakeApikley(error_style="live", **options) as live,
    ):
        yield {"http": http, "live": live}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_operation_is_covered(style: str) -> None:
    labels = sorted(operations(style))
    assert labels == _labels(STYLES[style].spec)
    assert {operation_name(label) for label in labels} == set(OPERATION_PATHS.values())
    assert len(labels) == 7


@pytest.mark.parametrize(("style", "label"), CASES)
def test_generated_requests_get_conforming_answers(
    fakes: dict[str, FakeApikley], style: str, label: str
) -> None:
    fake, spec = fakes[style], STYLES[style]
    operation = operations(style)[label]
    headers = {"Authorization": f"Bearer {fake.api_key}"}
    outcomes: list[int] = []

    @settings(
        max_examples=MAX_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(data=st.data())
    def run(data: Any) -> None:
        case = data.draw(operation.as_strategy())
        response = case.call_and_validate(base_url=fake.base_url, headers=headers, checks=CHECKS, timeout=10)
        outcomes.append(spec.outcome(response))

    fake.reset()
    run()
    assert outcomes, "no request was made"
    if style == "http":
        assert set(outcomes) & ({200} | spec.expected_errors.get(label, set())), outcomes
    assert {r.operation for r in fake.requests} == {operation_name(label)}  # each reached its operation


def operation_name(label: str) -> str:
    """The fake's operation name for a spec label (``POST /api/v1/jobs/createTask``: ``createTask``)."""
    method, path = label.split(" ", 1)
    return OPERATION_PATHS[(method.lower(), path)]


def call(fake: FakeApikley, style: str, label: str, **parts: Any) -> Any:
    """Send one hand-made case of the operation ``label`` and run the style's checks on the answer."""
    if "body" in parts:
        parts["media_type"] = "application/json"
    case = operations(style)[label].Case(**parts)
    return case.call_and_validate(
        base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}, checks=CHECKS
    )


BODY = {"model": "sora-2-characters", "input": {"character_file_url": ["https://cdn.example.test/a.mp4"]}}
UPLOAD = {"base64Data": "aGk=", "uploadPath": "seed", "fileName": "hi.txt"}


def test_http_style_seeded_requests_get_conforming_success_answers(fakes: dict[str, FakeApikley]) -> None:
    """Requests naming a real task (in every state) and a real file succeed and fit the strict spec."""
    fake = fakes["http"]
    fake.reset()
    uploaded = call(fake, "http", "POST /api/file-base64-upload", body=UPLOAD)
    file_url = uploaded.json()["data"]["downloadUrl"]
    assert call(fake, "http", "POST /api/v1/common/download-url", body={"url": file_url}).status_code == 200
    task_ids = []
    for time_scale, fail in ((1000.0, False), (0.0, False), (0.0, True)):  # waiting, success, fail
        fake.time_scale = time_scale
        if fail:
            fake.fail_task(fail_code="501", fail_msg="content policy")
        task_ids.append(
            call(fake, "http", "POST /api/v1/jobs/createTask", body=BODY).json()["data"]["taskId"]
        )
    states = [
        call(fake, "http", "GET /api/v1/jobs/recordInfo", query={"taskId": task_id}).json()["data"]["state"]
        for task_id in task_ids
    ]
    assert states == ["waiting", "success", "fail"]


def test_live_style_every_state_and_the_errors_conform(fakes: dict[str, FakeApikley]) -> None:
    """A task in every state, the live errors (bad key, no credits, unknown id) and an upload conform."""
    fake = fakes["live"]
    fake.reset()
    for state in ("waiting", "queuing", "generating", "success", "fail"):
        task_id = fake.seed_task(state=state)
        answer = call(fake, "live", "GET /api/v1/jobs/recordInfo", query={"taskId": task_id}).json()
        assert answer["data"]["state"] == state
    unknown = call(fake, "live", "GET /api/v1/jobs/recordInfo", query={"taskId": "unknown"}).json()
    assert unknown["code"] == 422
    assert "recordId" in call(fake, "live", "POST /api/v1/jobs/createTask", body=BODY).json()["data"]
    fake.credits = 0  # the next test's reset() refills them
    assert call(fake, "live", "POST /api/v1/jobs/createTask", body=BODY).json()["code"] == 402
    uploaded = call(fake, "live", "POST /api/file-base64-upload", body=UPLOAD)
    assert uploaded.json()["data"]["success"] is True
    fake.api_keys = ()
    try:
        assert call(fake, "live", "GET /api/v1/chat/credit").json()["code"] == 401
    finally:
        fake.api_keys = (fake.api_key,)
