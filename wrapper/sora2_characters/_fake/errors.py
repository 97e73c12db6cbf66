"""Why a fake server could not start (importable without the ``server`` extra)."""

from __future__ import annotations


class ServerStartError(RuntimeError):
    """The fake server did not start listening."""


class PortInUseError(ServerStartError):
    """The port the fake was asked to listen on is taken; ``port=0`` picks a free one.

    Attributes:
        host: the interface asked for.
        port: the port asked for.

    """

    def __init__(self, host: str, port: int) -> None:
        super().__init__(
            f"port {port} on {host} is already in use: stop what listens there, "
            "or pick another port (--port 0 picks any free one)"
        )
        self.host = host
        self.port = port
