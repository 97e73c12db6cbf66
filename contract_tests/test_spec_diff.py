"""``openapi/spec_diff.py``: every change between two specs is classified, breaking or compatible.

The table is proven on pairs made from our own specs, with the real Optic (three runs, one per pair;
``npm ci`` in ``openapi/tools`` installs it). The corrections of Optic's verdicts are also tested on
Optic-shaped data, without Optic, so each rule is pinned to its reason.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contract_tests.support import OPENAPI

sys.path.insert(0, str(OPENAPI))
import spec_diff

SCRIPT = OPENAPI / "spec_diff.py"
CREATE = "POST /api/v1/jobs/createTask request body application/json"
QUERY = "GET /api/v1/jobs/recordInfo response 200 application/json"

Edit = Callable[[dict[str, Any]], None]


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((OPENAPI / name).read_text(encoding="utf-8"))
    return document


def _write_pair(folder: Path, name: str, edit_old: Edit, edit_new: Edit) -> tuple[Path, Path]:
    """Write OLD and NEW versions of source ``name`` beside a copy of the sources they refer to."""
    for directory in ("old", "new"):
        (folder / directory).mkdir(parents=True, exist_ok=True)
        shutil.copy(OPENAPI / "common.json", folder / directory / "common.json")
    old, new = _load(name), _load(name)
    edit_old(old)
    edit_new(new)
    old_path, new_path = folder / "old" / name, folder / "new" / name
    old_path.write_text(json.dumps(old, indent=2), encoding="utf-8")
    new_path.write_text(json.dumps(new, indent=2), encoding="utf-8")
    return old_path, new_path


def _run(old: Path, new: Path, json_out: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(old), str(new), "--json-out", str(json_out), *extra],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    document = json.loads(json_out.read_text(encoding="utf-8")) if json_out.exists() else None
    return completed, document


def _seed_body(document: dict[str, Any]) -> dict[str, Any]:
    operation = document["paths"]["/api/v1/jobs/createTask"]["post"]
    body: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return body


def _record(document: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = document["components"]["schemas"]["TaskRecord"]["properties"]
    return properties


def _no_edit(document: dict[str, Any]) -> None:
    del document  # the old side of a pair as committed


def _two_models(document: dict[str, Any]) -> None:
    _seed_body(document)["properties"]["model"]["enum"].append("sora-2-characters-legacy")


def _request_changes(document: dict[str, Any]) -> None:
    body = _seed_body(document)
    inputs = body["properties"]["input"]
    inputs["properties"]["style"] = {"type": "string"}  # a new optional request field
    inputs["properties"]["seed"] = {"type": "integer"}  # a new required request field
    inputs["required"].append("seed")
    inputs["properties"]["safety_instruction"]["maxLength"] = 500  # a tightened limit
    # _two_models is not applied: the new side removes "sora-2-characters-legacy".


def _response_changes(document: dict[str, Any]) -> None:
    record = _record(document)
    record["failMsg"]["type"] = "integer"  # a response field whose type changes
    record["costTime"]["type"] = "integer"  # narrowed from number
    record["queuePosition"] = {"type": "integer"}  # a new response field
    document["components"]["schemas"]["TaskState"]["enum"].append("paused")  # a new value


@pytest.fixture(scope="module")
def request_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Any]:
    folder = tmp_path_factory.mktemp("request-pair")
    old, new = _write_pair(folder, "sora-2-characters.json", _two_models, _request_changes)
    return _run(old, new, folder / "diff.json")


@pytest.fixture(scope="module")
def response_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Any]:
    folder = tmp_path_factory.mktemp("response-pair")
    old, new = _write_pair(folder, "get-task-detail.json", _no_edit, _response_changes)
    return _run(old, new, folder / "diff.json")


@pytest.fixture(scope="module")
def compatible_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Any]:
    folder = tmp_path_factory.mktemp("compatible-pair")
    old, new = _write_pair(folder, "get-task-detail.json", _no_edit, _no_edit)
    common = _load("common.json")
    common["components"]["schemas"]["ResponseCode"]["enum"].append(460)  # a new error code
    (folder / "new" / "common.json").write_text(json.dumps(common, indent=2), encoding="utf-8")
    new_doc = json.loads(new.read_text(encoding="utf-8"))
    _record(new_doc)["queuePosition"] = {"type": "integer"}
    new.write_text(json.dumps(new_doc, indent=2), encoding="utf-8")
    return _run(old, new, folder / "diff.json")


def _verdict_of(document: Any, location_end: str) -> bool:
    found = [change for change in document["changes"] if change["location"].endswith(location_end)]
    assert len(found) == 1, f"{location_end}: expected one change, got {document['changes']}"
    breaking: bool = found[0]["breaking"]
    return breaking


@pytest.mark.parametrize(
    ("location", "breaking"),
    [
        (f"{CREATE} input.style", False),  # a new optional request field
        (f"{CREATE} model", True),  # a removed request enum value
        (f"{CREATE} input.seed", True),  # a new required request field
        (f"{CREATE} input.safety_instruction", True),  # a tightened request limit (Optic misses it)
    ],
)
def test_request_changes_are_classified(
    request_pair: tuple[subprocess.CompletedProcess[str], Any], location: str, breaking: bool
) -> None:
    completed, document = request_pair
    assert completed.returncode == spec_diff.EXIT_BREAKING, completed.stderr
    assert document["breaking"] is True
    assert _verdict_of(document, location) is breaking


@pytest.mark.parametrize(
    ("location", "breaking"),
    [
        (f"{QUERY} data.failMsg", True),  # a response field whose type changes
        (f"{QUERY} data.queuePosition", False),  # a new response field
        (f"{QUERY} data.state", False),  # a new value in a response enum (our rule; Optic: breaking)
        (f"{QUERY} data.costTime", False),  # number narrowed to integer (Optic: breaking)
    ],
)
def test_response_changes_are_classified(
    response_pair: tuple[subprocess.CompletedProcess[str], Any], location: str, breaking: bool
) -> None:
    completed, document = response_pair
    assert completed.returncode == spec_diff.EXIT_BREAKING, completed.stderr
    assert _verdict_of(document, location) is breaking


def test_the_printed_report_has_a_line_per_change_and_a_verdict(
    response_pair: tuple[subprocess.CompletedProcess[str], Any],
) -> None:
    completed, document = response_pair
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == len(document["changes"]) + 1
    assert lines[-1].startswith("verdict: BREAKING (1 of ")
    assert any(line.startswith("BREAKING") and "data.failMsg" in line for line in lines)


def test_a_new_error_code_and_a_new_field_are_compatible(
    compatible_pair: tuple[subprocess.CompletedProcess[str], Any],
) -> None:
    completed, document = compatible_pair
    assert completed.returncode == spec_diff.EXIT_COMPATIBLE, completed.stdout + completed.stderr
    assert document["breaking"] is False
    codes = [change for change in document["changes"] if change["location"].endswith(" code")]
    assert codes, document["changes"]  # every response carrying the code enum changed
    assert all("tolerate unknown values" in change["change"] for change in codes)
    assert completed.stdout.strip().splitlines()[-1].startswith("verdict: compatible")


def test_a_file_that_is_not_openapi_cannot_be_compared(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"swagger": "2.0"}', encoding="utf-8")
    completed, document = _run(OPENAPI / "common.json", bad, tmp_path / "out.json")
    assert completed.returncode == spec_diff.EXIT_CANNOT_COMPARE
    assert "not an OpenAPI 3 document" in completed.stderr
    assert document is None


def test_an_invalid_spec_cannot_be_compared(tmp_path: Path) -> None:
    document = _load("sora-2-characters.json")
    _seed_body(document)["properties"]["model"]["enum"] = []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    completed, _ = _run(OPENAPI / "sora-2-characters.json", bad, tmp_path / "out.json")
    assert completed.returncode == spec_diff.EXIT_CANNOT_COMPARE
    assert "not a valid OpenAPI document" in completed.stderr


def test_a_missing_file_or_tool_cannot_compare(tmp_path: Path) -> None:
    completed, _ = _run(tmp_path / "nowhere.json", OPENAPI / "common.json", tmp_path / "out.json")
    assert completed.returncode == spec_diff.EXIT_CANNOT_COMPARE
    assert "no such file" in completed.stderr
    spec = OPENAPI / "common.json"
    completed, _ = _run(spec, spec, tmp_path / "out.json", "--optic", str(tmp_path / "optic"))
    assert completed.returncode == spec_diff.EXIT_CANNOT_COMPARE
    assert "Optic is missing" in completed.stderr


# The corrections, on data shaped like Optic's (its JSON changelog and ci-run-details.json results).


def _changelog(key: str, before: Any, after: Any, *, response: bool) -> dict[str, Any]:
    attribute = {"key": key, "change": "changed", "before": before, "after": after}
    content = {"name": "application/json", "change": "changed", "attributes": [attribute]}
    operation: dict[str, Any] = {"name": "GET /api/v1/jobs/recordInfo", "change": "changed", "attributes": []}
    if response:
        operation["responses"] = [{"name": "200 response", "change": "changed", "contentTypes": [content]}]
    else:
        operation["requestBody"] = {"name": "Request Body", "change": "changed", "contentTypes": [content]}
    return {"operations": [operation]}


def _failed(json_path: str, name: str, error: str) -> dict[str, Any]:
    return {
        "where": "somewhere",
        "passed": False,
        "severity": 2,
        "name": name,
        "error": error,
        "location": {"jsonPath": json_path, "spec": "after"},
    }


RESPONSE_CODE = (
    "/paths/~1api~1v1~1jobs~1recordInfo/get/responses/200/content/application~1json/schema/properties/code"
)
REQUEST_NAME = (
    "/paths/~1api~1v1~1jobs~1recordInfo/get/requestBody/content/application~1json/schema/properties/name"
)
ENUMS = "request and response property enums"


def test_an_added_response_enum_value_is_compatible() -> None:
    changelog = _changelog("/schema/properties/code", {"enum": [200]}, {"enum": [200, 460]}, response=True)
    (change,) = spec_diff.classify(changelog, [_failed(RESPONSE_CODE, ENUMS, "cannot add enum option '460'")])
    assert change.breaking is False
    assert "tolerate unknown values" in change.as_json()["change"]


def test_a_removed_request_enum_value_stays_breaking() -> None:
    changelog = _changelog("/schema/properties/name", {"enum": ["a", "b"]}, {"enum": ["a"]}, response=False)
    (change,) = spec_diff.classify(changelog, [_failed(REQUEST_NAME, ENUMS, "cannot remove enum option 'b'")])
    assert change.breaking is True


def test_a_response_narrowed_to_integer_is_compatible_but_widened_is_not() -> None:
    rule = "prevent response property type changes"
    narrowed = _changelog("/schema/properties/code", {"type": "number"}, {"type": "integer"}, response=True)
    widened = _changelog("/schema/properties/code", {"type": "integer"}, {"type": "number"}, response=True)
    failure = [_failed(RESPONSE_CODE, rule, "expected response body property 'code' not to be expanded")]
    assert spec_diff.classify(narrowed, failure)[0].breaking is False
    assert spec_diff.classify(widened, copy.deepcopy(failure))[0].breaking is True


@pytest.mark.parametrize(
    ("before", "after", "breaking"),
    [
        ({"maxLength": 5000}, {"maxLength": 100}, True),
        ({"maxLength": 100}, {"maxLength": 5000}, False),
        ({}, {"maxItems": 1}, True),
        ({"minimum": 0}, {"minimum": 1}, True),
        ({"minLength": 2}, {"minLength": 1}, False),
        ({}, {"pattern": "^a"}, True),
        ({"pattern": "^a"}, {}, False),
    ],
)
def test_a_tightened_request_limit_is_breaking(before: Any, after: Any, breaking: bool) -> None:
    (change,) = spec_diff.classify(_changelog("/schema/properties/name", before, after, response=False), [])
    assert change.breaking is breaking
    (response_change,) = spec_diff.classify(
        _changelog("/schema/properties/name", before, after, response=True), []
    )
    assert response_change.breaking is False  # a response limit binds the server, not the client


def test_a_failed_check_nobody_placed_is_still_reported() -> None:
    failure = _failed("/paths/~1x/get", "prevent operation removal", "cannot remove an operation")
    (change,) = spec_diff.classify({"operations": []}, [failure])
    assert change.breaking is True
    assert "cannot remove an operation" in change.as_json()["change"]


def test_passed_and_warning_checks_do_not_break() -> None:
    passed = {**_failed(RESPONSE_CODE, ENUMS, ""), "passed": True}
    warning = {**_failed(RESPONSE_CODE, "naming", "odd name"), "severity": 1}
    changelog = _changelog("/schema/properties/code", {"type": "string"}, {"type": "string"}, response=True)
    assert [change.breaking for change in spec_diff.classify(changelog, [passed, warning])] == [False]


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("/schema/properties/input/properties/x", "input.x"),
        ("/schema/oneOf/1/properties/input/properties/x", "oneOf[1] input.x"),
        ("/schema/properties/data/items", "properties/data/items"),
        ("", ""),
    ],
)
def test_a_change_is_located_by_its_property_path(key: str, label: str) -> None:
    assert spec_diff._key_label(key) == label
