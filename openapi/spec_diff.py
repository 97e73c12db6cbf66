"""Classify the changes between two versions of an OpenAPI spec: breaking or compatible.

``python openapi/spec_diff.py OLD NEW [--json-out PATH]`` (or ``nox -s spec-diff -- OLD NEW``) prints
one line per change (where, what changed, breaking or compatible) and a verdict. ``--json-out``
also writes ``{"breaking": bool, "changes": [{"location", "change", "breaking"}]}``. Exit status:
0 compatible, 1 breaking, 2 could not compare (a file is missing, not JSON or not valid OpenAPI 3;
Optic is missing or failed), with the reason on stderr.

Optic (``@useoptic/optic``, pinned in ``openapi/tools/package.json``) computes the changelog and
runs its breaking-change checks; this script reads both and corrects what Optic gets wrong for
this project (``CORRECTIONS`` below, each with its reason; ``openapi/README.md`` repeats them):

* **A new value in a response enum is compatible** (Optic: breaking). Every client of this project
  decodes answers tolerantly: the wrapper turns an unknown body code into the generic
  :class:`APIError` and keeps an unknown task state as an unknown, non-final state; the generated
  client is built from the tolerant bundle, which has no response enums. A *removed* response value
  stays compatible, a removed *request* value stays breaking.
* **A response type narrowed from number to integer is compatible** (Optic calls every response
  type change "expanded", hence breaking): every integer is still a number to the reader.
* **A request body that becomes a ``oneOf`` holding its previous schema is compatible** when the
  members exclude each other by a required property with disjoint ``enum`` values (``model``: a
  sibling model joining createTask). Optic compares the new member with the old schema and calls it
  breaking; every request valid before still matches exactly one member.
* **A tightened request limit is breaking** (Optic: no check at all): a lower ``maxLength``,
  ``maxItems`` or ``maximum``, a higher ``minLength``, ``minItems`` or ``minimum``, a new or changed
  ``pattern``: a request valid before may now be refused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOOLS = HERE / "tools"
OPTIC = TOOLS / "node_modules" / ".bin" / "optic"
OPTIC_TIMEOUT_SECONDS = 600
EXIT_COMPATIBLE, EXIT_BREAKING, EXIT_CANNOT_COMPARE = 0, 1, 2
# Optic's severity of the checks that fail a comparison (info=0, warn=1, error=2).
ERROR_SEVERITY = 2
MAX_NOTES = 3
MAX_REASON_CHARS = 300
MAX_VALUE_CHARS = 120
# Request limits whose tightening refuses requests valid before: keyword -> "lower" or "higher" is tighter.
REQUEST_LIMITS = {
    "maxLength": "lower",
    "maxItems": "lower",
    "maximum": "lower",
    "minLength": "higher",
    "minItems": "higher",
    "minimum": "higher",
}
CORRECTIONS = {
    "response-enum-addition": "compatible here: our clients tolerate unknown values (Optic: breaking)",
    "response-type-narrowing": "compatible here: every integer is a number (Optic: breaking)",
    "request-limit-tightening": "breaking: a request valid before may be refused (Optic has no check)",
    "request-union-of-old": "compatible here: the old body is one of an exclusive oneOf (Optic: breaking)",
}


class CannotCompareError(Exception):
    """The two specs could not be compared; the message says why."""


@dataclass
class Change:
    """One change between the two specs, as printed and written to ``--json-out``."""

    location: str
    change: str
    breaking: bool
    json_path: str = ""
    before: Any = None
    after: Any = None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Return the public shape: location, change, breaking."""
        notes = self.notes
        if len(notes) > MAX_NOTES:  # a removed operation fails every check beneath it
            notes = [*notes[: MAX_NOTES - 1], f"and {len(notes) - MAX_NOTES + 1} more findings of Optic"]
        text = "; ".join([self.change, *notes])
        return {"location": self.location, "change": text, "breaking": self.breaking}


