"""Client configuration: arguments and environment variables, resolved once at construction.

Environment variables are read when a client is built, never at import: ``APIKLEY_API_KEY``,
``APIKLEY_BASE_URL``, ``APIKLEY_UPLOAD_BASE_URL``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Final

import attrs
import httpx

from ._exceptions import InvalidInputError
from ._validation import check_base_url

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_UPLOAD_BASE_URL",
    "DEFAULT_UPLOAD_TIMEOUT",
    "Config",
    "Secret",
    "resolve_config",
]

DEFAULT_BASE_URL: Final = "https://api.apikley.ru"
DEFAULT_UPLOAD_BASE_URL: Final = "https://api.apikley.ru/file-upload"
#: Jobs API: 30 s for each read or write (a number of seconds also caps connecting at 10 s).
DEFAULT_TIMEOUT: Final = 30.0
#: Uploads: up to 10 MB go out, so writes get longer.
DEFAULT_UPLOAD_TIMEOUT: Final = 120.0
_CONNECT_TIMEOUT_S: Final = 10.0

#: Requests in flight at once per client, and the size of its own pool (all kept alive). More calls
#: queue in the client: httpcore's pool scans its queue and every connection on each request and
#: response, so each request costs more the bigger the pool (client CPU per request at 1,000 tasks
#: in flight: about 1.7 ms with 5, 2.5 ms with 10, 3.7 ms with 20, 4.5 ms with 100; see
#: benchmarks/README.md). Ten in flight is above the service's documented limits (about 10 status
#: queries a second and 2 new tasks a second per key) even at one second per answer.
DEFAULT_MAX_CONCURRENT_REQUESTS: Final = 10

ENV_API_KEY: Final = "APIKLEY_API_KEY"
ENV_BASE_URL: Final = "APIKLEY_BASE_URL"
ENV_UPLOAD_BASE_URL: Final = "APIKLEY_UPLOAD_BASE_URL"


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or tracebacks' locals."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself; only for building the Authorization header."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def _check_timeout(field: str, value: float | httpx.Timeout) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        parts = (value.connect, value.read, value.write, value.pool)
        if any(part is None or not math.isfinite(part) or part <= 0 for part in parts):
            raise InvalidInputError(field, "every part of the timeout must be a positive number of seconds")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(field, "must be a number of seconds or an httpx.Timeout (never None)")
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(field, "must be a positive, finite number of seconds")
    return httpx.Timeout(float(value), connect=min(float(value), _CONNECT_TIMEOUT_S))


def check_positive(field: str, value: float | None, *, allow_none: bool = True) -> float | None:
    """Refuse anything but ``None`` (if allowed) or a positive finite number."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(field, "must be a positive number of seconds")
    if not math.isfinite(value) or value <= 0:
        raise InvalidInputError(field, "must be a positive, finite number")
    return float(value)


@attrs.frozen(slots=True)
class Config:
    """Everything a client needs, resolved and checked."""

    api_key: Secret
    base_url: str
    upload_base_url: str
    timeout: httpx.Timeout
    upload_timeout: httpx.Timeout
    max_retries: int
    poll_interval: float | None
    max_tasks_per_second: float | None
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS


def resolve_config(
    *,
    api_key: str | None,
    base_url: str | None,
    upload_base_url: str | None,
    timeout: float | httpx.Timeout,
    upload_timeout: float | httpx.Timeout,
    max_retries: int,
    poll_interval: float | None,
    max_tasks_per_second: float | None,
    allow_insecure_http: bool,
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve arguments and environment variables; raise InvalidInputError on anything unusable."""
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env.get(ENV_API_KEY)
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError(
            "api_key", f"no API key: pass api_key=... or set the {ENV_API_KEY} environment variable"
        )
    key = key.strip()
    if not key.isascii() or not key.isprintable() or any(ch.isspace() for ch in key):
        raise InvalidInputError("api_key", "must be printable ASCII without whitespace (value not shown)")
    resolved_base = base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    resolved_upload = upload_base_url or env.get(ENV_UPLOAD_BASE_URL) or DEFAULT_UPLOAD_BASE_URL
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or not 0 <= max_retries <= 20:
        raise InvalidInputError("max_retries", "must be an int from 0 to 20")
    if (
        isinstance(max_concurrent_requests, bool)
        or not isinstance(max_concurrent_requests, int)
        or not 1 <= max_concurrent_requests <= 10_000
    ):
        raise InvalidInputError("max_concurrent_requests", "must be an int from 1 to 10000")
    return Config(
        api_key=Secret(key),
        base_url=check_base_url("base_url", resolved_base, allow_insecure_http=allow_insecure_http),
        upload_base_url=check_base_url(
            "upload_base_url", resolved_upload, allow_insecure_http=allow_insecure_http
        ),
        timeout=_check_timeout("timeout", timeout),
        upload_timeout=_check_timeout("upload_timeout", upload_timeout),
        max_retries=max_retries,
        poll_interval=check_positive("poll_interval", poll_interval),
        max_tasks_per_second=check_positive("max_tasks_per_second", max_tasks_per_second),
        max_concurrent_requests=max_concurrent_requests,
    )
