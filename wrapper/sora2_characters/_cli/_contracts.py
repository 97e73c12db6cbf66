"""``sora2-characters contracts``: verify pacts against the fake, check them against the spec, list states.

Each bad input is one line on stderr (or the JSON error object) and its own exit code, from the
table in :mod:`._exits`: 21 a missing or unreadable pact file, 22 not a pact, 23 a pact for another
provider, 24 a pact version the verifier does not know, 25 the spec is missing, 26 Node.js is
missing, 27 swagger-mock-validator is missing, 28 an interaction failed against the fake, 29 the
pact does not fit the spec, 30 any other contracts failure (pact-python missing, a tool crashed).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

from ._exits import EXIT_OK, exit_code_for
from ._output import Output, error_payload

if TYPE_CHECKING:
    from ..contracts import PactVerificationError, SpecMismatchError

__all__ = ["contracts"]

_EXITS_HELP = (
    "\b\nExit codes: 0 passed; 21 a pact file is missing or unreadable; 22 not a pact; 23 a pact for\n"
    "another provider; 24 a pact version the verifier does not know; 25 the spec is missing;\n"
    "26 Node.js is missing; 27 swagger-mock-validator is missing (run npm ci); 28 an interaction\n"
    "failed against the fake; 29 the pact does not fit the spec; 30 any other contracts failure."
)
_PACTS = click.argument(
    "pact_files", metavar="PACT_FILE...", nargs=-1, required=True, type=click.Path(path_type=str)
)


def _json_option(func: Any) -> Any:
    return click.option(
        "--json", "as_json", is_flag=True, help="Write exactly one JSON object to stdout (also on errors)."
    )(func)


def _output(ctx: click.Context, as_json: bool) -> Output:
    return Output(ctx.find_root().obj.redact, json_mode=as_json)


def _fail(output: Output, error: BaseException) -> int:
    output.error(error)
    return exit_code_for(error)


def _failed(output: Output, error: PactVerificationError | SpecMismatchError, details: dict[str, Any]) -> int:
    """Report a contract that did not hold: the report, then the error (one JSON object with --json)."""
    if output.json_mode:
        output.result({**error_payload(error), "passed": False, **details, "report": error.report})
    else:
        output.stdout.write(output.redact(error.report) + "\n")
        output.error(error)
    return exit_code_for(error)


@click.group(epilog=_EXITS_HELP)
def contracts() -> None:
    """Consumer-driven contracts: verify pacts against the fake Apikley and check them against the spec.

    Needs the 'contracts' extra (pact-python); `check` also needs Node and the pinned
    @pactflow/swagger-mock-validator (npm ci).
    """


@contracts.command(epilog=_EXITS_HELP)
@_PACTS
@_json_option
@click.pass_context
def verify(ctx: click.Context, pact_files: tuple[str, ...], as_json: bool) -> int:
    """Replay each interaction of PACT_FILE... against a fresh fake Apikley (provider states included)."""
    from ..contracts import ContractError, PactVerificationError, verify_pacts  # noqa: PLC0415 - fast --help

    output = _output(ctx, as_json)
    # pact-python hands the Rust core's log to logging; the report says it all, so keep it off stderr.
    logging.getLogger("pact").addHandler(logging.NullHandler())
    try:
        result = verify_pacts(pact_files)
        result.raise_for_failures()
    except PactVerificationError as exc:
        failures = [
            {
                "consumer": failure.consumer,
                "description": failure.description,
                "provider_states": list(failure.provider_states),
                "mismatches": list(failure.mismatches),
            }
            for failure in result.failures
        ]
        return _failed(output, exc, {"failures": failures})
    except ContractError as exc:
        return _fail(output, exc)
    payload = {
        "passed": True,
        "pacts": [str(pact.path) for pact in result.pacts],
        "interactions": result.interactions,
    }
    if not as_json:
        output.stdout.write(output.redact(result.report) + "\n")
    output.result(payload, [("passed", f"{result.interactions} interaction(s) verified against the fake")])
    return EXIT_OK


@contracts.command(epilog=_EXITS_HELP)
@_PACTS
@click.option(
    "--spec",
    type=click.Choice(["live", "documented"]),
    default="live",
    show_default=True,
    help="live: the bundled spec of the live wire (apikley-live.json); documented: apikley.json.",
)
@_json_option
@click.pass_context
def check(ctx: click.Context, pact_files: tuple[str, ...], spec: str, as_json: bool) -> int:
    """Check each PACT_FILE... against the bundled spec with swagger-mock-validator (bi-directional)."""
    from ..contracts import ContractError, SpecMismatchError, check_pacts  # noqa: PLC0415 - fast --help

    output = _output(ctx, as_json)
    try:
        result = check_pacts(pact_files, spec="live" if spec == "live" else "documented")
        result.raise_for_failures()
    except SpecMismatchError as exc:
        return _failed(output, exc, {"findings": [str(finding) for finding in result.findings]})
    except ContractError as exc:
        return _fail(output, exc)
    if not as_json:
        output.stdout.write(output.redact(result.report) + "\n")
    payload = {
        "passed": True,
        "spec": result.spec,
        "pacts": [str(pact.path) for pact in result.pacts],
        "warnings": [str(finding) for finding in result.findings],
    }
    output.result(payload, [("passed", f"{len(result.pacts)} pact(s) fit the {result.spec} spec")])
    return EXIT_OK


@contracts.command()
@_json_option
@click.pass_context
def states(ctx: click.Context, as_json: bool) -> int:
    """List the provider states a pact may use, and what each does to the fake."""
    from ..contracts import PROVIDER_STATES  # noqa: PLC0415 - keep --help fast

    output = _output(ctx, as_json)
    if as_json:
        output.result({"states": dict(PROVIDER_STATES)})
    else:
        text = "".join(f"{name}\n    {description}\n" for name, description in PROVIDER_STATES.items())
        output.stdout.write(text)
    return EXIT_OK