def _escape(segment: str) -> str:
    """Escape a JSON pointer segment (RFC 6901)."""
    return segment.replace("~", "~0").replace("/", "~1")


def _key_label(key: str) -> str:
    """``/schema/properties/input/properties/x`` -> ``input.x``; other keys as they are."""
    parts = [part for part in key.split("/") if part and part != "schema"]
    prefix = ""
    while len(parts) >= 2 and parts[0] in ("oneOf", "anyOf", "allOf") and parts[1].isdigit():
        prefix += f"{parts[0]}[{parts[1]}] "  # a member of a union: the sibling models' bodies
        parts = parts[2:]
    return prefix + _property_label(parts)


def _property_label(parts: list[str]) -> str:
    names = [part for index, part in enumerate(parts) if index % 2 == 1 and parts[index - 1] == "properties"]
    if names and len(names) * 2 == len(parts):
        return ".".join(names)
    return "/".join(parts)


def _short(value: Any) -> str:
    """Write a value as JSON, cut to ``MAX_VALUE_CHARS`` (a whole schema can change)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _describe(change: str, before: Any, after: Any) -> str:
    if change == "changed" and isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        details = [f"{key} {_short(before.get(key))} -> {_short(after.get(key))}" for key in keys]
        return "changed: " + ", ".join(details)
    return change


def changes_from_changelog(changelog: dict[str, Any]) -> list[Change]:
    """One :class:`Change` per changed attribute (or added/removed part) of Optic's JSON changelog."""
    found: list[Change] = []
    for operation in changelog.get("operations", []):
        method, _, path = operation["name"].partition(" ")
        base = f"/paths/{_escape(path)}/{method.lower()}"
        if operation.get("change") in ("added", "removed"):
            found.append(Change(operation["name"], f"operation {operation['change']}", False, base))
            continue
        found += _attribute_changes(operation.get("attributes", []), operation["name"], base)
        for parameter in operation.get("parameters", []):
            label = f"{operation['name']} {parameter.get('name', 'parameter')}"
            if parameter.get("change") in ("added", "removed"):
                found.append(Change(label, parameter["change"], False, base + "/parameters"))
            found += _attribute_changes(parameter.get("attributes", []), label, base + "/parameters")
        body = operation.get("requestBody")
        if body:
            found += _part_changes(body, f"{operation['name']} request body", base + "/requestBody")
        for response in operation.get("responses", []):
            status = response["name"].split(" ", 1)[0]
            found += _part_changes(
                response, f"{operation['name']} response {status}", f"{base}/responses/{status}"
            )
    return found


def _part_changes(part: dict[str, Any], label: str, pointer: str) -> list[Change]:
    if part.get("change") in ("added", "removed"):
        return [Change(label, part["change"], False, pointer)]
    found = _attribute_changes(part.get("attributes", []), label, pointer)
    for content in part.get("contentTypes", []):
        content_label = f"{label} {content['name']}"
        content_pointer = f"{pointer}/content/{_escape(content['name'])}"
        if content.get("change") in ("added", "removed"):
            found.append(Change(content_label, content["change"], False, content_pointer))
        found += _attribute_changes(content.get("attributes", []), content_label, content_pointer)
    return found


def _attribute_changes(attributes: list[dict[str, Any]], label: str, pointer: str) -> list[Change]:
    found = []
    for attribute in attributes:
        key = attribute.get("key", "")
        location = f"{label} {_key_label(key)}".strip() if key else label
        before, after = attribute.get("before"), attribute.get("after")
        found.append(
            Change(
                location, _describe(attribute["change"], before, after), False, pointer + key, before, after
            )
        )
    return found


def _is_response(json_path: str) -> bool:
    return "/responses/" in json_path


