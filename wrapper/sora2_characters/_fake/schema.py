"""Validate requests against the bundled spec's JSON schemas with jsonschema, naming the field.

The spec's schemas (OpenAPI 3.0) are inlined (every ``$ref`` resolved, ``nullable`` turned into a
``null`` type) and checked by :class:`jsonschema.Draft7Validator`, whose ``integer`` accepts
``1.0`` as JSON does. The ``uri`` format uses :func:`is_uri`, which agrees with Prism on what an
absolute URI is. A violation comes back as a :class:`Problem`: the field, the keyword it broke,
and a message such as ``input.character_prompt: at most 5000 characters``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from sora2_characters._fake.routes import OPERATION_PATHS
from sora2_characters._spec import load_spec
from sora2_characters._validation import is_loopback_host

__all__ = ["Problem", "is_loopback_url", "is_uri", "query_schema", "request_schema", "validate"]

_FORMATS = FormatChecker(formats=())
_MAX_SHOWN = 80
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
#: What no URI holds: whitespace (as ``str.isspace`` sees it) and control characters.
_NOT_IN_URI = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """One violation: ``field`` (``input.character_prompt``, ``body``), the JSON Schema ``keyword``."""

    field: str
    keyword: str
    message: str

    def __str__(self) -> str:
        return self.message


def _inline(node: Any, seen: tuple[str, ...] = ()) -> Any:
    """Return ``node`` with every ``$ref`` replaced by its target and ``nullable`` made a type."""
    if isinstance(node, list):
        return [_inline(item, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            raise ValueError(f"recursive $ref {ref} in the spec")
        target: Any = load_spec()
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _inline(target, (*seen, ref))
    result = {key: _inline(value, seen) for key, value in node.items() if key not in {"example", "nullable"}}
    if node.get("nullable") is True and isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    return result


def _operation(operation: str) -> dict[str, Any]:
    for (method, path), name in OPERATION_PATHS.items():
        if name == operation:
            found: dict[str, Any] = load_spec()["paths"][path][method]
            return found
    raise KeyError(operation)


@functools.cache
def request_schema(operation: str) -> dict[str, Any]:
    """Return the request body schema of ``operation`` from the bundled spec, ``$ref``s inlined."""
    body = _operation(operation)["requestBody"]["content"]
    schema: dict[str, Any] = _inline(next(iter(body.values()))["schema"])
    Draft7Validator.check_schema(schema)
    return schema


@functools.cache
def query_schema(operation: str) -> dict[str, tuple[bool, dict[str, Any]]]:
    """Return the query parameters of ``operation``: name -> (required, schema)."""
    result: dict[str, tuple[bool, dict[str, Any]]] = {}
    for param in _operation(operation).get("parameters", []):
        if param["in"] == "query":
            result[param["name"]] = (bool(param.get("required")), _inline(param["schema"]))
    return result


@_FORMATS.checks("uri")
def _is_uri_format(value: object) -> bool:
    return not isinstance(value, str) or is_uri(value)


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
    if not parts.scheme or not _SCHEME.fullmatch(parts.scheme):
        return False
    if _NOT_IN_URI.search(value):
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


def _label(where: str, path: Iterable[Any]) -> str:
    label = where
    for part in path:
        label = f"{label}[{part}]" if isinstance(part, int) else f"{label}.{part}" if label else str(part)
    return label or "body"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _problem(error: ValidationError, where: str) -> Problem:
    keyword = str(error.validator)
    expected: Any = error.validator_value
    label = _label(where, error.absolute_path)
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        missing = next((name for name in expected if name not in instance), "?")
        field = _label(where, [*error.absolute_path, missing])
        return Problem(field, keyword, f"{field}: is required")
    if keyword == "type":
        kind = expected if isinstance(expected, str) else " or ".join(expected)
        return Problem(label, keyword, f"{label}: must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}")
    phrases = {
        "enum": lambda: f"must be one of {', '.join(map(str, expected))}",
        "minLength": lambda: f"at least {expected} characters",
        "maxLength": lambda: f"at most {expected} characters",
        "minItems": lambda: f"at least {expected} item(s)",
        "maxItems": lambda: f"at most {expected} item(s)",
        "pattern": lambda: f"does not match {expected}",
        "format": lambda: "must be an absolute URI" if expected == "uri" else f"must be a {expected}",
    }
    phrase = phrases.get(keyword, lambda: f"fails {keyword} {_shown(expected)}")()
    return Problem(label, keyword, f"{label}: {phrase}")


Check = Callable[[Any], bool]

#: Keywords that only annotate: they never fail an instance.
_ANNOTATIONS = frozenset({"description", "default", "title", "example", "examples", "$comment"})
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    # Draft 7 (as jsonschema has it): a float with no fraction is an integer too.
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


def _quick_check(schema: Any) -> Check | None:
    """Compile ``schema`` into a test that is true only for an instance Draft 7 finds valid.

    Only the keywords the spec's request schemas use are known (types, string enums, required,
    properties, items, lengths, pattern, the ``uri`` format), each as :mod:`jsonschema` reads it;
    a schema with any other keyword gets ``None`` (no shortcut). A false answer proves nothing:
    the caller asks :mod:`jsonschema` then, for the verdict and the message.
    """
    if not isinstance(schema, dict):
        return None
    checks: list[Check] = []
    for key, arg in schema.items():
        if key in _ANNOTATIONS:
            continue
        check = _keyword_check(key, arg)
        if check is None:
            return None
        checks.append(check)
    return lambda value: all(check(value) for check in checks)


def _keyword_check(key: str, arg: Any) -> Check | None:  # noqa: PLR0911 - one branch per keyword
    """One keyword's test (``None`` for a keyword or an argument it does not know)."""
    if key == "type":
        names = [arg] if isinstance(arg, str) else arg
        if not isinstance(names, list) or not all(name in _TYPES for name in names):
            return None
        tests = [_TYPES[name] for name in names]
        return lambda v: any(test(v) for test in tests)
    if key == "enum" and isinstance(arg, list) and all(isinstance(each, str) for each in arg):
        allowed = frozenset(arg)
        return lambda v: isinstance(v, str) and v in allowed
    if key == "required" and isinstance(arg, list) and all(isinstance(each, str) for each in arg):
        return lambda v: not isinstance(v, dict) or all(name in v for name in arg)
    if key == "properties" and isinstance(arg, dict):
        subs = {name: _quick_check(sub) for name, sub in arg.items()}
        if any(sub is None for sub in subs.values()):
            return None
        known: dict[str, Check] = {name: sub for name, sub in subs.items() if sub is not None}
        return lambda v: (
            not isinstance(v, dict) or all(name not in v or sub(v[name]) for name, sub in known.items())
        )
    if key == "items" and isinstance(arg, dict):
        item = _quick_check(arg)
        if item is None:
            return None
        return lambda v: not isinstance(v, list) or all(item(each) for each in v)
    bound = arg if isinstance(arg, int) and not isinstance(arg, bool) else None
    if bound is not None and key in {"minItems", "maxItems", "minLength", "maxLength"}:
        kind = list if key.endswith("Items") else str
        if key.startswith("min"):
            return lambda v: not isinstance(v, kind) or len(v) >= bound
        return lambda v: not isinstance(v, kind) or len(v) <= bound
    if key == "pattern" and isinstance(arg, str):
        regex = re.compile(arg)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    if key == "format" and arg == "uri":
        return lambda v: not isinstance(v, str) or is_uri(v)
    return None


