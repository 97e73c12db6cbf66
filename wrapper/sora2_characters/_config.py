"""Client configuration: arguments and environment variables, resolved once at construction.

Environment variables are read when a client is built, never at import: ``APIKLEY_API_KEY``,
``APIKLEY_BASE_URL``, ``APIKLEY_UPLOAD_BASE_URL``. Without an upload base URL, a custom jobs base URL
implies ``<base_url>/file-upload`` (never the production upload host, which would receive the key).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

import httpx

from ._records import Record, setter
from ._validation import (
    MAX_CONCURRENT_REQUESTS,
    MAX_POLL_INTERVAL_S,
    MAX_RETRIES,
    MAX_TASKS_PER_SECOND,
    MIN_TASKS_PER_SECOND,
    check_api_key,
    check_base_url,
    check_count,
    check_positive,
    check_timeout,
)

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
#: Where the File Upload API lives below a jobs API base URL (also for a custom ``base_url``).
UPLOAD_PATH: Final = "/file-upload"
DEFAULT_UPLOAD_BASE_URL: Final = DEFAULT_BASE_URL + UPLOAD_PATH
#: Jobs API: 30 s for each read or write (a number of seconds also caps connecting at 10 s).
DEFAULT_TIMEOUT: Final = 30.0
#: Uploads: up to 10 MB go out, so writes get longer.
DEFAULT_UPLOAD_TIMEOUT: Final = 120.0

#: Requests in flight at once per client, and the size of its own pool (all kept alive). More calls
#: queue in the client: httpcore's pool looks at every connection (an idle one with a socket probe)
#: on each request and response, so each request costs more the bigger the pool (client CPU per
#: request at 1,000 tasks in flight on loopback: about 1.25 ms with 3, 1.4 ms with 4, 1.6 ms with 6,
#: 1.95 ms with 10, against 1.05 ms for a lone call; see benchmarks/README.md). Four in flight
#: reach the service's documented limits (about 10 status queries and 2 new tasks a second per
#: key) while its answers take up to a third of a second; raise it for a slower link.
DEFAULT_MAX_CONCURRENT_REQUESTS: Final = 4

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


class Config(Record):
    """Everything a client needs, resolved and checked."""

    __slots__ = (
        "api_key",
        "base_url",
        "max_concurrent_requests",
        "max_retries",
        "max_tasks_per_second",
        "poll_interval",
        "timeout",
        "upload_base_url",
        "upload_timeout",
    )
    __match_args__ = (
        "api_key",
        "base_url",
        "upload_base_url",
        "timeout",
        "upload_timeout",
        "max_retries",
        "poll_interval",
        "max_tasks_per_second",
        "max_concurrent_requests",
    )

    api_key: Secret
    base_url: str
    upload_base_url: str
    timeout: httpx.Timeout
    upload_timeout: httpx.Timeout
    max_retries: int
    poll_interval: float | None
    max_tasks_per_second: float | None
    max_concurrent_requests: int

    def __init__(  # noqa: PLR0917 - positional, as the attrs class was
        self,
        api_key: Secret,
        base_url: str,
        upload_base_url: str,
        timeout: httpx.Timeout,
        upload_timeout: httpx.Timeout,
        max_retries: int,
        poll_interval: float | None,
        max_tasks_per_second: float | None,
        max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
    ) -> None:
        put = setter(self)
        put("api_key", api_key)
        put("base_url", base_url)
        put("upload_base_url", upload_base_url)
        put("timeout", timeout)
        put("upload_timeout", upload_timeout)
        put("max_retries", max_retries)
        put("poll_interval", poll_interval)
        put("max_tasks_per_second", max_tasks_per_second)
        put("max_concurrent_requests", max_concurrent_requests)


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
    """Resolve arguments and environment variables into a checked :class:`Config`.

    Every check is one of ``_validation``'s; anything unusable raises InvalidInputError.
    """
    env = os.environ if environ is None else environ
    key = check_api_key(api_key if api_key is not None else env.get(ENV_API_KEY), env_var=ENV_API_KEY)
    resolved_base = base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    resolved_upload = upload_base_url or env.get(ENV_UPLOAD_BASE_URL)
    if not resolved_upload:
        # A custom jobs API never sends uploads, with the key, to the production upload host.
        custom = resolved_base.rstrip("/") != DEFAULT_BASE_URL
        resolved_upload = resolved_base.rstrip("/") + UPLOAD_PATH if custom else DEFAULT_UPLOAD_BASE_URL
    return Config(
        api_key=Secret(key),
        base_url=check_base_url("base_url", resolved_base, allow_insecure_http=allow_insecure_http),
        upload_base_url=check_base_url(
            "upload_base_url", resolved_upload, allow_insecure_http=allow_insecure_http
        ),
        timeout=check_timeout("timeout", timeout),
        upload_timeout=check_timeout("upload_timeout", upload_timeout),
        max_retries=check_count("max_retries", max_retries, low=0, high=MAX_RETRIES),
        poll_interval=(
            None
            if poll_interval is None
            else check_positive("poll_interval", poll_interval, limit=MAX_POLL_INTERVAL_S)
        ),
        max_tasks_per_second=(
            None
            if max_tasks_per_second is None
            else check_positive(
                "max_tasks_per_second",
                max_tasks_per_second,
                limit=MAX_TASKS_PER_SECOND,
                minimum=MIN_TASKS_PER_SECOND,
            )
        ),
        max_concurrent_requests=check_count(
            "max_concurrent_requests", max_concurrent_requests, low=1, high=MAX_CONCURRENT_REQUESTS
        ),
    )