def _correction_for(result: dict[str, Any], change: Change | None) -> str | None:
    """Return the name of the correction that overrides Optic's failed ``result``, if any."""
    json_path = result.get("location", {}).get("jsonPath", "")
    error = result.get("error", "")
    if (
        result.get("name") == "request and response property enums"
        and _is_response(json_path)
        and error.startswith("cannot add enum option")
    ):
        return "response-enum-addition"
    if change is not None and not _is_response(json_path) and _exclusive_union_of_old(change):
        return "request-union-of-old"
    if (
        result.get("name") == "prevent response property type changes"
        and change is not None
        and change.before == {"type": "number"}
        and change.after == {"type": "integer"}
    ):
        return "response-type-narrowing"
    return None


def _exclusive_union_of_old(change: Change) -> bool:
    """Whether the schema became a ``oneOf`` that holds it, with members told apart by an enum."""
    before = change.before.get("schema") if isinstance(change.before, dict) else None
    after = change.after.get("schema") if isinstance(change.after, dict) else None
    if not isinstance(before, dict) or not isinstance(after, dict) or "oneOf" in before:
        return False
    members = after.get("oneOf")
    if not isinstance(members, list) or before not in members:
        return False
    shared = set.intersection(*(set(member.get("required", [])) for member in members))
    for name in sorted(shared):
        values = [member.get("properties", {}).get(name, {}).get("enum") for member in members]
        if all(isinstance(value, list) for value in values):
            flat = [json.dumps(item) for value in values for item in value]
            if len(flat) == len(set(flat)):
                return True
    return False


def _tightens_request(change: Change) -> bool:
    if _is_response(change.json_path) or not change.change.startswith("changed"):
        return False
    before = change.before if isinstance(change.before, dict) else {}
    after = change.after if isinstance(change.after, dict) else {}
    for keyword, tighter in REQUEST_LIMITS.items():
        old, new = before.get(keyword), after.get(keyword)
        if new is None or (old is not None and not isinstance(old, int | float)):
            continue
        if old is None or (new < old if tighter == "lower" else new > old):
            return True
    return "pattern" in after and after.get("pattern") != before.get("pattern")


def classify(changelog: dict[str, Any], results: list[dict[str, Any]]) -> list[Change]:
    """Merge Optic's changelog and its check results into classified changes, corrections applied."""
    changes = changes_from_changelog(changelog)
    by_path = sorted(changes, key=lambda change: len(change.json_path), reverse=True)
    for result in results:
        if result.get("passed") or result.get("exempted") or result.get("severity", 0) < ERROR_SEVERITY:
            continue
        json_path = result.get("location", {}).get("jsonPath", "")
        owner = next(
            (
                change
                for change in by_path
                if json_path == change.json_path or json_path.startswith(change.json_path + "/")
            ),
            None,
        )
        if owner is None:
            owner = Change(result.get("where", json_path), "changed", False, json_path)
            changes.append(owner)
            by_path.insert(0, owner)
        correction = _correction_for(result, owner if owner.json_path == json_path else None)
        message = result.get("error") or result.get("name", "breaking")
        if correction is None:
            owner.breaking = True
            note = f"Optic: {message}"
        else:
            note = CORRECTIONS[correction]
        if note not in owner.notes:
            owner.notes.append(note)
    for change in changes:
        if not change.breaking and _tightens_request(change):
            change.breaking = True
            change.notes.append(CORRECTIONS["request-limit-tightening"])
    return changes


def _load_spec(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CannotCompareError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CannotCompareError(
            f"{path}: cannot be read as JSON (the project keeps its specs in JSON) ({exc})"
        ) from exc
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise CannotCompareError(f"{path}: not an OpenAPI 3 document (no `openapi: 3.x` key)")
    try:
        from openapi_spec_validator import validate  # noqa: PLC0415 (only when comparing)
        from openapi_spec_validator.readers import read_from_filename  # noqa: PLC0415
    except ImportError:
        return document
    try:
        spec, base_uri = read_from_filename(str(path))
        validate(spec, base_uri=base_uri)
    except Exception as exc:  # the validator raises several unrelated classes
        text = str(getattr(exc, "message", exc)) or type(exc).__name__
        where = getattr(exc, "json_path", "")
        text = f"at {where}: {text}" if where else text
        message = text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS] + "..."
        raise CannotCompareError(f"{path}: not a valid OpenAPI document: {message}") from exc
    return document


