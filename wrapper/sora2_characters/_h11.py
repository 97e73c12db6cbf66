"""uvicorn's h11 protocol, sending without Nagle's delay on every connection (the ``server`` extra).

asyncio sets ``TCP_NODELAY`` only on connections accepted from a socket it created itself (it checks
for ``IPPROTO_TCP``). A listening socket made with protocol 0 (the fake binds its own; uvicorn binds
one for its worker processes) skips it, and an answer's body, written after its headers, then waits
for the client's delayed ACK: 40 ms on every answer of a kept-alive connection.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["NoDelayH11Protocol"]


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with ``TCP_NODELAY`` set on each TCP connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Send without Nagle's delay, then start as uvicorn does."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in {socket.AF_INET, socket.AF_INET6}:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
