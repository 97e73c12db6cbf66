"""The live wire spec (``openapi/bundled/apikley-live.json``) describes every captured answer.

Each sample of ``contract_tests/live/samples`` is validated against the schema the live spec gives
for its endpoint, HTTP status and content type (callbacks: the request body of createTask's
callback). The strict bundle stays the documented contract, so it is shown to refuse the live
shapes it does not document. No schema in any spec file says ``nullable`` without ``type``:
OpenAPI 3.0.3 gives ``nullable`` no meaning there, and swagger-mock-validator crashes on it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from contract_tests.support import OPENAPI, ROOT, STRICT_BUNDLE

LIVE_BUNDLE = OPENAPI / "bundled" / "apikley-live.json"
SAMPLES = sorted((ROOT / "contract_tests" / "live" / "samples").glob("*.json"))
SPEC_FILES = sorted(OPENAPI.glob("*.json")) + sorted((OPENAPI / "bundled").glob("*.json"))

# The sample's `endpoint` -> (path, method) of the operation that answers it.
ENDPOINTS = {
    "createTask": ("/api/v1/jobs/createTask", "post"),
    "recordInfo": ("/api/v1/jobs/recordInfo", "get"),
    "credits": ("/api/v1/chat/credit", "get"),
    "downloadUrl": ("/api/v1/common/download-url", "post"),
    "upload": ("/api/file-stream-upload", "post"),
    "upload.base64": ("/api/file-base64-upload", "post"),
}


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _sample(path: Path) -> dict[str, Any]:
    return _load(path)


def _operation(spec: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
    endpoint = sample["endpoint"]
    if endpoint == "upload" and "base64" in sample["kind"]:
        endpoint = "upload.base64"
    path, method = ENDPOINTS[endpoint]
    operation: dict[str, Any] = spec["paths"][path][method]
    return operation


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def schema_for(spec: dict[str, Any], sample: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The schema the spec gives for the sample's answer (or callback request), and the decoded body."""
    if sample["endpoint"] == "callback":
        create = spec["paths"]["/api/v1/jobs/createTask"]["post"]
        callbacks = create.get("callbacks")
        assert callbacks, "createTask describes no callback"
        (expression,) = _deref(spec, callbacks["taskFinished"]).values()
        body = expression["post"]["requestBody"]
        message = sample["request"]
    else:
        message = sample["response"]
        responses = _operation(spec, sample)["responses"]
        status = str(message["status"])
        assert status in responses, f"no response for HTTP {status}: {sorted(responses)}"
        body = _deref(spec, responses[status])
    media_type = _media_type(message["headers"])
    content = body.get("content", {})
    assert media_type in content, f"no {media_type} content: {sorted(content)}"
    text = message["body_text"]
    value = json.loads(text) if media_type == "application/json" else text
    return content[media_type]["schema"], value


def problems(spec: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Where ``value`` breaks ``schema`` of ``spec``, with OpenAPI 3.0 semantics (nullable, formats)."""
    root = {"allOf": [schema], "components": spec["components"]}
    validator = OAS30Validator(root, format_checker=OAS30Validator.FORMAT_CHECKER)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(value)]


def why_refused(spec: dict[str, Any], sample: dict[str, Any]) -> list[str]:
    """Why ``spec`` does not describe the sample's answer (empty when it does)."""
    try:
        schema, value = schema_for(spec, sample)
    except AssertionError as exc:
        return [str(exc)]
    return problems(spec, schema, value)


@pytest.fixture(scope="module")
def live_spec() -> dict[str, Any]:
    return _load(LIVE_BUNDLE)


@pytest.fixture(scope="module")
def strict_spec() -> dict[str, Any]:
    return _load(STRICT_BUNDLE)


def test_the_corpus_is_there() -> None:
    assert len(SAMPLES) >= 30
    endpoints = {_sample(path)["endpoint"] for path in SAMPLES}
    assert endpoints <= {*ENDPOINTS, "callback"}, f"an endpoint the test cannot place: {endpoints}"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.stem)
def test_every_captured_answer_validates_against_the_live_spec(path: Path, live_spec: dict[str, Any]) -> None:
    assert why_refused(live_spec, _sample(path)) == []


@pytest.mark.parametrize(
    "sample_id",
    [
        "live_unauthorized_http200",  # an error with HTTP 200 and no data key
        "live_unknown_path_spring_404",  # Spring's body, not an envelope
        "cloudflare_502_html_create",  # no 502 documented at all
        "doc_upload_auth_401",  # an upload error with HTTP 200
    ],
)
def test_the_strict_bundle_stays_the_documented_contract(sample_id: str, strict_spec: dict[str, Any]) -> None:
    sample = _sample(ROOT / "contract_tests" / "live" / "samples" / f"{sample_id}.json")
    assert why_refused(strict_spec, sample)


def _record(**changes: Any) -> dict[str, Any]:
    data = {
        "taskId": "5fdec09dc604e83ec6eb26b40c1b64d8",
        "model": "sora-2-characters",
        "state": "waiting",
        "param": "{}",
        "resultJson": "",
        "failCode": None,
        "failMsg": None,
        "costTime": None,
        "completeTime": None,
        "createTime": 1776488470625,
    }
    data.update(changes)
    return {"code": 200, "msg": "success", "data": data}


def _task_answer_schema(spec: dict[str, Any]) -> dict[str, Any]:
    operation = spec["paths"]["/api/v1/jobs/recordInfo"]["get"]
    schema: dict[str, Any] = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_record(costTime="154"), "costTime is an integer of seconds"),
        (_record(costTime=1.5), "costTime is an integer of seconds"),
        (_record(state="paused"), "state is one of the five"),
        (_record(resultJson=12), "resultJson is a string, an object or null"),
        (_record(taskId=None), "taskId is always there"),
        ({"code": 200, "msg": "success"}, "a success carries data"),
        ({"code": 401, "msg": "Unauthorized", "data": {"taskId": "x"}}, "an error carries no data"),
        ({"code": 401}, "an error says why"),
        ({"timestamp": 1, "status": 404, "error": "Not Found"}, "not an envelope on HTTP 200"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_live_spec_refuses_what_the_service_never_sends(
    body: dict[str, Any], reason: str, live_spec: dict[str, Any]
) -> None:
    assert problems(live_spec, _task_answer_schema(live_spec), body), reason


def test_the_live_spec_accepts_the_live_record_extras(live_spec: dict[str, Any]) -> None:
    body = _record(
        state="fail",
        failCode=501,
        failMsg="internal error, please try again later",
        costTime=12,
        completeTime=1776488625698,
        creditsConsumed=0,
        consumeCredits=2.5,
        remainedCredits=812.5,
        operationType="generate",
        successFlag=0,
        paramJson="{}",
        response=None,
    )
    schema = _task_answer_schema(live_spec)
    assert problems(live_spec, schema, body) == []
    assert problems(live_spec, schema, {"code": 422, "msg": "recordInfo is null", "data": None}) == []


def _nullable_without_type(node: Any, where: str) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("nullable") is True and "type" not in node:
            found.append(where or "/")
        for key, value in node.items():
            found += _nullable_without_type(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _nullable_without_type(item, f"{where}/{index}")
    return found


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda path: path.name)
def test_no_schema_says_nullable_without_type(path: Path) -> None:
    found = _nullable_without_type(_load(path), "")
    assert not found, f"{path.name}: nullable without type at {found}"


def test_the_nullable_check_finds_one() -> None:
    assert _nullable_without_type({"a": {"properties": {"b": {"nullable": True}}}}, "") == ["/a/properties/b"]
