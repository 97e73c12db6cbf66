"""Local validation, run before any request; every refusal is an :class:`InvalidInputError`.

Limits come from the createTask spec: one absolute http(s) video URL, prompt and safety text of at
most 5000 characters counted as code points (``len(str)``, as Prism and JSON Schema count them), and
for uploads an mp4, webm or avi file (by content) of at most 10 MB (10 x 1024 x 1024 bytes) lasting 1
to 4 seconds when the duration can be read.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ._exceptions import InvalidInputError

__all__ = [
    "MAX_DURATION_S",
    "MAX_TEXT_LENGTH",
    "MAX_VIDEO_BYTES",
    "MIN_DURATION_S",
    "check_base_url",
    "check_duration",
    "check_text",
    "check_url",
    "duration_in_range",
    "is_loopback_host",
]

MAX_TEXT_LENGTH = 5000
MAX_VIDEO_BYTES = 10 * 1024 * 1024
MIN_DURATION_S = 1.0
MAX_DURATION_S = 4.0
#: Container metadata rounds; a 4.00 s clip may read as 4.02 s.
DURATION_TOLERANCE_S = 0.05
_MAX_URL_LENGTH = 8192


def check_url(field: str, value: object) -> str:
    """Return ``value`` if it is an absolute http(s) URL with a host; raise InvalidInputError otherwise."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string URL, got {type(value).__name__}")
    if len(value) > _MAX_URL_LENGTH:
        raise InvalidInputError(field, f"is longer than {_MAX_URL_LENGTH} characters")
    if value != value.strip() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInputError(field, "must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise InvalidInputError(field, f"is not a valid URL ({exc})") from exc
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidInputError(field, "must be an absolute http:// or https:// URL")
    if not host:
        raise InvalidInputError(field, "must be an absolute URL with a host")
    return value


def check_text(field: str, value: object) -> str | None:
    """Return ``value`` (``None`` passes) if it is a string of at most 5000 code points."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInputError(field, f"is {len(value)} characters long; the limit is {MAX_TEXT_LENGTH}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(field, "contains unpaired surrogates, which JSON cannot carry") from exc
    return value


def duration_in_range(duration: float) -> bool:
    """Whether a clip of ``duration`` seconds is 1-4 s long, with the 0.05 s metadata tolerance.

    The one rule shared by the client's upload check and the fake server's task check.
    """
    return MIN_DURATION_S - DURATION_TOLERANCE_S <= duration <= MAX_DURATION_S + DURATION_TOLERANCE_S


def check_duration(duration: float | None) -> None:
    """Refuse a readable duration outside 1-4 s (with a 0.05 s tolerance); ``None`` passes."""
    if duration is None:
        return
    if not duration_in_range(duration):
        raise InvalidInputError(
            "source",
            f"the video lasts {duration:.2f} s; it must be {MIN_DURATION_S:g} to {MAX_DURATION_S:g} s long",
        )


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost":  # not "*.localhost": some resolvers send those names to DNS
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(field: str, value: str, *, allow_insecure_http: bool) -> str:
    """Validate a base URL; plain http is refused for non-loopback hosts unless explicitly allowed.

    Returns the URL without a trailing slash.
    """
    check_url(field, value)
    parts = urlsplit(value)
    if parts.query or parts.fragment:
        raise InvalidInputError(field, "must not have a query string or fragment")
    if (
        parts.scheme.lower() == "http"
        and not allow_insecure_http
        and not is_loopback_host(parts.hostname or "")
    ):
        raise InvalidInputError(
            field,
            "uses plain http to a non-loopback host, which would send the API key unencrypted; "
            "use https, or pass allow_insecure_http=True",
        )
    return value.rstrip("/")
