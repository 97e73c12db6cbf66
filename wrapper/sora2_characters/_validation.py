"""Every argument check, run before any request; every refusal is an :class:`InvalidInputError`.

The message names the field and the limit. Limits come from the createTask spec: one absolute
http(s) video URL, prompt and safety text of at most 5000 characters counted as code points
(``len(str)``, as Prism and JSON Schema count them), and for uploads an mp4, webm or avi file (by
content) of at most 10 MB (10 x 1024 x 1024 bytes) lasting 1 to 4 seconds when the duration can be
read. The client's own settings (timeouts, waits, limits, the key) have bounds too, so a number such
as ``1e300`` is refused here instead of overflowing a socket or a sleep later. Every string that goes
on the wire must be encodable (no lone surrogates).
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Final
from urllib.parse import urlsplit

import httpx

from ._exceptions import InvalidInputError

__all__ = [
    "MAX_CHARACTER_NAME_LENGTH",
    "MAX_CONCURRENT_REQUESTS",
    "MAX_DURATION_S",
    "MAX_MAX_WAIT_S",
    "MAX_POLL_INTERVAL_S",
    "MAX_RETRIES",
    "MAX_TASKS_PER_SECOND",
    "MAX_TEXT_LENGTH",
    "MAX_TIMEOUT_S",
    "MAX_VIDEO_BYTES",
    "MIN_DURATION_S",
    "MIN_TASKS_PER_SECOND",
    "check_api_key",
    "check_base_url",
    "check_character_name",
    "check_count",
    "check_duration",
    "check_file_name",
    "check_http_client",
    "check_positive",
    "check_required_text",
    "check_segment",
    "check_task_id",
    "check_text",
    "check_timeout",
    "check_url",
    "duration_in_range",
    "is_loopback_host",
]

MAX_TEXT_LENGTH = 5000
#: ``character_user_name`` of sora-2-characters-pro.
MAX_CHARACTER_NAME_LENGTH: Final = 40
MAX_VIDEO_BYTES = 10 * 1024 * 1024
MIN_DURATION_S = 1.0
MAX_DURATION_S = 4.0
#: Container metadata rounds; a 4.00 s clip may read as 4.02 s.
DURATION_TOLERANCE_S = 0.05
_MAX_URL_LENGTH = 8192
_MAX_TASK_ID_LENGTH: Final = 1024
_MAX_FILE_NAME_LENGTH: Final = 255
#: A segment's start and end: seconds into a generated video, which lasts seconds (a day is plenty).
_MAX_SECONDS_INTO_VIDEO: Final = 86_400.0

#: The longest a single request's timeout may be set to (one hour).
MAX_TIMEOUT_S: Final = 3600.0
#: The longest ``max_wait`` (seven days) and ``poll_interval`` (one hour) accepted.
MAX_MAX_WAIT_S: Final = 7 * 24 * 3600.0
MAX_POLL_INTERVAL_S: Final = 3600.0
#: ``max_tasks_per_second`` from one task every 1000 s to 10,000 a second.
MIN_TASKS_PER_SECOND: Final = 0.001
MAX_TASKS_PER_SECOND: Final = 10_000.0
MAX_RETRIES: Final = 20
MAX_CONCURRENT_REQUESTS: Final = 10_000
#: A connect phase never gets more than this of a number-of-seconds timeout.
CONNECT_TIMEOUT_S: Final = 10.0

# One compiled search instead of a Python loop per character: these checks run on every call.
#: C0 control characters and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Whitespace as ``str.isspace`` counts it (``\s`` is the same set on str patterns), and controls.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def _has_control(value: str) -> bool:
    """Whether ``value`` holds a C0 control character or DEL (printable ASCII answers at once)."""
    return not (value.isascii() and value.isprintable()) and _CONTROL.search(value) is not None


def _has_space_or_control(value: str) -> bool:
    """Whether ``value`` holds whitespace (any ``str.isspace`` character), a control character or DEL."""
    if value.isascii() and value.isprintable():
        return " " in value  # the only printable ASCII whitespace
    return _SPACE_OR_CONTROL.search(value) is not None


def _check_encodable(field: str, value: str) -> None:
    """Refuse a string that UTF-8 cannot carry (a lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(field, "contains unpaired surrogates, which cannot be sent") from exc


def check_url(field: str, value: object) -> str:
    """Return ``value`` if it is an absolute http(s) URL with a host; raise InvalidInputError otherwise."""
    if not isinstance(value, str):
        raise InvalidInputError(field, f"must be a string URL, got {type(value).__name__}")
    if len(value) > _MAX_URL_LENGTH:
        raise InvalidInputError(field, f"is longer than {_MAX_URL_LENGTH} characters")
    if _has_space_or_control(value):
        raise InvalidInputError(field, "must not contain whitespace or control characters")
    _check_encodable(field, value)
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
    _check_encodable(field, value)
    return value


def check_task_id(task_id: object, *, field: str = "task_id") -> str:
    """Return ``task_id`` if it is a non-empty, sendable string of at most 1024 characters."""
    if not isinstance(task_id, str) or not task_id.strip():
        raise InvalidInputError(field, "must be a non-empty string")
    if len(task_id) > _MAX_TASK_ID_LENGTH:
        raise InvalidInputError(field, f"is longer than {_MAX_TASK_ID_LENGTH} characters")
    if _has_control(task_id):
        raise InvalidInputError(field, "must not contain control characters")
    _check_encodable(field, task_id)
    return task_id


def check_required_text(field: str, value: object) -> str:
    """Return ``value`` if it is a non-blank string of at most 5000 code points."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInputError(field, "is required and must not be empty")
    checked = check_text(field, value)
    assert checked is not None  # noqa: S101 - None was refused above
    return checked


def check_character_name(value: object) -> str | None:
    """Return ``character_user_name`` (``None`` passes) if it is non-empty and at most 40 characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError("character_user_name", f"must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError("character_user_name", "must not be empty (leave it out instead)")
    if len(value) > MAX_CHARACTER_NAME_LENGTH:
        raise InvalidInputError(
            "character_user_name",
            f"is {len(value)} characters long; the limit is {MAX_CHARACTER_NAME_LENGTH}",
        )
    _check_encodable("character_user_name", value)
    return value


def _seconds(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, f"must be a number of seconds, got {type(value).__name__}")
    if not math.isfinite(value) or abs(value) > _MAX_SECONDS_INTO_VIDEO:
        raise InvalidInputError(
            field, f"must be a finite number of seconds, at most {_MAX_SECONDS_INTO_VIDEO:g}"
        )
    # Sent with at most two decimals: check what is sent (+ 0.0 turns -0.0 into 0.0).
    return round(float(value), 2) + 0.0


def _two_decimals(seconds: float) -> str:
    text = f"{seconds:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def check_segment(start: object, end: object) -> str:
    """Return sora-2-characters-pro's ``timestamps`` (``"x,y"``, at most two decimals) for a segment.

    ``start`` and ``end`` are seconds into the origin video: ``start >= 0`` and ``end - start``
    between 1 and 4 seconds, both checked on the values as sent (rounded to two decimals).
    """
    first = _seconds("start", start)
    last = _seconds("end", end)
    if first < 0:
        raise InvalidInputError("start", f"is {_two_decimals(first)} s; it must be 0 or more")
    length = round(last - first, 2)
    if not MIN_DURATION_S <= length <= MAX_DURATION_S:
        raise InvalidInputError(
            "end",
            f"end - start is {_two_decimals(length)} s; the segment must be "
            f"{MIN_DURATION_S:g} to {MAX_DURATION_S:g} seconds long",
        )
    return f"{_two_decimals(first)},{_two_decimals(last)}"


def check_file_name(file_name: object) -> str:
    """Return ``file_name`` if it is a non-empty name of at most 255 characters, without slashes."""
    if not isinstance(file_name, str) or not file_name.strip():
        raise InvalidInputError("file_name", "must be a non-empty string")
    if len(file_name) > _MAX_FILE_NAME_LENGTH:
        raise InvalidInputError("file_name", f"is longer than {_MAX_FILE_NAME_LENGTH} characters")
    if "/" in file_name or "\\" in file_name or _has_control(file_name):
        raise InvalidInputError("file_name", "must not contain slashes or control characters")
    _check_encodable("file_name", file_name)
    return file_name


def check_api_key(key: object, *, env_var: str) -> str:
    """Return the key stripped; refuse a missing one (naming ``env_var``) or one a header cannot carry."""
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError(
            "api_key", f"no API key: pass api_key=... or set the {env_var} environment variable"
        )
    key = key.strip()
    if not key.isascii() or not key.isprintable() or " " in key:  # printable ASCII: space is the only blank
        raise InvalidInputError("api_key", "must be printable ASCII without whitespace (value not shown)")
    return key


def check_positive(field: str, value: object, *, limit: float, minimum: float | None = None) -> float:
    """Return ``value`` as a float if it is a positive finite number from ``minimum`` to ``limit``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(field, f"must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number) or number <= 0:
        raise InvalidInputError(field, f"must be a positive, finite number (at most {limit:g})")
    if number > limit:
        raise InvalidInputError(field, f"is {number:g}; the limit is {limit:g}")
    if minimum is not None and number < minimum:
        raise InvalidInputError(field, f"is {number:g}; the minimum is {minimum:g}")
    return number


def check_count(field: str, value: object, *, low: int, high: int) -> int:
    """Return ``value`` if it is an int from ``low`` to ``high`` (never a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(field, f"must be an int from {low} to {high}")
    return value


def check_http_client(value: object, expected: type, hint: str) -> None:
    """Refuse an ``http_client`` of the wrong kind (``None`` passes: the client makes its own)."""
    if value is not None and not isinstance(value, expected):
        raise InvalidInputError("http_client", hint)


def check_timeout(field: str, value: object) -> httpx.Timeout:
    """Return an ``httpx.Timeout`` of positive parts of at most an hour (a number caps connect at 10 s)."""
    if isinstance(value, httpx.Timeout):
        for part in (value.connect, value.read, value.write, value.pool):
            if part is None:
                raise InvalidInputError(
                    field, "every part of the timeout must be a number of seconds, not None"
                )
            check_positive(field, part, limit=MAX_TIMEOUT_S)
        return value
    if value is None:
        raise InvalidInputError(field, "must be a number of seconds or an httpx.Timeout (never None)")
    seconds = check_positive(field, value, limit=MAX_TIMEOUT_S)
    return httpx.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_S))


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
    host = host.strip("[]").lower()
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
