"""The spec set: every source and bundle validates, bundles are deterministic and committed as built."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from contract_tests.support import OPENAPI

sys.path.insert(0, str(OPENAPI))
import bundle

SPEC_FILES = sorted(OPENAPI.glob("*.json")) + sorted((OPENAPI / "bundled").glob("*.json"))


def test_the_spec_set_is_complete() -> None:
    names = {path.name for path in SPEC_FILES}
    assert names >= {
        "sora-2-characters.json",
        "get-task-detail.json",
        "file-upload.json",
        "common.json",
        "apikley.json",
        "apikley-client.json",
    }


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda path: path.name)
def test_spec_file_validates(path: Path) -> None:
    spec, base_uri = read_from_filename(str(path))
    validate(spec, base_uri=base_uri)


def test_committed_bundles_are_what_the_sources_produce() -> None:
    for path, text in bundle.build().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `nox -s generate`"


def test_bundling_is_deterministic() -> None:
    assert bundle.build() == bundle.build()


def test_seed_is_converted_faithfully_except_the_contact_email() -> None:
    seed = json.loads((OPENAPI / "sora-2-characters.json").read_text(encoding="utf-8"))
    assert seed["info"]["contact"] == {"name": "Technical Support"}
    operation = seed["paths"]["/api/v1/jobs/createTask"]["post"]
    assert operation["operationId"] == "sora-2-characters"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["model"]
    limits = body["properties"]["input"]["properties"]
    assert limits["character_prompt"]["maxLength"] == 5000
    assert limits["safety_instruction"]["maxLength"] == 5000
    assert limits["character_file_url"]["minItems"] == limits["character_file_url"]["maxItems"] == 1


def test_upload_operations_keep_their_own_server() -> None:
    strict = json.loads(bundle.STRICT_OUTPUT.read_text(encoding="utf-8"))
    for path in ("/api/file-stream-upload", "/api/file-base64-upload", "/api/file-url-upload"):
        assert strict["paths"][path]["servers"] == [
            {"url": "https://api.apikley.ru/file-upload", "description": "File Upload API server"}
        ]
    assert "servers" not in strict["paths"]["/api/v1/jobs/recordInfo"]


def test_strict_bundle_keeps_the_constraints_and_the_client_bundle_relaxes_responses_only() -> None:
    strict = json.loads(bundle.STRICT_OUTPUT.read_text(encoding="utf-8"))
    client = json.loads(bundle.CLIENT_OUTPUT.read_text(encoding="utf-8"))
    assert strict["components"]["schemas"]["ResponseCode"]["enum"][0] == 200
    assert "enum" not in client["components"]["schemas"]["ResponseCode"]
    assert client["components"]["schemas"]["ErrorEnvelope"]["properties"]["code"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/ResponseCode"},
            {"type": "integer", "nullable": True, "enum": [None]},
        ]
    }
    record = client["components"]["schemas"]["TaskRecord"]["properties"]
    assert "enum" not in json.dumps(record).replace('"enum": [null]', "")  # null-only marks nullable refs
    assert record["resultJson"] == {
        "description": strict["components"]["schemas"]["TaskRecord"]["properties"]["resultJson"][
            "description"
        ]
    }
    # Requests stay strict in both: the client must still send what the API accepts.
    create = "/api/v1/jobs/createTask"
    assert client["paths"][create]["post"]["requestBody"] == strict["paths"][create]["post"]["requestBody"]


def test_bundler_refuses_conflicting_components() -> None:
    sources = bundle.load_sources()
    sources["common.json"]["components"]["securitySchemes"]["BearerAuth"] = {"type": "apiKey"}
    with pytest.raises(bundle.BundleError, match="BearerAuth"):
        bundle.bundle_strict(sources)


def test_bundler_refuses_a_path_defined_twice() -> None:
    sources = bundle.load_sources()
    sources["common.json"]["paths"]["/api/v1/jobs/recordInfo"] = {}
    with pytest.raises(bundle.BundleError, match="defined twice"):
        bundle.bundle_strict(sources)
