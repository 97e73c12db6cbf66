"""The bi-directional check: a pact's requests and responses against the bundled spec.

Runs ``@pactflow/swagger-mock-validator`` (pinned in package.json, installed by ``npm ci``) through
Node on a copy of the spec it can read: the validator 14.5.0 crashes on a schema with ``nullable``
but no ``type``, so such schemas are rewritten first without changing what they accept.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal

import attrs

from ._errors import (
    ContractError,
    NodeNotFoundError,
    SpecMismatchError,
    SpecNotFoundError,
    ValidatorNotFoundError,
)
from ._pactfile import PactFile, load_pact
from ._verify import pact_paths

__all__ = [
    "SPECS",
    "VALIDATOR_VERSION",
    "CheckResult",
    "Finding",
    "check_pacts",
    "find_validator",
    "readable_spec",
    "spec_file",
]

SpecName = Literal["live", "documented"]
VALIDATOR_VERSION: Final = "14.5.0"
_PACKAGE = Path(__file__).resolve().parent.parent
_CHECKOUT = _PACKAGE.parents[1]
_RUNNER = Path(__file__).with_name("_smv_runner.mjs")
_VALIDATOR = Path("node_modules", "@pactflow", "swagger-mock-validator")
#: Where each spec is found: installed (inside the package) first, then in a checkout.
SPECS: Final[dict[str, tuple[Path, Path]]] = {
    "live": (_PACKAGE / "openapi-live.json", _CHECKOUT / "openapi" / "bundled" / "apikley-live.json"),
    "documented": (_PACKAGE / "openapi.json", _CHECKOUT / "openapi" / "bundled" / "apikley.json"),
}
_TIMEOUT = 120.0


@attrs.frozen
class Finding:
    """One thing the validator found: its ``code``, ``message`` and the interaction it is about."""

    pact: Path
    severity: str
    code: str
    message: str
    interaction: str | None
    operation: str | None

    def __str__(self) -> str:
        where = f" [{self.interaction}]" if self.interaction else ""
        operation = f" ({self.operation})" if self.operation else ""
        return f"{self.severity}: {self.code}{where}{operation}: {self.message}"


@attrs.frozen
class CheckResult:
    """What :func:`check_pacts` found: ``passed``, every ``finding`` and a printable ``report``."""

    spec: str
    spec_path: Path
    pacts: tuple[PactFile, ...]
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings that fail the check (warnings do not)."""
        return tuple(finding for finding in self.findings if finding.severity == "error")

    @property
    def passed(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def report(self) -> str:
        """One block per pact: its verdict and its findings."""
        lines = []
        for pact in self.pacts:
            mine = [finding for finding in self.findings if finding.pact == pact.path]
            failed = any(finding.severity == "error" for finding in mine)
            verdict = "NOT compatible with" if failed else "compatible with"
            lines.append(f"{pact.path}: {verdict} the {self.spec} spec ({self.spec_path.name})")
            lines += [f"  {finding}" for finding in mine]
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise :class:`SpecMismatchError` (with the report) when any finding is an error."""
        if not self.passed:
            raise SpecMismatchError(
                f"{len(self.errors)} finding(s): the pact does not fit the {self.spec} spec",
                report=self.report,
            )


def spec_file(spec: str) -> Path:
    """Return the bundled spec named ``spec`` (``live`` or ``documented``); raise when it is missing."""
    if spec not in SPECS:
        raise ValueError(f"spec must be one of {', '.join(SPECS)}; got {spec!r}")
    for candidate in SPECS[spec]:
        if candidate.is_file():
            return candidate
    looked = " and ".join(str(path) for path in SPECS[spec])
    raise SpecNotFoundError(f"the {spec} spec is missing (looked at {looked})")


def readable_spec(document: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``document`` that swagger-mock-validator 14.5.0 can read, accepting the same.

    A schema with ``nullable: true`` and no ``type`` crashes it. Without ``oneOf``/``anyOf`` such a
    schema already accepts any value, so ``nullable`` is dropped; with them, the first alternative
    becomes nullable instead, so null still matches exactly one alternative.
    """
    fixed = copy.deepcopy(document)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("nullable") is True and "type" not in node:
                del node["nullable"]
                for key in ("oneOf", "anyOf"):
                    alternatives = node.get(key)
                    if isinstance(alternatives, list) and alternatives and isinstance(alternatives[0], dict):
                        alternatives[0] = {**alternatives[0], "nullable": True}
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(fixed)
    return fixed


def find_validator(search_from: Path | None = None) -> Path:
    """Return the folder of the installed swagger-mock-validator.

    ``SORA2_SWAGGER_MOCK_VALIDATOR`` wins; otherwise ``node_modules/@pactflow/swagger-mock-validator``
    in ``search_from`` (default: the current directory), its parents, or this checkout.
    """
    configured = os.environ.get("SORA2_SWAGGER_MOCK_VALIDATOR")
    if configured:
        if (Path(configured) / "package.json").is_file():
            return Path(configured)
        raise ValidatorNotFoundError(
            f"SORA2_SWAGGER_MOCK_VALIDATOR={configured} is not a swagger-mock-validator package folder"
        )
    start = (search_from or Path.cwd()).resolve()
    for candidate in (folder / _VALIDATOR for folder in (start, *start.parents, _CHECKOUT)):
        if (candidate / "package.json").is_file():
            return candidate
    raise ValidatorNotFoundError(
        f"swagger-mock-validator is not installed: run `npm ci` where package.json pins "
        f"@pactflow/swagger-mock-validator {VALIDATOR_VERSION}, or set SORA2_SWAGGER_MOCK_VALIDATOR"
    )


def _factory_of(validator: Path) -> Path:
    try:
        manifest = json.loads((validator / "package.json").read_text(encoding="utf-8"))
        entry = manifest["exports"]["."]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidatorNotFoundError(f"{validator}: not a usable swagger-mock-validator install") from exc
    factory = validator / (entry if isinstance(entry, str) else entry.get("import", ""))
    if not factory.is_file():
        raise ValidatorNotFoundError(f"{validator}: not a usable swagger-mock-validator install")
    return factory


def _run(node: str, factory: Path, spec: Path, pact: PactFile) -> list[Finding]:
    try:
        completed = subprocess.run(  # noqa: S603 - our runner, fixed arguments
            [node, str(_RUNNER), str(factory), str(spec), str(pact.path.resolve())],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ContractError(f"swagger-mock-validator did not finish within {_TIMEOUT:g} s") from exc
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    try:
        outcome = json.loads(lines[-1])
    except (IndexError, ValueError) as exc:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise ContractError(
            f"swagger-mock-validator failed on {pact.path}: {detail[-1] if detail else 'no output'}"
        ) from exc
    if "crashed" in outcome:
        raise ContractError(f"swagger-mock-validator failed on {pact.path}: {outcome['crashed']}")
    findings = []
    for severity in ("errors", "warnings"):
        for item in outcome.get(severity) or []:
            operation = (
                f"{str(item.get('pathMethod')).upper()} {item.get('pathName')}"
                if item.get("pathName")
                else None
            )
            findings.append(
                Finding(
                    pact=pact.path,
                    severity=severity[:-1],
                    code=str(item.get("code")),
                    message=str(item.get("message")),
                    interaction=item.get("interaction"),
                    operation=operation,
                )
            )
    if not outcome.get("success") and not any(finding.severity == "error" for finding in findings):
        reason = str(outcome.get("failureReason") or "the validator reported a failure")
        findings.append(Finding(pact.path, "error", "validator.failed", reason, None, None))
    return findings


def check_pacts(
    paths: str | Path | Iterable[str | Path], *, spec: SpecName = "live", search_from: Path | None = None
) -> CheckResult:
    """Check each pact file against the bundled spec ``spec`` (``live``, the default, or ``documented``).

    Fails on a request the spec does not allow (a wrong model, a missing ``Authorization``, a field
    too long) or a response it cannot produce. ``search_from`` is where ``node_modules`` is looked
    for (default: the current directory and its parents).

    Example::

        check_pacts("pacts/my-app-apikley.json", spec="documented").raise_for_failures()

    Raises:
        PactFileError (and its subclasses): a file cannot be checked.
        SpecNotFoundError: the chosen spec is not there.
        NodeNotFoundError, ValidatorNotFoundError: the tools are missing.

    """
    files = pact_paths(paths)
    if not files:
        raise ValueError("paths: give at least one pact file")
    pacts = tuple(load_pact(path) for path in files)
    source = spec_file(spec)
    node = shutil.which("node")
    if node is None:
        raise NodeNotFoundError("Node.js is not installed: swagger-mock-validator needs Node 20 or newer")
    factory = _factory_of(find_validator(search_from))
    document = json.loads(source.read_text(encoding="utf-8"))
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="sora2-contracts-") as folder:
        readable = Path(folder, source.name)
        readable.write_text(json.dumps(readable_spec(document)), encoding="utf-8")
        for pact in pacts:
            findings += _run(node, factory, readable, pact)
    return CheckResult(spec=spec, spec_path=source, pacts=pacts, findings=tuple(findings))
