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

Nothing here imports pact-python until a verification runs.
"""

from __future__ import annotations

from ._check import SPECS, CheckResult, Finding, check_pacts, readable_spec
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
from ._pactfile import PROVIDER_NAME, PactFile, load_pact
from ._state_server import StateChangeServer
from ._states import PROVIDER_STATES
from ._verify import InteractionFailure, VerificationResult, verify_pacts

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