def run_optic(old: Path, new: Path, *, optic: Path = OPTIC) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``optic diff OLD NEW --check --json``; return its changelog and its check results."""
    if shutil.which("node") is None:
        raise CannotCompareError("node is missing: install Node.js 20 or newer")
    if not optic.exists():
        raise CannotCompareError(f"Optic is missing at {optic}: run `npm ci` in {TOOLS}")
    with tempfile.TemporaryDirectory(prefix="spec-diff-") as scratch:
        # CI mode makes Optic write its check results to ci-run-details.json in the working folder.
        env = {**os.environ, "CI": "true", "OPTIC_TELEMETRY_LEVEL": "off"}
        try:
            completed = subprocess.run(
                [str(optic), "diff", str(old.resolve()), str(new.resolve()), "--check", "--json"],
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                timeout=OPTIC_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CannotCompareError(f"Optic could not run: {exc}") from exc
        details_file = Path(scratch) / "ci-run-details.json"
        if not details_file.exists():
            reason = (completed.stderr or completed.stdout).strip()[-2000:] or "no output"
            raise CannotCompareError(f"Optic failed (exit {completed.returncode}): {reason}")
        details = json.loads(details_file.read_text(encoding="utf-8"))
    if details.get("failed"):
        failure = details["failed"][0]
        raise CannotCompareError(f"Optic could not compare: {failure.get('error', failure)}")
    try:
        changelog = json.loads(completed.stdout) if completed.stdout.strip() else {}
    except ValueError as exc:
        raise CannotCompareError(f"Optic's changelog is not JSON: {exc}") from exc
    results = [result for run in details.get("completed", []) for result in run["comparison"]["results"]]
    return changelog, results


def compare(old: Path, new: Path, *, optic: Path = OPTIC) -> list[Change]:
    """Validate both specs, run Optic, and return the classified changes."""
    _load_spec(old)
    _load_spec(new)
    changelog, results = run_optic(old, new, optic=optic)
    return classify(changelog, results)


def report(changes: Sequence[Change]) -> list[str]:
    """Return the printed lines: one per change, then the verdict."""
    lines = [
        f"{'BREAKING  ' if change.breaking else 'compatible'}  {change.location}: "
        + change.as_json()["change"]
        for change in changes
    ]
    breaking = sum(change.breaking for change in changes)
    if not changes:
        lines.append("verdict: no changes")
    elif breaking:
        lines.append(f"verdict: BREAKING ({breaking} of {len(changes)} changes break consumers)")
    else:
        lines.append(f"verdict: compatible ({len(changes)} changes, none breaks consumers)")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(prog="spec_diff.py", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("old", type=Path, help="the spec as it was")
    parser.add_argument("new", type=Path, help="the spec as it is now")
    parser.add_argument("--json-out", type=Path, help="also write the classified changes as JSON here")
    parser.add_argument("--optic", type=Path, default=OPTIC, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        changes = compare(args.old, args.new, optic=args.optic)
    except CannotCompareError as exc:
        print(f"spec-diff: could not compare: {exc}", file=sys.stderr)
        return EXIT_CANNOT_COMPARE
    for line in report(changes):
        print(line)
    breaking = any(change.breaking for change in changes)
    if args.json_out is not None:
        document = {"breaking": breaking, "changes": [change.as_json() for change in changes]}
        args.json_out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return EXIT_BREAKING if breaking else EXIT_COMPATIBLE


if __name__ == "__main__":
    raise SystemExit(main())
