"""Responses the fake sends: envelopes in either style, Spring's 404, and the deliberately broken ones.

The ``live`` style answers as the service was captured answering (``contract_tests/live/samples``):
HTTP 200 with the code in the body, ``application/json;charset=UTF-8`` on the jobs API, no ``data``
key on the errors captured without one (:data:`LIVE_ERRORS_WITHOUT_DATA`), ``data.success`` on
uploads, the captured messages, and Spring's error body for an unknown path. The ``http`` style is
the documented contract Prism serves: the HTTP status equals the body code and every jobs envelope
has ``data``.

A *drop* closes the TCP connection without sending a byte of response; a *truncated* answer sends
the headers and half the body promised by ``Content-Length``, then closes. Both reach the
connection's transport through ``scope["state"]["sora2.transport"]``, which only the fake's own
uvicorn protocol (``_fake.server``) provides.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from sora2_characters._fake.state import ErrorStyle

TRANSPORT_KEY = "sora2.transport"
_DRAIN_TIMEOUT = 2.0


def dumps(payload: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


#: The live jobs API's content type (Spring behind Cloudflare), as captured.
LIVE_JOBS_CONTENT_TYPE = "application/json;charset=UTF-8"
#: The content type of the upload API (both styles) and of Spring's error body.
JSON_CONTENT_TYPE = "application/json"
#: Live error codes whose envelope was captured without a ``data`` key (others carry ``data: null``).
LIVE_ERRORS_WITHOUT_DATA = frozenset({401, 402, 429, 500})

_DOCUMENTED_MESSAGES = {
    400: "Bad request",
    401: "You do not have access permissions",
    402: "Credits insufficient",
    404: "Not found",
    422: "Validation error: a parameter is invalid",
    429: "Rate limit exceeded",
    433: "Usage limit exceeded",
    455: "Service under maintenance",
    500: "Server error",
    501: "Generation failed",
    505: "Feature disabled",
}
# As captured (or, for 455 and 505, as the docs print them); the rest as documented.
_LIVE_MESSAGES = {
    **_DOCUMENTED_MESSAGES,
    401: "Unauthorized \u2013 Authentication failed. Please check that your Authorization and Content-Type "
    "headers are correctly set.",
    402: "The current credits are insufficient. Please top up.",
    433: "The current number of points used by apiKey has exceeded the daily limit",
    455: "Service Unavailable \u2013 system is currently undergoing maintenance",
    500: "internal error, please try again later",
    505: "Feature Disabled \u2013 the requested feature is currently disabled",
}
_LIVE_UPLOAD_MESSAGES = {401: "Authentication failed: Invalid API Key"}


def default_message(code: int, style: ErrorStyle = "http", *, upload: bool = False) -> str:
    """Return the message sent with ``code`` when the caller gave none, in ``style``."""
    if style == "live":
        if upload and code in _LIVE_UPLOAD_MESSAGES:
            return _LIVE_UPLOAD_MESSAGES[code]
        return _LIVE_MESSAGES.get(code, f"Error {code}")
    if upload and code == 401:
        return "Unauthorized"
    return _DOCUMENTED_MESSAGES.get(code, f"Error {code}")


def json_response(
    payload: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    media_type: str = JSON_CONTENT_TYPE,
) -> Response:
    """Build a JSON response."""
    return Response(dumps(payload), status_code=status, media_type=media_type, headers=headers)


def envelope(
    code: int, msg: str, data: Any = None, *, style: ErrorStyle = "live", upload: bool = False
) -> Response:
    """Build a jobs envelope (or the upload shape) in ``style``.

    Live: HTTP 200, ``data`` only where the service sends it, ``data.success`` on an upload.
    ``http``: HTTP ``code`` (when it is a valid status) and ``data`` on every jobs envelope.
    """
    live = style == "live"
    payload: dict[str, Any]
    if upload:
        payload = {"success": code == 200, "code": code, "msg": msg}
        if code == 200:
            payload["data"] = {"success": True, **data} if live and isinstance(data, dict) else data
    else:
        payload = {"code": code, "msg": msg}
        if not live or code == 200 or code not in LIVE_ERRORS_WITHOUT_DATA:
            payload["data"] = data
    if live:
        return json_response(payload, 200, media_type=JSON_CONTENT_TYPE if upload else LIVE_JOBS_CONTENT_TYPE)
    return json_response(payload, code if 200 <= code <= 599 else 200)


def spring_error(path: str, now_ms: int, status: int = 404) -> Response:
    """Build Spring Boot's error answer, as the live service gives for an unknown path or method."""
    error = "Not Found" if status == 404 else "Method Not Allowed"
    body = {
        "timestamp": now_ms,
        "status": status,
        "error": error,
        "message": "No message available",
        "path": path,
    }
    return json_response(body, status)


async def _close_connection(scope: Scope, receive: Receive) -> None:
    transport = scope.get("state", {}).get(TRANSPORT_KEY)
    if transport is None:
        raise RuntimeError("dropping a connection needs the fake's own server (sora2_characters.testing)")
    transport.close()
    # Wait until uvicorn sees the connection gone, so it neither logs nor tries to answer a 500.
    async with asyncio.timeout(_DRAIN_TIMEOUT):
        while (await receive())["type"] != "http.disconnect":
            pass


class DropResponse(Response):
    """Close the connection without answering."""

    def __init__(self) -> None:
        super().__init__(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _close_connection(scope, receive)


class TruncatedResponse(Response):
    """Promise ``len(body)`` bytes, send half of them, then close the connection."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send(
            {"type": "http.response.body", "body": self.body[: len(self.body) // 2], "more_body": True}
        )
        await _close_connection(scope, receive)


HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    b"<hr><center>cloudflare</center></body></html>"
)


def malformed(kind: str, proper: bytes, *, upload: bool) -> Response:
    """Build the broken answer of ``kind`` standing in for the ``proper`` body."""
    if kind == "truncated":
        return TruncatedResponse(proper)
    if kind == "html":
        return Response(HTML_502, status_code=502, headers={"content-type": "text/html"})
    if kind == "empty":
        return Response(b"", media_type="application/json")
    if kind == "not_json":
        return Response(b"upstream returned garbage <not json>", media_type="application/json")
    if kind == "data_null":
        payload: dict[str, Any] = {"code": 200, "msg": "success", "data": None}
        return json_response({"success": True, **payload} if upload else payload)
    raise ValueError(f"unknown malformed kind {kind!r}")
