"""Consumer-driven contracts with Pact (extra ``contracts``): pacts verified against the fake and the spec.

A consumer records the interactions it relies on as a pact file (with pact-python, or the pytest
fixture ``apikley_pact``); this package is the provider side:

* :func:`verify_pacts` replays a pact against a fresh :class:`~sora2_characters.testing.FakeApikley`,
  setting up the provider states of :data:`PROVIDER_STATES` before each interaction;
* :func:`check_pacts` checks it against the bundled spec (``live`` or ``documented``) with
  swagger-mock-validator (Node; ``npm ci`` installs the pinned copy).

The command line offers both: ``sora2-characters contracts verify|check|states``.

Example::

    from sora2_characters.contracts import check_pacts, verify_pacts

    verify_pacts(["pacts/my-app-apikley.json"]).raise_for_failures()
    check_pacts(["pacts/my-app-apikley.json"], spec="live").raise_for_failures()

Nothing here imports pact-python until a verification runs, nor the rest until first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._errors import (
    ContractError,
    NodeNotFoundError,
    NotAPactError,
    PactFileError,
    PactVerificationError,
    SpecMismatchError,
    SpecNotFoundError,
    UnsupportedPactVersionError,
    ValidatorNotFoundError,
    WrongProviderError,
)
from ._states import PROVIDER_STATES

if TYPE_CHECKING:
    from ._check import SPECS, CheckResult, Finding, check_pacts, readable_spec
    from ._pactfile import PROVIDER_NAME, PactFile, load_pact
    from ._state_server import StateChangeServer
    from ._verify import InteractionFailure, VerificationResult, verify_pacts

# The command line imports the errors for its exit codes: the rest (an HTTP server, subprocesses)
# loads on first use, so `sora2-characters --help` does not pay for it.
_LAZY = {
    "SPECS": "_check",
    "CheckResult": "_check",
    "Finding": "_check",
    "check_pacts": "_check",
    "readable_spec": "_check",
    "PROVIDER_NAME": "_pactfile",
    "PactFile": "_pactfile",
    "load_pact": "_pactfile",
    "StateChangeServer": "_state_server",
    "InteractionFailure": "_verify",
    "VerificationResult": "_verify",
    "verify_pacts": "_verify",
}


def __getattr__(name: str) -> Any:
    """Load the public names of the heavier modules on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "PROVIDER_NAME",
    "PROVIDER_STATES",
    "SPECS",
    "CheckResult",
    "ContractError",
    "Finding",
    "InteractionFailure",
    "NodeNotFoundError",
    "NotAPactError",
    "PactFile",
    "PactFileError",
    "PactVerificationError",
    "SpecMismatchError",
    "SpecNotFoundError",
    "StateChangeServer",
    "UnsupportedPactVersionError",
    "ValidatorNotFoundError",
    "VerificationResult",
    "WrongProviderError",
    "check_pacts",
    "load_pact",
    "readable_spec",
    "verify_pacts",
]


def __dir__() -> list[str]:
    return sorted(__all__)
