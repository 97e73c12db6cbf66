"""The clients' TLS context: httpx's defaults, with the trusted CAs loaded at the first handshake.

httpx loads its CA bundle (certifi's, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) when a transport is
made: about 33 ms of CPU each. A client that never opens a TLS connection (one talking plain http to
the fake Apikley on loopback, as every test using our pytest fixtures does) never needs it, and a
test suite makes hundreds of clients.
"""

from __future__ import annotations

import os
import ssl
import threading
from typing import Any

__all__ = ["LazyTrustContext"]


class LazyTrustContext(ssl.SSLContext):
    """An :class:`ssl.SSLContext` set up as ``httpx.create_ssl_context()`` does, trusting on first use.

    Certificates and host names are verified (``CERT_REQUIRED``, ``check_hostname``), and
    ``SSLKEYLOGFILE`` is honoured, as in :func:`ssl.create_default_context`. Which CAs to trust is
    decided when the context is made, from the environment as httpx reads it: ``SSL_CERT_FILE``,
    else ``SSL_CERT_DIR``, else certifi's bundle. They are loaded once, before the first
    :meth:`wrap_socket` or :meth:`wrap_bio`: every TLS connection goes through one of them (httpcore's
    sync sockets, anyio's and asyncio's TLS streams, aiohttp through asyncio).
    """

    def __new__(cls) -> LazyTrustContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(self) -> None:
        super().__init__()
        self.verify_mode = ssl.CERT_REQUIRED
        self.check_hostname = True
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog:
            self.keylog_filename = keylog
        self._cafile: str | None = None
        self._capath: str | None = None
        if os.environ.get("SSL_CERT_FILE"):
            self._cafile = os.environ["SSL_CERT_FILE"]
        elif os.environ.get("SSL_CERT_DIR"):
            self._capath = os.environ["SSL_CERT_DIR"]
        else:
            import certifi  # noqa: PLC0415 - httpx imports it on first use too

            self._cafile = certifi.where()
        self._trust_lock = threading.Lock()
        self._trusting = False

    def load_trust(self) -> None:
        """Load the trusted CAs now, if not yet done (thread-safe; a failure is raised each time)."""
        if self._trusting:
            return
        with self._trust_lock:
            if not self._trusting:
                self.load_verify_locations(cafile=self._cafile, capath=self._capath)
                self._trusting = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        """Load the trusted CAs, then wrap as :meth:`ssl.SSLContext.wrap_socket` does."""
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        """Load the trusted CAs, then wrap as :meth:`ssl.SSLContext.wrap_bio` does."""
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)
