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
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ._exceptions import MalformedResponseError, WebhookVerificationError
from ._models import TaskInfo

__all__ = [
    "DEFAULT_TOLERANCE_S",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "parse_callback",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
DEFAULT_TOLERANCE_S = 300.0


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
    data = payload.get("data")
    if isinstance(data, Mapping):
        for key in ("taskId", "task_id"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value
    raise WebhookVerificationError("the callback has no data.taskId to verify")


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
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
    wanted = name.lower()
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == wanted:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def verify_signature(
    body: bytes | bytearray | memoryview | str | Mapping[str, Any],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Check a callback's ``X-Webhook-Signature`` against ``secret``; return ``None`` when it holds.

    ``headers`` is any mapping (looked up case-insensitively) or list of pairs. The timestamp must
    lie within ``tolerance`` seconds of ``now`` (default: the current time), against replays; the
    comparison runs in constant time. Raises :class:`~sora2_characters.WebhookVerificationError`
    when a header is missing, the timestamp is stale or unreadable, or the signature does not match;
    :class:`~sora2_characters.MalformedResponseError` when the body is not a JSON object.
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
    if not stamp.isascii() or not stamp.lstrip("-").isdigit() or len(stamp) > 15:
        raise WebhookVerificationError(f"the {TIMESTAMP_HEADER} header is not Unix seconds")
    current = time.time() if now is None else now
    if not math.isfinite(current) or abs(current - int(stamp)) > tolerance:
        raise WebhookVerificationError(
            f"the {TIMESTAMP_HEADER} is outside the {tolerance:g} s tolerance (a replay or a skewed clock)"
        )
    task_id = _task_id_of(_load(body))
    expected = _signature(task_id, stamp, key)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace")):
        raise WebhookVerificationError(f"the {SIGNATURE_HEADER} does not match")
