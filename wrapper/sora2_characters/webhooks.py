"""Callbacks: parse the POST Apikley sends to ``callBackUrl``, and verify its optional signature.

The callback has the shape of a task query answer: ``code`` 200 on success or 501 on failure,
``msg``, and ``data`` with the task fields. Answer it with HTTP 200 and
``{"code": 200, "msg": "success"}``. No retry policy is documented, so handlers must be idempotent by
task id, and polling stays a fallback.

The signature (an upstream feature Apikley may or may not forward) signs only the task id and the
timestamp, not the body::

    X-Webhook-Timestamp: <Unix seconds>
    X-Webhook-Signature: base64(HMAC-SHA256(secret, f"{task_id}.{timestamp}"))

>>> headers = sign("task_1", "s3cret", timestamp=1_700_000_000)
>>> body = b'{"code": 200, "msg": "success", "data": {"taskId": "task_1", "state": "success"}}'
>>> verify_signature(body, headers, "s3cret", now=1_700_000_010.0)
>>> parse_callback(body).task_id
'task_1'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from ._exceptions import MalformedResponseError, WebhookVerificationError
from ._models import TaskInfo, _id_str
from ._receiver import CallbackApp  # the receiver and its stores live in their own modules
from ._stores import MemoryStore, OutcomeStore, RedisStore, SQLiteStore, store_from_url

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "CallbackApp",
    "MemoryStore",
    "OutcomeStore",
    "RedisStore",
    "ReplayCache",
    "SQLiteStore",
    "parse_callback",
    "sign",
    "store_from_url",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
DEFAULT_TOLERANCE_S = 300.0
_UNIX_SECONDS = re.compile(r"-?[0-9]{1,15}")


class ReplayCache:
    """Remembers the signatures already accepted, so a captured callback cannot be replayed.

    The tolerance window alone lets a replay through for up to ``tolerance`` seconds; pass one
    ``ReplayCache`` to every :func:`verify_signature` call of a receiver to refuse those too. Entries
    older than the window are forgotten (a replay that old fails the timestamp check anyway), and at
    most ``max_entries`` are kept. Safe across threads.
    """

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def remember(self, key: tuple[str, str, str], *, now: float, window: float) -> bool:
        """Record ``key``; return ``False`` when it was already recorded within ``window`` seconds."""
        with self._lock:
            while self._seen:
                oldest, seen_at = next(iter(self._seen.items()))
                if now - seen_at <= window and len(self._seen) < self._max_entries:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True


def _load(body: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        payload: Any = body
    elif isinstance(body, (bytes, bytearray, memoryview, str)):
        try:
            payload = json.loads(bytes(body) if not isinstance(body, str) else body)
        except (ValueError, RecursionError) as exc:
            raise MalformedResponseError("the callback body is not JSON") from exc
    else:
        raise MalformedResponseError(
            f"the callback body must be bytes, str or a mapping, not {type(body).__name__}"
        )
    if not isinstance(payload, Mapping):
        raise MalformedResponseError("the callback body is not a JSON object")
    return payload


def parse_callback(body: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> TaskInfo:
    """Decode a callback body into a :class:`~sora2_characters.TaskInfo`.

    A failure callback (``code`` 501) decodes like any other: its ``state`` is ``fail``. A malformed
    body raises :class:`~sora2_characters.MalformedResponseError`, never a raw JSON or key error.
    """
    payload = _load(body)
    data = payload.get("data")
    if not isinstance(data, Mapping):
        raise MalformedResponseError("the callback has no 'data' object")
    return TaskInfo.from_data(data)


def _task_id_of(payload: Mapping[str, Any]) -> str:
    """Return the task id exactly as :func:`parse_callback` reports it (the signature covers it)."""
    data = payload.get("data")
    if isinstance(data, Mapping):
        found = data.get("taskId")
        if found is None:
            found = data.get("task_id")
        task_id = _id_str(found)
        if task_id:
            return task_id
    raise WebhookVerificationError("the callback has no data.taskId to verify")


def _secret_bytes(secret: str | bytes) -> bytes:
    """Return the HMAC key: a str secret as UTF-8, undecodable bytes restored (``surrogateescape``).

    A secret read from ``os.environ`` carries the bytes it could not decode as lone surrogates
    U+DC80-U+DCFF; encoding them back gives the bytes the sender holds, so ``sign`` and
    ``verify_signature`` agree whether the secret comes as that str or as the raw bytes. Any other
    lone surrogate stands for no byte at all: the secret is refused before any header is read.
    """
    if isinstance(secret, str):
        try:
            secret = secret.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise WebhookVerificationError(
                "the webhook secret holds a lone surrogate that stands for no byte "
                "(only U+DC80-U+DCFF, undecodable bytes from os.environ, do): pass the secret as bytes"
            ) from exc
    if not isinstance(secret, bytes) or not secret:
        raise WebhookVerificationError("the webhook secret must be a non-empty str or bytes")
    return secret


def _signature(task_id: str, timestamp: str, secret: bytes) -> str:
    message = f"{task_id}.{timestamp}".encode()
    return base64.b64encode(hmac.new(secret, message, hashlib.sha256).digest()).decode("ascii")


def sign(task_id: str, secret: str | bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Return the two signature headers for ``task_id`` (for tests and fake servers).

    ``timestamp`` is Unix seconds, default now.
    """
    when = int(time.time()) if timestamp is None else int(timestamp)
    stamp = str(when)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: _signature(task_id, stamp, _secret_bytes(secret))}


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    """Return the header ``name`` (any case); refuse it given twice with different values."""
    wanted = name.lower()
    items = headers.items() if isinstance(headers, Mapping) else headers
    found: set[str] = set()
    for key, value in items:
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == wanted:
            found.add(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    if len(found) > 1:
        raise WebhookVerificationError(f"the {name} header is given more than once, with different values")
    return found.pop() if found else None


def verify_signature(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
    replay_cache: ReplayCache | None = None,
) -> None:
    """Check a callback's ``X-Webhook-Signature`` against ``secret``; return ``None`` when it holds.

    ``headers`` is any mapping (looked up case-insensitively) or list of pairs. The timestamp must
    lie within ``tolerance`` seconds of ``now`` (default: the current time), against replays; the
    comparison runs in constant time. Raises :class:`~sora2_characters.WebhookVerificationError`
    when a header is missing, the timestamp is stale or unreadable, or the signature does not match;
    :class:`~sora2_characters.MalformedResponseError` when the body is not a JSON object. With a
    ``replay_cache``, a signature already accepted within the window is refused as a replay.

    A str ``secret`` is encoded as UTF-8 with ``surrogateescape``, so a secret read from ``os.environ``
    verifies as read (its undecodable bytes included); one holding any other lone surrogate is refused
    before the headers are looked at.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
        raise WebhookVerificationError("tolerance must be a non-negative number of seconds")
    key = _secret_bytes(secret)
    signature = _header(headers, SIGNATURE_HEADER)
    stamp = _header(headers, TIMESTAMP_HEADER)
    if not signature:
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} header is missing")
    if not stamp:
        raise WebhookVerificationError(f"the {TIMESTAMP_HEADER} header is missing")
    stamp = stamp.strip()
    if not _UNIX_SECONDS.fullmatch(stamp):
        raise WebhookVerificationError(f"the {TIMESTAMP_HEADER} header is not Unix seconds")
    current = time.time() if now is None else now
    if not math.isfinite(current) or abs(current - int(stamp)) > tolerance:
        raise WebhookVerificationError(
            f"the {TIMESTAMP_HEADER} is outside the {tolerance:g} s tolerance (a replay or a skewed clock)"
        )
    task_id = _task_id_of(_load(body))
    expected = _signature(task_id, stamp, key)
    presented = signature.strip()
    if not hmac.compare_digest(expected.encode("ascii"), presented.encode("utf-8", "replace")):
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} does not match")
    if replay_cache is not None and not replay_cache.remember((task_id, stamp, presented), now=current,
                                                               window=float(tolerance)):  # fmt: skip
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} was already used (a replay)")
