"""Validate request bodies against the bundled spec's JSON schemas, with messages naming the field.

The spec's request schemas use a small subset of JSON Schema (OpenAPI 3.0 flavour); this module
implements exactly that subset and refuses, at load time, a schema using any other keyword, so a
spec change cannot make validation silently weaker.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urlsplit

from sora2_characters._spec import load_spec
from sora2_characters._validation import is_loopback_host

_CHECKED = frozenset(
    {"type", "required", "properties", "items", "enum", "minLength", "maxLength", "minItems", "maxItems"}
    | {"pattern", "format", "$ref", "oneOf"}
)
_ANNOTATIONS = frozenset({"description", "example", "default", "title", "nullable"})
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}

# (method, path) -> operation name used by the fault plan and the recorded requests.
OPERATION_PATHS: dict[tuple[str, str], str] = {
    ("post", "/api/v1/jobs/createTask"): "createTask",
    ("get", "/api/v1/jobs/recordInfo"): "recordInfo",
    ("get", "/api/v1/chat/credit"): "credits",
    ("post", "/api/v1/common/download-url"): "downloadUrl",
    ("post", "/api/file-stream-upload"): "fileStreamUpload",
    ("post", "/api/file-base64-upload"): "fileBase64Upload",
    ("post", "/api/file-url-upload"): "fileUrlUpload",
}


class UnsupportedSchemaError(ValueError):
    """The spec uses a JSON Schema keyword this validator does not implement."""


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = load_spec()
    for part in str(ref).removeprefix("#/").split("/"):
        node = node[part]
    resolved: dict[str, Any] = node
    return _resolve(resolved)


def _check_supported(schema: dict[str, Any], where: str) -> None:
    schema = _resolve(schema)
    unknown = set(schema) - _CHECKED - _ANNOTATIONS
    if unknown:
        raise UnsupportedSchemaError(f"{where}: unsupported JSON Schema keywords {sorted(unknown)}")
    for name, sub in schema.get("properties", {}).items():
        _check_supported(sub, f"{where}.{name}")
    if "items" in schema:
        _check_supported(schema["items"], f"{where}[]")
    for index, member in enumerate(schema.get("oneOf", [])):
        _check_supported(member, f"{where}.oneOf[{index}]")


@functools.cache
def request_schema(operation: str) -> dict[str, Any]:
    """Return the request body schema of ``operation`` from the bundled spec (checked to be supported)."""
    for (method, path), name in OPERATION_PATHS.items():
        if name == operation:
            body = load_spec()["paths"][path][method]["requestBody"]["content"]
            schema: dict[str, Any] = _resolve(next(iter(body.values()))["schema"])
            _check_supported(schema, operation)
            return schema
    raise KeyError(operation)


@functools.cache
def query_schema(operation: str) -> dict[str, tuple[bool, dict[str, Any]]]:
    """Return the query parameters of ``operation``: name -> (required, schema)."""
    for (method, path), name in OPERATION_PATHS.items():
        if name == operation:
            params = load_spec()["paths"][path][method].get("parameters", [])
            result: dict[str, tuple[bool, dict[str, Any]]] = {}
            for param in params:
                if param["in"] == "query":
                    _check_supported(param["schema"], f"{operation}?{param['name']}")
                    result[param["name"]] = (bool(param.get("required")), _resolve(param["schema"]))
            return result
    raise KeyError(operation)


def is_uri(value: str) -> bool:
    """Whether ``value`` is an absolute URI (a scheme, and a host for http/https).

    A value with whitespace or control characters, one :func:`~urllib.parse.urlsplit` cannot parse
    (``http://[::1``), or one whose port is not a number in 0-65535 (``file://host:99999/x``) is
    not one.
    """
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    if not parts.scheme or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme):
        return False
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
        return False
    if parts.scheme.lower() in {"http", "https"}:
        return bool(parts.hostname)
    return bool(parts.netloc or parts.path)


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL of this machine (the client's own loopback test on its host)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # an unparsable URL is no loopback URL
        return False
    return parts.scheme in {"http", "https"} and is_loopback_host(host)


def _type_ok(value: Any, expected: str) -> bool:
    if isinstance(value, bool) and expected in {"integer", "number"}:
        return False
    if expected == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[expected])


def _validate_one_of(value: Any, members: list[dict[str, Any]], where: str) -> str | None:
    """Exactly one member must match (the sibling models' createTask bodies, told apart by ``model``).

    When none does, the problem reported is the one of the member whose ``model`` enum names the
    body's model, so the message names the field that is wrong for that model.
    """
    problems = [validate(value, member, where) for member in members]
    matches = problems.count(None)
    if matches == 1:
        return None
    if matches > 1:
        return f"{where or 'body'}: matches more than one of the request schemas"
    model = value.get("model") if isinstance(value, dict) else None
    for member, problem in zip(members, problems, strict=True):
        enum = _resolve(member).get("properties", {}).get("model", {}).get("enum", [])
        if model in enum:
            return problem
    return problems[0]


def validate(value: Any, schema: dict[str, Any], where: str = "") -> str | None:  # noqa: PLR0911, PLR0912 - one branch per keyword
    """Return the first violation of ``schema`` by ``value`` as ``"field: problem"``, or ``None``."""
    schema = _resolve(schema)
    label = where or "body"
    if "oneOf" in schema:
        return _validate_one_of(value, schema["oneOf"], where)
    expected = schema.get("type")
    if expected is not None and not _type_ok(value, expected):
        return f"{label}: must be {'an' if expected[0] in 'aeiou' else 'a'} {expected}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{label}: must be one of {', '.join(map(str, schema['enum']))}"
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return f"{label}: at least {schema['minLength']} characters"
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"{label}: at most {schema['maxLength']} characters"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"{label}: does not match {schema['pattern']}"
        if schema.get("format") == "uri" and not is_uri(value):
            return f"{label}: must be an absolute URI"
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return f"{label}: at least {schema['minItems']} item(s)"
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return f"{label}: at most {schema['maxItems']} item(s)"
        for index, item in enumerate(value):
            problem = validate(item, schema.get("items", {}), f"{label}[{index}]")
            if problem:
                return problem
    if isinstance(value, dict):
        prefix = f"{where}." if where else ""
        for name in schema.get("required", []):
            if name not in value:
                return f"{prefix}{name}: is required"
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                problem = validate(value[name], sub, f"{prefix}{name}")
                if problem:
                    return problem
    return None
