"""The wrapper follows the committed specs: every request property can be set, every response property
is carried by a public model attribute, except what ``openapi/wrapper_coverage.py`` lists on purpose.

A spec change the wrapper does not follow fails here, with a message naming the property.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from contract_tests.support import OPENAPI

sys.path.insert(0, str(OPENAPI))
import wrapper_coverage

COMMITTED = [wrapper_coverage.STRICT_BUNDLE, wrapper_coverage.LIVE_BUNDLE]


@pytest.mark.parametrize("spec_path", COMMITTED, ids=lambda path: path.name)
def test_the_wrapper_follows_the_committed_spec(spec_path: Path) -> None:
    findings = wrapper_coverage.check(spec_path)
    assert not findings, "the wrapper does not follow the spec:\n" + "\n".join(map(str, findings))


def test_no_deliberate_omission_is_stale() -> None:
    assert wrapper_coverage.stale_entries(COMMITTED) == []


def test_every_deliberate_omission_says_why() -> None:
    lists = [wrapper_coverage.OPERATIONS_LEFT, wrapper_coverage.REQUEST_LEFT, wrapper_coverage.RESPONSE_LEFT]
    for entries in lists:
        assert all(reason.strip() for reason in entries.values())


def _spec_with(tmp_path: Path, edit: Any) -> Path:
    spec = json.loads(wrapper_coverage.STRICT_BUNDLE.read_text(encoding="utf-8"))
    edit(spec)
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def _create_body(spec: dict[str, Any]) -> dict[str, Any]:
    operation = spec["paths"]["/api/v1/jobs/createTask"]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    resolved = schema
    if "$ref" in schema or "oneOf" in schema:
        first = schema.get("oneOf", [schema])[0]
        resolved = spec["components"]["schemas"][first["$ref"].rsplit("/", 1)[1]]
    return resolved


def test_a_request_property_no_method_sets_is_named(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        _create_body(spec)["properties"]["input"]["properties"]["aspect_ratio"] = {"type": "string"}

    findings = [str(finding) for finding in wrapper_coverage.check(_spec_with(tmp_path, edit))]
    assert findings == [
        "changed.json: POST /api/v1/jobs/createTask request input.aspect_ratio: no public method can set it"
    ]


def test_a_response_property_no_attribute_carries_is_named(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["components"]["schemas"]["TaskRecord"]["properties"]["queuePosition"] = {"type": "integer"}
        spec["components"]["schemas"]["UploadedFile"]["properties"]["checksum"] = {"type": "string"}

    findings = [str(finding) for finding in wrapper_coverage.check(_spec_with(tmp_path, edit))]
    assert findings == [
        "changed.json: GET /api/v1/jobs/recordInfo response queuePosition: "
        "no public model attribute carries it (only raw)",
        "changed.json: POST /api/file-stream-upload response checksum: "
        "no public model attribute carries it (only raw)",
    ]


def test_a_new_operation_or_model_is_named(tmp_path: Path) -> None:
    def edit(spec: dict[str, Any]) -> None:
        spec["paths"]["/api/v1/jobs/cancel"] = {
            "post": {"operationId": "cancel", "responses": {"200": {"description": "ok"}}}
        }
        _create_body(spec)["properties"]["model"]["enum"].append("sora-2-characters-max")

    findings = [str(finding) for finding in wrapper_coverage.check(_spec_with(tmp_path, edit))]
    assert "changed.json: POST /api/v1/jobs/cancel: no public method calls it" in findings
    assert any("request model=sora-2-characters-max" in finding for finding in findings)


def test_the_command_line_prints_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert wrapper_coverage.main([str(path) for path in COMMITTED]) == 0
    assert "follows every request and response property" in capsys.readouterr().out
