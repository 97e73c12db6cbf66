"""Provider verification: replay pacts against a fresh fake Apikley with pact-python's verifier."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from ._errors import ContractError, PactVerificationError
from ._pactfile import PROVIDER_NAME, PactFile, load_pact
from ._state_server import StateChangeServer

__all__ = ["InteractionFailure", "VerificationResult", "pact_paths", "verify_pacts"]

_MISSING_PACT = (
    "pact-python is missing: install the 'contracts' extra (pip install 'sora2-characters[contracts]')"
)


@attrs.frozen
class InteractionFailure:
    """One interaction that did not pass: which, under which states, and what differed."""

    consumer: str
    description: str
    provider_states: tuple[str, ...]
    mismatches: tuple[str, ...]

    def __str__(self) -> str:
        given = f" (given {', '.join(self.provider_states)})" if self.provider_states else ""
        lines = [f"{self.consumer}: {self.description}{given}"]
        lines += [f"  - {mismatch}" for mismatch in self.mismatches]
        return "\n".join(lines)


@attrs.frozen
class VerificationResult:
    """What :func:`verify_pacts` found: ``passed``, the verifier's ``report`` and the ``failures``."""

    pacts: tuple[PactFile, ...]
    passed: bool
    interactions: int
    failures: tuple[InteractionFailure, ...]
    report: str

    def raise_for_failures(self) -> None:
        """Raise :class:`PactVerificationError` (with the report) unless every interaction passed."""
        if not self.passed:
            count = len(self.failures) or "some"
            raise PactVerificationError(
                f"{count} of {self.interactions} interaction(s) failed against the fake Apikley",
                report=self.report,
            )


def pact_paths(paths: str | Path | Iterable[str | Path]) -> list[Path]:
    """Normalise one path or many into a list (a single ``str`` is one path, not its characters)."""
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    return [Path(path) for path in paths]


def _mismatch_text(mismatch: dict[str, Any]) -> str:
    text = mismatch.get("mismatch") or mismatch.get("description") or mismatch.get("type") or "mismatch"
    path = mismatch.get("path")
    return f"{path}: {text}" if path else str(text)


def _failures(results: dict[str, Any]) -> tuple[InteractionFailure, ...]:
    failures = []
    for item in results.get("interactionResults") or []:
        if item.get("result") == "OK":
            continue
        details = item.get("mismatch") or {}
        mismatches = details.get("mismatches")
        if isinstance(mismatches, list):
            lines = tuple(_mismatch_text(mismatch) for mismatch in mismatches if isinstance(mismatch, dict))
        else:
            lines = (str(details.get("error") or details.get("message") or details or "failed"),)
        failures.append(
            InteractionFailure(
                consumer=str(item.get("consumer", "")),
                description=str(item.get("description", "")),
                provider_states=tuple(str(state) for state in item.get("providerStates") or ()),
                mismatches=lines,
            )
        )
    return tuple(failures)


def _state_errors(failure: InteractionFailure, errors: list[str]) -> tuple[str, ...]:
    prefixes = tuple(f"provider state {state!r}:" for state in failure.provider_states)
    return tuple(error for error in errors if error.startswith(prefixes))


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Keep the Rust core's own printing of the report off file descriptor 1 while it runs.

    The report is returned instead (``VerificationResult.report``), so ``--json`` keeps stdout to one
    object. The descriptor is restored afterwards, whatever happens.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def verify_pacts(paths: str | Path | Iterable[str | Path], **fake_options: Any) -> VerificationResult:
    """Replay every interaction of the pact files ``paths`` against a fresh fake Apikley.

    The fake is a :class:`~sora2_characters.testing.FakeApikley` built with ``fake_options``
    (by default it accepts any bearer key, since pacts carry their consumer's test key). Provider
    states (:data:`~sora2_characters.contracts.PROVIDER_STATES`) are set up through a loopback
    state-change endpoint, and torn down after each interaction. V3 and V4 pacts alike.

    Example::

        result = verify_pacts(["pacts/my-app-apikley.json"])
        result.raise_for_failures()  # PactVerificationError with the verifier's report

    Raises:
        PactFileError, NotAPactError, WrongProviderError, UnsupportedPactVersionError: a file
            cannot be verified (checked before anything starts).
        ContractError: pact-python is not installed (the ``contracts`` extra).

    """
    files = pact_paths(paths)
    if not files:
        raise ValueError("paths: give at least one pact file")
    pacts = tuple(load_pact(path) for path in files)
    os.environ["PACT_DO_NOT_TRACK"] = "true"  # pact-python reports usage otherwise
    try:
        from pact import Verifier  # noqa: PLC0415 - the 'contracts' extra
    except ImportError as exc:
        raise ContractError(_MISSING_PACT) from exc
    from ..testing import FakeApikley  # noqa: PLC0415 - needs the 'server' extra

    options = dict(fake_options)
    if "api_key" not in options:
        options.setdefault("accept_any_key", True)
    with FakeApikley(**options) as fake, StateChangeServer(fake) as states:
        verifier = (
            Verifier(PROVIDER_NAME, host="127.0.0.1")
            .add_transport(url=fake.base_url)
            .state_handler(states.url, teardown=True, body=True)
            .set_coloured_output(enabled=False)
        )
        for pact in pacts:
            verifier.add_source(pact.path)
        try:
            with _quiet_stdout():
                verifier.verify()
            raised = False
        except RuntimeError:  # the core's "failed to execute": the results say why
            raised = True
        results = verifier.results
        report = verifier.output(strip_ansi=True).strip()
    failures = _failures(results)
    errors = results.get("errors") or []
    total = sum(len(pact.interactions) for pact in pacts)
    passed = not raised and not failures and not errors
    if states.errors:  # the verifier says only that a state change failed; the state server says why
        report = "\n".join([report, "", "Provider state changes refused:", *states.errors]).strip()
        failures = tuple(
            attrs.evolve(failure, mismatches=(*failure.mismatches, *_state_errors(failure, states.errors)))
            for failure in failures
        )
    return VerificationResult(
        pacts=pacts, passed=passed, interactions=total, failures=failures, report=report
    )
