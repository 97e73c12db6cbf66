"""``_tls``: the clients verify certificates as httpx does, but load the trusted CAs at the first handshake.

A local TLS server with a self-signed certificate for 127.0.0.1 (``contract_tests/certs/``) shows the
verification end to end: refused with the default trust, accepted when ``SSL_CERT_FILE`` names it.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest

from sora2_characters import APIConnectionError, AsyncClient, Client
from sora2_characters._tls import LazyTrustContext

CERTS = Path(__file__).resolve().parent / "certs"
CERT, KEY = CERTS / "loopback-cert.pem", CERTS / "loopback-key.pem"


@pytest.fixture(autouse=True)
def default_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from httpx's default trust (certifi), whatever the machine sets."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.delenv("SSLKEYLOGFILE", raising=False)


def _handshake(context: ssl.SSLContext) -> None:
    """Start a client handshake in memory: enough for the context to need its CAs."""
    context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")


def test_a_new_context_verifies_but_has_loaded_nothing() -> None:
    context = LazyTrustContext()

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert context.cert_store_stats()["x509_ca"] == 0


def test_the_first_handshake_loads_what_httpx_would_trust() -> None:
    context = LazyTrustContext()

    _handshake(context)

    expected = httpx.create_ssl_context()
    assert context.cert_store_stats() == expected.cert_store_stats()
    assert context.get_ca_certs() == expected.get_ca_certs()
    assert context.options == expected.options
    assert (context.verify_mode, context.check_hostname) == (expected.verify_mode, expected.check_hostname)


def test_ssl_cert_file_is_read_when_the_context_is_made(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = re.search(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
        Path(certifi.where()).read_text(encoding="ascii"),
        re.DOTALL,
    )
    assert first is not None
    bundle = tmp_path / "one.pem"
    bundle.write_text(first[0], encoding="ascii")
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = LazyTrustContext()
    monkeypatch.delenv("SSL_CERT_FILE")  # changing it later changes nothing, as with httpx

    _handshake(context)

    assert context.cert_store_stats()["x509_ca"] == 1


def test_a_missing_ca_file_fails_the_handshake_every_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    context = LazyTrustContext()

    for _ in range(2):
        with pytest.raises(FileNotFoundError):
            _handshake(context)


def test_threads_that_handshake_at_once_load_the_cas_once() -> None:
    loads: list[int] = []

    class Counting(LazyTrustContext):
        def load_verify_locations(self, *args: object, **kwargs: object) -> None:
            loads.append(1)
            super().load_verify_locations(*args, **kwargs)  # type: ignore[arg-type]

    context = Counting()
    start = threading.Barrier(8)

    def handshake() -> None:
        start.wait(timeout=10)
        _handshake(context)

    threads = [threading.Thread(target=handshake) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert loads == [1]
    assert context.cert_store_stats()["x509_ca"] > 0


def test_sslkeylogfile_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SSLKEYLOGFILE", str(tmp_path / "keys.log"))

    assert LazyTrustContext().keylog_filename == str(tmp_path / "keys.log")


# ---- end to end: the clients over TLS ---------------------------------------------------------------


class _Credits(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"code": 200, "msg": "success", "data": 7.5}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def tls_server() -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 answering every GET with a credit balance of 7.5."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Credits)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CERT, KEY)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_client_talking_plain_http_never_loads_the_cas() -> None:
    with Client("k", base_url="http://127.0.0.1:1") as client:
        http = client._http
        transports: list[Any] = [http._transport, *http._mounts.values()]
        contexts = {id(t._pool._ssl_context): t._pool._ssl_context for t in transports}

    assert len(contexts) == 1  # one context for the pool and its loopback mount
    (context,) = contexts.values()
    assert isinstance(context, LazyTrustContext)
    assert context.cert_store_stats()["x509_ca"] == 0


def test_an_untrusted_certificate_is_refused(tls_server: str) -> None:
    with (
        Client("k", base_url=tls_server, max_retries=0) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.get_credits()

    assert "CERTIFICATE_VERIFY_FAILED" in repr(caught.value.__cause__) + str(caught.value)


def test_a_certificate_trusted_through_ssl_cert_file_is_accepted(
    tls_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT))
    with Client("k", base_url=tls_server, max_retries=0) as client:
        assert client.get_credits() == 7.5


@pytest.mark.anyio
async def test_the_async_client_verifies_too(tls_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with AsyncClient("k", base_url=tls_server, max_retries=0) as client:
        with pytest.raises(APIConnectionError):
            await client.get_credits()
    monkeypatch.setenv("SSL_CERT_FILE", str(CERT))
    async with AsyncClient("k", base_url=tls_server, max_retries=0) as client:
        assert await client.get_credits() == 7.5
