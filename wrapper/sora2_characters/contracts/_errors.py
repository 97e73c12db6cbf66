"""The errors of :mod:`sora2_characters.contracts`, each with its own exit code on the command line.

The tree::

    Sora2CharactersError
    └── ContractError                      a contract could not be checked, or did not hold
        ├── PactFileError                  a pact file is missing or unreadable          (exit 21)
        ├── NotAPactError                  a file is not a pact (not JSON, no interactions) (exit 22)
        ├── WrongProviderError             the pact is for another provider than apikley  (exit 23)
        ├── UnsupportedPactVersionError    a pact specification version the verifier does not know (exit 24)
        ├── SpecNotFoundError              the bundled spec to check against is missing   (exit 25)
        ├── NodeNotFoundError              Node.js is not installed                        (exit 26)
        ├── ValidatorNotFoundError         swagger-mock-validator is not installed         (exit 27)
        ├── PactVerificationError          an interaction failed against the fake          (exit 28)
        └── SpecMismatchError              the pact asks or expects what the spec does not allow (exit 29)

:func:`~sora2_characters.contracts.verify_pacts` and :func:`~sora2_characters.contracts.check_pacts`
raise the first seven before running anything; the last two are raised by ``raise_for_failures()``
of a result, and the command line turns every one into a one-line message and its exit code.
"""

from __future__ import annotations

from pathlib import Path

from .._exceptions import Sora2CharactersError

__all__ = [
    "ContractError",
    "NodeNotFoundError",
    "NotAPactError",
    "PactFileError",
    "PactVerificationError",
    "SpecMismatchError",
    "SpecNotFoundError",
    "UnsupportedPactVersionError",
    "ValidatorNotFoundError",
    "WrongProviderError",
]


class ContractError(Sora2CharactersError):
    """A pact could not be verified or checked, or it did not hold."""


class PactFileError(ContractError):
    """A pact file is missing or cannot be read (``.path``)."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class NotAPactError(PactFileError):
    """The file is readable but is not a pact: not JSON, or no consumer, provider and interactions."""


class WrongProviderError(PactFileError):
    """The pact names another provider than ``apikley`` (``.provider``)."""

    def __init__(self, message: str, *, path: Path, provider: str) -> None:
        super().__init__(message, path=path)
        self.provider = provider


class UnsupportedPactVersionError(PactFileError):
    """The pact's ``metadata.pactSpecification.version`` is not one the verifier knows (``.version``)."""

    def __init__(self, message: str, *, path: Path, version: str) -> None:
        super().__init__(message, path=path)
        self.version = version


class SpecNotFoundError(ContractError):
    """The bundled OpenAPI document of the chosen spec (``live`` or ``documented``) is missing."""


class NodeNotFoundError(ContractError):
    """Node.js, which runs swagger-mock-validator, is not installed."""


class ValidatorNotFoundError(ContractError):
    """``@pactflow/swagger-mock-validator`` is not installed where we look (``npm ci`` installs it)."""


class PactVerificationError(ContractError):
    """One or more interactions failed against the fake (``.report``: the verifier's report)."""

    def __init__(self, message: str, *, report: str) -> None:
        super().__init__(message)
        self.report = report


class SpecMismatchError(ContractError):
    """A pact's request or response is not allowed by the spec (``.report``: the validator's findings)."""

    def __init__(self, message: str, *, report: str) -> None:
        super().__init__(message)
        self.report = report