@dataclass(frozen=True)
class _Compiled:
    """A schema's validator and quick check; for a ``oneOf`` told apart by ``model``, each member's."""

    validator: Draft7Validator
    quick: Check | None
    by_model: dict[str, Check]


_COMPILED: dict[int, tuple[dict[str, Any], _Compiled]] = {}


def _compiled(schema: dict[str, Any]) -> _Compiled:
    # Schemas come from the cached loaders above, so each is compiled once (keyed by identity).
    entry = _COMPILED.get(id(schema))
    if entry is None or entry[0] is not schema:
        validator = Draft7Validator(schema, format_checker=_FORMATS)
        entry = (schema, _Compiled(validator, _quick_check(schema), _members_by_model(schema)))
        _COMPILED[id(schema)] = entry
    return entry[1]


def _members_by_model(schema: dict[str, Any]) -> dict[str, Check]:
    """Return model -> member's check for a schema that is only a ``oneOf`` of members with own models.

    A body valid for the member its model names is then valid for the whole (no other member
    takes that model), so the other members need no look. Any other schema: empty.
    """
    members = schema.get("oneOf") if set(schema) == {"oneOf"} else None
    if not isinstance(members, list):
        return {}
    found: dict[str, Check] = {}
    for member in members:
        if not isinstance(member, dict):
            return {}
        models = member.get("properties", {}).get("model", {}).get("enum")
        if not isinstance(models, list) or not models or "model" not in member.get("required", []):
            return {}
        check = _quick_check(member) or Draft7Validator(member, format_checker=_FORMATS).is_valid
        for model in models:
            if not isinstance(model, str) or model in found:
                return {}
            found[model] = check
    return found


def validate(value: Any, schema: dict[str, Any], where: str = "") -> Problem | None:
    """Return the most relevant violation of ``schema`` by ``value``, or ``None`` when it is valid.

    ``where`` prefixes the field names (a query parameter's name, say).
    """
    compiled = _compiled(schema)
    # The shortcuts answer only "valid"; anything else takes jsonschema's full look, for the message.
    if compiled.quick is not None and compiled.quick(value):
        return None
    if compiled.by_model and isinstance(value, dict):
        model = value.get("model")
        member = compiled.by_model.get(model) if isinstance(model, str) else None
        if member is not None and member(value):
            return None
    error = best_match(compiled.validator.iter_errors(value))
    return None if error is None else _problem(_within_one_of(error), where)


def _within_one_of(error: ValidationError) -> ValidationError:
    """Pick, for a body no ``oneOf`` member takes, the most relevant error of the member it names.

    The members are the sibling models' createTask bodies: the one whose ``model`` enum holds the
    body's model (any member when it names none), so the message names a field of that model.
    """
    if error.validator != "oneOf" or not error.context:
        return error
    model = error.instance.get("model") if isinstance(error.instance, dict) else None
    members = error.validator_value if isinstance(error.validator_value, list) else []
    chosen = next(
        (
            index
            for index, member in enumerate(members)
            if isinstance(member, dict)
            and model in member.get("properties", {}).get("model", {}).get("enum", [])
        ),
        None,
    )
    candidates = [sub for sub in error.context if chosen is None or sub.relative_schema_path[0] == chosen]
    return best_match(candidates) or error
