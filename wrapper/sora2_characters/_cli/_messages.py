"""The library's messages, said in the command line's words.

The library names its arguments (``api_key``, ``character_prompt``, ``allow_insecure_http=True``);
a command-line user knows options (``--api-key``, ``--prompt``) and environment variables, and has
no ``allow_insecure_http``. :func:`for_cli` rewrites an :class:`InvalidInputError` so that its
``field`` is the option (or the file) and its message mentions only what the CLI offers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .._exceptions import InvalidInputError

__all__ = ["FIELD_OPTIONS", "KeySource", "auth_hint", "for_cli"]

#: Library argument -> the option a CLI user sets instead.
FIELD_OPTIONS: Final[Mapping[str, str]] = {
    "api_key": "--api-key",
    "base_url": "--base-url",
    "upload_base_url": "--upload-base-url",
    "timeout": "--timeout",
    "upload_timeout": "--timeout",
    "max_retries": "--max-retries",
    "video_url": "--video-url",
    "character_prompt": "--prompt",
    "safety_instruction": "--safety",
    "callback_url": "--callback-url",
    "source": "--video",
    "file_name": "--video",
    "task_id": "TASK_ID",
    "max_wait": "--max-wait",
    "poll_interval": "--poll-interval",
}

#: Where the key came from: ``"option"`` (--api-key), ``"environment"`` (APIKLEY_API_KEY) or None.
KeySource = str | None

# Library phrases that name what the CLI does not have, and what the CLI says instead.
_REWRITES: Final = (
    (", or pass allow_insecure_http=True", " (the command line never sends the key over plain http)"),
    (
        "pass api_key=... or set the APIKLEY_API_KEY environment variable",
        "pass --api-key KEY or set APIKLEY_API_KEY",
    ),
)


def _key_field(key_source: KeySource) -> str:
    return "APIKLEY_API_KEY" if key_source == "environment" else "--api-key"


def for_cli(
    error: InvalidInputError, *, key_source: KeySource = None, fields: Mapping[str, str] | None = None
) -> InvalidInputError:
    """Return ``error`` with its field named as an option (``fields`` first) and CLI-only wording.

    ``fields`` overrides :data:`FIELD_OPTIONS` for one command (``{"source": "PATH"}`` in ``upload``).
    An error already in CLI terms (its field starts with ``-`` or is upper case) is returned as is.
    """
    if error.field.startswith("-") or error.field.isupper():
        return error
    if error.field == "api_key":
        field = _key_field(key_source)
    else:
        field = {**FIELD_OPTIONS, **(fields or {})}.get(error.field, error.field)
    message = error.message
    for library, cli in _REWRITES:
        message = message.replace(library, cli)
    translated = InvalidInputError(field, message)
    translated.__cause__ = error.__cause__
    return translated


def auth_hint(key_source: KeySource) -> str:
    """Return what a 401 asks of a CLI user: check the key, and where it was read from (not its value)."""
    if key_source == "option":
        where = "the --api-key option"
    elif key_source == "environment":
        where = "the APIKLEY_API_KEY environment variable"
    else:
        where = "nowhere (no --api-key and no APIKLEY_API_KEY)"
    return (
        f"note: the service refused the API key. Check the key: it was read from {where}; "
        "copy it again from your Apikley account (the value is never shown here)."
    )
