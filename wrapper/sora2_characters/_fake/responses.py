"""Responses the fake sends: envelopes in either error style, and the deliberately broken ones.

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


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Build a JSON response."""
    return Response(dumps(payload), status_code=status, media_type="application/json", headers=headers)


def envelope(
    code: int, msg: str, data: Any = None, *, style: ErrorStyle = "live", upload: bool = False
) -> Response:
    """Build a jobs envelope (or the upload shape): HTTP 200 in the live style, HTTP ``code`` in ``http``."""
    payload: dict[str, Any] = (
        {"success": code == 200, "code": code, "msg": msg}
        if upload
        else {"code": code, "msg": msg, "data": data}
    )
    if upload and code == 200:
        payload["data"] = data
    status = 200 if style == "live" or not 200 <= code <= 599 else code
    return json_response(payload, status)


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


HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"


def malformed(kind: str, proper: bytes, *, upload: bool) -> Response:
    """Build the broken answer of ``kind`` standing in for the ``proper`` body."""
    if kind == "truncated":
        return TruncatedResponse(proper)
    if kind == "html":
        return Response(HTML_502, status_code=502, media_type="text/html")
    if kind == "empty":
        return Response(b"", media_type="application/json")
    if kind == "not_json":
        return Response(b"upstream returned garbage <not json>", media_type="application/json")
    if kind == "data_null":
        payload: dict[str, Any] = {"code": 200, "msg": "success", "data": None}
        return json_response({"success": True, **payload} if upload else payload)
    raise ValueError(f"unknown malformed kind {kind!r}")
