"""The exit-code table of ``sora2-characters``: one code per error class, kept in this one place.

:data:`EXIT_CODES` maps each exception class to its code, most specific class first, so the first
``isinstance`` match wins. The ``--help`` epilog and the README table are rendered from it.
"""

from __future__ import annotations

from typing import Final

from .._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    FeatureDisabledError,
    GenerationFailedError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidInputError,
    JournalError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    StoreError,
    TaskFailedError,
    UnprocessableEntityError,
    UsageLimitError,
    WaitTimeoutError,
)
from .._fake.errors import PortInUseError
from ..contracts._errors import (
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

__all__ = [
    "EXIT_BATCH_INCOMPLETE",
    "EXIT_CODES",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PORT_IN_USE",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "exit_code_for",
    "exit_code_markdown",
    "exit_code_table",
]

EXIT_OK: Final = 0
EXIT_UNEXPECTED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130
#: ``batch``: it ran to its end, but not every row succeeded (failed, unknown or skipped rows).
EXIT_BATCH_INCOMPLETE: Final = 31
EXIT_PORT_IN_USE: Final = 20

#: (exception class, exit code, what it means), most specific class first.
EXIT_CODES: Final[tuple[tuple[type[BaseException], int, str], ...]] = (
    (InvalidInputError, EXIT_USAGE, "usage error or invalid local input (bad option, file, video, URL, key)"),
    (AuthenticationError, 3, "401: the API key is missing or invalid"),
    (InsufficientCreditsError, 4, "402: not enough credits"),
    (NotFoundError, 5, "404 (or 422 'recordInfo is null'): no such task"),
    (RateLimitError, 6, "429: rate limited, try again later"),
    (UsageLimitError, 7, "433: the per-key usage cap is exceeded"),
    (ServiceUnavailableError, 8, "455: service unavailable (maintenance), try again later"),
    (TaskFailedError, 10, "the task ran and ended in state 'fail'"),
    (WaitTimeoutError, 11, "--max-wait passed before the task ended (resume with 'wait TASK_ID')"),
    (APITimeoutError, 12, "a request timed out"),
    (APIConnectionError, 9, "no answer: connection refused, reset or broken"),
    (MalformedResponseError, 13, "the answer was not the documented JSON envelope"),
    (BadRequestError, 14, "400: a parameter is missing or malformed"),
    (UnprocessableEntityError, 15, "422: the parameters failed the service's validation"),
    (InternalServerError, 16, "500: server error"),
    (GenerationFailedError, 17, "501: generation failed"),
    (FeatureDisabledError, 18, "505: the feature is disabled"),
    (APIError, 19, "any other API error code"),
    (PortInUseError, EXIT_PORT_IN_USE, "mock: the port is already in use (--port 0 picks a free one)"),
    (NotAPactError, 22, "contracts: the file is not a pact (not JSON, no consumer/provider/interactions)"),
    (WrongProviderError, 23, "contracts: the pact is for another provider than apikley"),
    (UnsupportedPactVersionError, 24, "contracts: a pact specification version the verifier does not know"),
    (PactFileError, 21, "contracts: a pact file is missing or unreadable"),
    (SpecNotFoundError, 25, "contracts: the bundled spec to check against is missing"),
    (NodeNotFoundError, 26, "contracts: Node.js is not installed"),
    (ValidatorNotFoundError, 27, "contracts: swagger-mock-validator is not installed (run npm ci)"),
    (PactVerificationError, 28, "contracts: an interaction failed against the fake Apikley"),
    (SpecMismatchError, 29, "contracts: the pact asks or expects what the spec does not allow"),
    (ContractError, 30, "contracts: another failure (pact-python missing, a tool crashed)"),
    (StoreError, 32, "listen: the outcome store is unusable (Redis down, bad sqlite: file)"),
    (JournalError, 33, "batch: the journal is locked, read-only, corrupt or belongs to another manifest"),
)


def exit_code_for(error: BaseException) -> int:
    """Return the exit code for ``error``: its first match in :data:`EXIT_CODES`, else 1 (unexpected)."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    for cls, code, _meaning in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return EXIT_UNEXPECTED


def exit_code_table() -> list[tuple[int, str, str]]:
    """Every exit code in ascending order: (code, exception class or condition, meaning)."""
    rows = [
        (EXIT_OK, "-", "success"),
        (EXIT_UNEXPECTED, "-", "unexpected error (a bug, or the 'cli' extra is missing)"),
        (EXIT_USAGE, "UsageError", "usage error: unknown option, missing argument, unreadable file"),
        (EXIT_INTERRUPTED, "KeyboardInterrupt", "interrupted (Ctrl-C); a wait prints the task_id to resume"),
        (EXIT_BATCH_INCOMPLETE, "-", "batch: not every row succeeded (see the summary line and --out)"),
    ]
    rows += [(code, cls.__name__, meaning) for cls, code, meaning in EXIT_CODES]
    return sorted(rows, key=lambda row: (row[0], row[1] != "UsageError"))


def exit_code_markdown() -> str:
    """Render the exit-code table as the Markdown table the README shows."""
    lines = ["| Exit code | Error class | Meaning |", "|---:|---|---|"]
    lines += [f"| {code} | `{name}` | {meaning} |" for code, name, meaning in exit_code_table()]
    return "\n".join(lines) + "\n"
