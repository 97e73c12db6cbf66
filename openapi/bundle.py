"""Bundle the spec sources in this folder into the documents the project uses.

Run ``python openapi/bundle.py`` (or ``nox -s generate``); ``--check`` only compares. Three outputs,
all written deterministically (same sources, same bytes):

``bundled/apikley.json``
    The strict bundle: every source merged into one document. Prism mocks it, the fake server and
    schemathesis are checked against it.
``bundled/apikley-client.json``
    The tolerant bundle the Python client is generated from: response schemas relaxed so the
    generated parser accepts every envelope the live API is known to send.
``bundled/apikley-live.json``
    The live wire: the strict bundle with ``live-wire.json`` laid over it, describing what the live
    service sends (errors as HTTP 200 envelopes, nullable record fields, the live extras, Spring's 404
    body, the proxy's HTML pages, the callbacks). The captured samples are validated against it.

Every transformation is listed in ``openapi/README.md``; keep the two in step.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEED = "sora-2-characters.json"
SOURCES = (SEED, "get-task-detail.json", "file-upload.json", "common.json")
STRICT_OUTPUT = HERE / "bundled" / "apikley.json"
CLIENT_OUTPUT = HERE / "bundled" / "apikley-client.json"
LIVE_SOURCE = "live-wire.json"
LIVE_OUTPUT = HERE / "bundled" / "apikley-live.json"

CREATE_TASK = ("/api/v1/jobs/createTask", "post")
# Error responses the reference documents for createTask but the seed page leaves out.
CREATE_TASK_ERRORS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "402": "InsufficientCredits",
    "422": "ValidationError",
    "429": "RateLimited",
    "433": "UsageLimitExceeded",
    "455": "ServiceUnavailable",
    "501": "GenerationFailed",
    "505": "FeatureDisabled",
}
# Keywords that make a generated parser reject a value instead of keeping it.
STRICT_KEYWORDS = (
    "enum", "format", "required", "minimum", "maximum", "minLength", "maxLength", "pattern",
    "minItems", "maxItems", "additionalProperties",
)  # fmt: skip
COMPONENT_SECTIONS = ("schemas", "responses", "parameters", "requestBodies", "securitySchemes", "callbacks")
# Live: the success body of an operation whose documented 200 schema is inline (the seed's createTask).
LIVE_SUCCESS = {"sora-2-characters": "CreateTaskResponse"}
# Live: the HTTP statuses every operation can answer without an envelope.
LIVE_EXTRA_RESPONSES = {"404": "UnknownPath", "502": "ProxyError"}


class BundleError(Exception):
    """The sources cannot be merged without losing or changing something."""


def model_sources(folder: Path = HERE) -> list[str]:
    """List the sibling model sources: every other spec file in ``folder`` (each defines createTask only)."""
    return sorted(path.name for path in folder.glob("*.json") if path.name not in (*SOURCES, LIVE_SOURCE))


def load_sources(folder: Path = HERE) -> dict[str, dict[str, Any]]:
    """Read every source document (the fixed ones, then the sibling models), keyed by file name."""
    names = [*SOURCES, *model_sources(folder)]
    return {name: json.loads((folder / name).read_text(encoding="utf-8")) for name in names}


def _body_component(operation_id: str) -> str:
    """``sora-2-characters-pro`` -> ``Sora2CharactersProBody`` (the name the generator gave it inline)."""
    return "".join(part[:1].upper() + part[1:] for part in operation_id.split("-")) + "Body"


def _add_model(bundled: dict[str, Any], name: str, operation: dict[str, Any]) -> None:
    """Merge a sibling model's createTask into the seed's: its request body joins a ``oneOf``.

    The bodies move to components named after each model's operationId, so the generated body
    classes keep their names; the seed's operation (summary, responses) stays as it is.
    """
    create = bundled["paths"][CREATE_TASK[0]][CREATE_TASK[1]]
    media = create["requestBody"]["content"]["application/json"]
    schemas = bundled["components"].setdefault("schemas", {})
    if "oneOf" not in media["schema"]:
        seed_name = _body_component(create["operationId"])
        schemas[seed_name] = media["schema"]
        media["schema"] = {"oneOf": [{"$ref": f"#/components/schemas/{seed_name}"}]}
    body_name = _body_component(operation["operationId"])
    if body_name in schemas:
        raise BundleError(f"{name}: a model with operationId {operation['operationId']} exists already")
    schemas[body_name] = copy.deepcopy(operation["requestBody"]["content"]["application/json"]["schema"])
    media["schema"]["oneOf"].append({"$ref": f"#/components/schemas/{body_name}"})


def _localize_refs(node: Any) -> Any:
    """Turn ``common.json#/components/...`` references into local ``#/components/...`` ones."""
    if isinstance(node, dict):
        return {
            key: (
                "#" + value.split("#", 1)[1]
                if key == "$ref" and isinstance(value, str) and not value.startswith("#")
                else _localize_refs(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_localize_refs(item) for item in node]
    return node


def bundle_strict(sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge the sources into one document, changing nothing but reference targets and servers."""
    seed = sources[SEED]
    bundled: dict[str, Any] = {
        "openapi": seed["openapi"],
        "info": {
            **seed["info"],
            "title": "Apikley sora-2-characters API",
            "description": (
                "Bundled from openapi/: " + ", ".join(sources) + ". Generated by openapi/bundle.py; "
                "do not edit."
            ),
        },
        "servers": seed["servers"],
        "security": seed["security"],
        "paths": {},
        "components": {},
    }
    for name, source in sources.items():
        doc = _localize_refs(source)
        path_servers = doc["servers"] if doc["servers"] != bundled["servers"] else None
        if name not in SOURCES:
            if set(doc["paths"]) != {CREATE_TASK[0]} or set(doc["paths"][CREATE_TASK[0]]) != {CREATE_TASK[1]}:
                raise BundleError(f"{name}: a sibling model source defines createTask and nothing else")
            _add_model(bundled, name, doc["paths"][CREATE_TASK[0]][CREATE_TASK[1]])
        for path, source_item in doc["paths"].items() if name in SOURCES else ():
            if path in bundled["paths"]:
                raise BundleError(f"{name}: path {path} is defined twice")
            item = copy.deepcopy(source_item)
            if path_servers is not None:
                item["servers"] = path_servers
            bundled["paths"][path] = item
        for section in COMPONENT_SECTIONS:
            for key, value in doc.get("components", {}).get(section, {}).items():
                merged = bundled["components"].setdefault(section, {})
                if key in merged and merged[key] != value:
                    raise BundleError(f"{name}: components/{section}/{key} differs from an earlier source")
                merged[key] = value
    responses = bundled["paths"][CREATE_TASK[0]][CREATE_TASK[1]]["responses"]
    for status, response in CREATE_TASK_ERRORS.items():
        responses.setdefault(status, {"$ref": f"#/components/responses/{response}"})
    return bundled


def _schemas_referenced(node: Any, components: dict[str, Any], found: set[str]) -> set[str]:
    """Collect the component schemas reachable from ``node``, following responses too."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            _, section, key = ref.rsplit("/", 2)
            if section == "schemas" and key not in found:
                found.add(key)
                _schemas_referenced(components["schemas"][key], components, found)
            elif section == "responses":
                _schemas_referenced(components["responses"][key], components, found)
        for value in node.values():
            _schemas_referenced(value, components, found)
    elif isinstance(node, list):
        for item in node:
            _schemas_referenced(item, components, found)
    return found


def _is_null_only(schema: dict[str, Any]) -> bool:
    """Whether ``schema`` admits null alone (OpenAPI 3.0 has no ``type: null``; ``enum: [null]`` says it)."""
    return schema.get("enum") == [None]


def _relax(schema: Any, ref_types: dict[str, str], *, nullable: bool = True) -> Any:
    """Drop every constraint that could make a parser reject a value, and allow null in every field.

    The schema itself stays non-nullable when ``nullable`` is false (a response body, a component,
    a member of ``allOf``), so the generator keeps plain model names. ``ref_types`` gives the type of
    each referenced component: ``nullable`` only counts beside a ``type`` (OpenAPI 3.0.3), so a
    nullable reference carries its target's type.
    """
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        if not nullable:
            return schema
        target_type = ref_types.get(schema["$ref"])
        if target_type is None:
            return {"description": "Any JSON value"}
        return {"anyOf": [schema, {"type": target_type, "nullable": True, "enum": [None]}]}
    relaxed = {key: value for key, value in schema.items() if key not in (*STRICT_KEYWORDS, "example")}
    if (
        _is_null_only(schema)
        or any(key in relaxed for key in ("oneOf", "anyOf"))
        or ("type" not in relaxed and "allOf" not in relaxed)
    ):
        # A union of scalars and objects (resultJson, failCode), no type at all, or null only (data of
        # an error envelope): keep any value as is.
        return {"description": relaxed.get("description", "Any JSON value")}
    if "properties" in relaxed:
        relaxed["properties"] = {
            name: _relax(value, ref_types) for name, value in relaxed["properties"].items()
        }
    if "allOf" in relaxed:
        relaxed["allOf"] = [_relax(member, ref_types, nullable=False) for member in relaxed["allOf"]]
    if "items" in relaxed:
        relaxed["items"] = _relax(relaxed["items"], ref_types)
    if nullable:
        relaxed["nullable"] = True
    return relaxed


def bundle_client(strict: dict[str, Any]) -> dict[str, Any]:
    """Relax the response schemas of the strict bundle so the generated parser never crashes."""
    client = copy.deepcopy(strict)
    client["info"]["title"] = "Apikley sora-2-characters API (tolerant client bundle)"
    components = client["components"]
    ref_types = {
        f"#/components/schemas/{key}": schema["type"]
        for key, schema in components["schemas"].items()
        if "type" in schema
    }
    request_side: set[str] = set()
    response_side: set[str] = set()
    for item in client["paths"].values():
        for method, operation in item.items():
            if method == "servers":
                continue
            _schemas_referenced(operation.get("requestBody", {}), components, request_side)
            _schemas_referenced(operation.get("parameters", []), components, request_side)
            for response in operation["responses"].values():
                _schemas_referenced(response, components, response_side)
                for media in response.get("content", {}).values():
                    if "$ref" not in media.get("schema", {"$ref": ""}):
                        media["schema"] = _relax(media["schema"], ref_types, nullable=False)
    shared = request_side & response_side
    if shared:
        raise BundleError(f"schemas used by both requests and responses cannot be relaxed: {sorted(shared)}")
    for key in sorted(response_side):
        components["schemas"][key] = _relax(components["schemas"][key], ref_types, nullable=False)
    for response in components.get("responses", {}).values():
        for media in response.get("content", {}).values():
            if "$ref" not in media.get("schema", {"$ref": ""}):
                media["schema"] = _relax(media["schema"], ref_types, nullable=False)
    return client


def load_live_source(folder: Path = HERE) -> dict[str, Any]:
    """Read ``live-wire.json``, the live service's differences from the documented sources."""
    return dict(json.loads((folder / LIVE_SOURCE).read_text(encoding="utf-8")))


def bundle_live(strict: dict[str, Any], live_source: dict[str, Any]) -> dict[str, Any]:
    """Lay the live wire's components over the strict bundle: what the live service really sends.

    1. Every component of ``live-wire.json`` is added; one named like a documented component replaces it.
    2. Every operation's ``200`` answer is its success body *or* its error envelope (errors come with
       HTTP 200); the seed's inline createTask body is replaced by ``CreateTaskResponse``.
    3. Every operation also answers 404 with Spring's error body (an unknown path) and 502 with the
       proxy's HTML page; no envelope in either.
    4. createTask carries the callbacks the service sends to ``callBackUrl``.
    Request bodies and parameters stay as documented.
    """
    live = copy.deepcopy(strict)
    live["info"]["title"] = "Apikley sora-2-characters API (live wire bundle)"
    live["info"]["description"] = (
        "What the live service sends: the strict bundle with openapi/live-wire.json laid over it. "
        "Generated by openapi/bundle.py; do not edit."
    )
    overlay = _localize_refs(live_source).get("components", {})
    for section in COMPONENT_SECTIONS:
        for key, value in overlay.get(section, {}).items():
            live["components"].setdefault(section, {})[key] = copy.deepcopy(value)
    schemas = live["components"]["schemas"]
    for item in live["paths"].values():
        # Operations on their own server (the File Upload API) answer with the upload envelope.
        error = "UploadErrorResponse" if "servers" in item else "ErrorEnvelope"
        for method, operation in item.items():
            if method == "servers":
                continue
            media = operation["responses"]["200"]["content"]["application/json"]
            success = LIVE_SUCCESS.get(operation["operationId"])
            success_schema = {"$ref": f"#/components/schemas/{success}"} if success else media["schema"]
            if "$ref" not in success_schema:
                raise BundleError(f"{operation['operationId']}: its live success body needs a component")
            media["schema"] = {"oneOf": [success_schema, {"$ref": f"#/components/schemas/{error}"}]}
            media.pop("example", None)
            for status, response in LIVE_EXTRA_RESPONSES.items():
                operation["responses"][status] = {"$ref": f"#/components/responses/{response}"}
            operation["responses"] = dict(sorted(operation["responses"].items()))
    create = live["paths"][CREATE_TASK[0]][CREATE_TASK[1]]
    create["callbacks"] = {"taskFinished": {"$ref": "#/components/callbacks/TaskFinished"}}
    missing = sorted(
        ref.rsplit("/", 1)[1]
        for ref in _refs(live)
        if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] not in schemas
    )
    if missing:
        raise BundleError(f"live bundle refers to schemas nobody defines: {missing}")
    return live


def _refs(node: Any) -> set[str]:
    """Every ``$ref`` value under ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def render(document: dict[str, Any]) -> str:
    """Serialize a document the one way the project commits it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def build(folder: Path = HERE) -> dict[Path, str]:
    """Return the text of every bundle, keyed by the path each is committed at."""
    strict = bundle_strict(load_sources(folder))
    return {
        STRICT_OUTPUT: render(strict),
        CLIENT_OUTPUT: render(bundle_client(strict)),
        LIVE_OUTPUT: render(bundle_live(strict, load_live_source(folder))),
    }


def main(argv: list[str]) -> int:
    """Write the bundles, or with ``--check`` report the ones that are out of date."""
    outputs = build()
    stale = [
        path
        for path, text in outputs.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if "--check" in argv:
        for path in stale:
            print(f"out of date: {path.relative_to(HERE.parent)} (run: nox -s generate)", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
