"""Run an ASGI app with uvicorn in a background thread, on a port read back after binding.

The server speaks HTTP/1.1 through :class:`DroppableH11Protocol`, uvicorn's h11 protocol with two
additions: every request's ``scope["state"]`` carries its connection's transport, so the fake can
close a connection without answering (a real drop, not a 500); and each connection sends without
Nagle's delay (``TCP_NODELAY``), which asyncio sets only on sockets it creates itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from sora2_characters._fake.errors import PortInUseError, ServerStartError
from sora2_characters._fake.responses import TRANSPORT_KEY


class DroppableH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, exposing the connection's transport to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Send without Nagle's delay; remember the transport in this connection's copy of the app state."""
        # The listening socket is ours (``_bind``) with protocol 0, so asyncio's own TCP_NODELAY
        # (it checks for IPPROTO_TCP) is skipped: the body, written after the headers, then waited
        # for the client's delayed ACK, 40 ms on every answer of a kept-alive connection.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in {socket.AF_INET, socket.AF_INET6}:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self.app_state = {**self.app_state, TRANSPORT_KEY: transport}


class _WakeableServer(uvicorn.Server):
    """The uvicorn server, whose main loop :meth:`exit_soon` wakes at once instead of on its next tick.

    uvicorn checks ``should_exit`` every 0.1 s; a test suite that starts and stops hundreds of fakes
    spent that tenth of a second, idle, on every stop.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        """Run the tick loop of uvicorn (every 0.1 s), also ended at once by :meth:`exit_soon`."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    def exit_soon(self) -> None:
        """Ask the server to exit, from any thread, and wake its main loop."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: it has exited
                loop.call_soon_threadsafe(wake.set)


class ThreadedServer:
    """uvicorn serving ``app`` on ``host:port`` (0: any free port) from a daemon thread."""

    def __init__(self, app: Any, *, host: str, port: int) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=DroppableH11Protocol,
            lifespan="on",
            log_level="warning",
            access_log=False,
            proxy_headers=False,  # loopback only: no proxy to believe, and one middleware less per request
            timeout_graceful_shutdown=2,
        )
        self._server = _WakeableServer(config)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.host = host
        self.port = port

    def _bind(self) -> socket.socket:
        # Bound here, not by uvicorn, so a taken port is a typed error in the caller's thread.
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            return socket.create_server((self.host, self.port), family=family, backlog=2048)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(self.host, self.port) from exc
            raise ServerStartError(
                f"the fake Apikley server cannot listen on {self.host}:{self.port}: {exc}"
            ) from exc

    def _run(self, sock: socket.socket) -> None:
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self._error = exc

    def start(self, timeout: float = 10.0) -> int:
        """Start serving and return the bound port, or raise :class:`ServerStartError`.

        A taken port raises :class:`PortInUseError` at once.
        """
        sock = self._bind()
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name=f"fake-apikley-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                reason = repr(self._error) if self._error else f"not listening after {timeout} s"
                raise ServerStartError(
                    f"the fake Apikley server did not start on {self.host}:{self.port}: {reason}"
                )
            time.sleep(0.005)
        sockets: list[Any] = [sock for server in self._server.servers for sock in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self.port

    def stop(self, timeout: float = 5.0) -> None:
        """Ask uvicorn to exit and wait for the thread (bounded). Safe to call twice."""
        self._server.exit_soon()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()
