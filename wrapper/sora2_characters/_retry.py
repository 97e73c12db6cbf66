"""Retry decisions and delays: pure functions, no I/O, no clock.

Three kinds of request:

``QUERY``  (task query, credits): idempotent; retried on connection errors, timeouts, codes 429, 455,
           500 and on HTTP 5xx without a JSON envelope.
``CREATE`` (createTask): not idempotent, no idempotency key. Retried only when no task can have been
           created: the connection failed before the request was sent (connect error or timeout, pool
           timeout) or the service refused it with 429 or 455. Never after a read or write timeout, a
           reset after sending, 500, 501 or an HTML 5xx page.
``UPLOAD`` (stream upload): idempotent because every attempt reuses the same unique path and name;
           retried like a query.

A 429 whose message says the credits are insufficient (a sibling family of the live service uses
code 429 for that) is an :class:`~sora2_characters.InsufficientCreditsError` and is never retried:
an empty balance stays empty.

Delays: exponential backoff from 0.5 s doubling to a cap of 8 s, with up to 25 % jitter taken off;
a ``Retry-After`` header (seconds or an HTTP date, capped at 60 s) raises the delay to at least its
value.
"""

from __future__ import annotations

import enum
import math
from email.utils import parsedate_to_datetime

from ._exceptions import (
    APIConnectionError,
    APIError,
    InsufficientCreditsError,
    MalformedResponseError,
    Sora2CharactersError,
)

__all__ = [
    "BACKOFF_CAP_S",
    "BACKOFF_INITIAL_S",
    "RETRY_AFTER_CAP_S",
    "RequestKind",
    "backoff_delay",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
]

BACKOFF_INITIAL_S = 0.5
BACKOFF_CAP_S = 8.0
RETRY_AFTER_CAP_S = 60.0
JITTER_FRACTION = 0.25

_QUERY_CODES = frozenset({429, 455, 500})
_CREATE_CODES = frozenset({429, 455})


class RequestKind(enum.Enum):
    """How safe a request is to repeat."""

    QUERY = "query"
    CREATE = "create"
    UPLOAD = "upload"


def should_retry(kind: RequestKind, error: Sora2CharactersError) -> bool:
    """Whether ``error`` from a request of ``kind`` may be retried (the attempt budget is checked apart)."""
    if isinstance(error, APIConnectionError):
        return kind is not RequestKind.CREATE or not error.request_sent
    if not isinstance(error, APIError) or isinstance(
        error, (MalformedResponseError, InsufficientCreditsError)
    ):
        return False  # an empty balance stays empty: a 429 that says so is not retried
    create = kind is RequestKind.CREATE
    if error.code is not None:
        return error.code in (_CREATE_CODES if create else _QUERY_CODES)
    status = error.http_status or 0
    return status == 429 or (not create and status >= 500)


def backoff_delay(attempt: int, jitter: float) -> float:
    """Return the backoff before retry number ``attempt`` (0-based): 0.5, 1, 2, 4, 8, 8... s.

    ``jitter`` in [0, 1) takes up to 25 % off, so parallel clients spread out.
    """
    base = min(BACKOFF_CAP_S, BACKOFF_INITIAL_S * (2.0 ** min(attempt, 16)))
    jitter = min(max(jitter, 0.0), 1.0)
    return base * (1.0 - JITTER_FRACTION * jitter)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or an HTTP date) into seconds, capped at 60.

    ``now`` is the wall-clock Unix time used for dates. Unreadable values give ``None``.
    """
    if not value:
        return None
    value = value.strip()
    seconds: float
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        try:
            seconds = when.timestamp() - now
        except (OverflowError, OSError, ValueError):
            return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_S)


def retry_delay(attempt: int, jitter: float, retry_after: float | None) -> float:
    """Return the delay before retry ``attempt``: max(backoff, Retry-After), capped at 60 s."""
    delay = backoff_delay(attempt, jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, RETRY_AFTER_CAP_S)
