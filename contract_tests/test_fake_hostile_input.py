"""The fake under hostile requests, over real sockets (issue 10): bounded reading, the key first, no 500.

A body announced as too large is refused before a byte of it is read; a chunked body is counted as
it arrives and refused once it passes the limit; a request with a bad key gets its 401 without the
body being read; a JSON document nested 10,000 deep gets a 400 naming the body, never a 500.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from sora2_characters._fake.app import MAX_JOBS_BODY_BYTES, MAX_UPLOAD_BODY_BYTES
from sora2_characters.testing import FakeApikley

CREATE = "/api/v1/jobs/createTask"
SOCKET_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def hostile_fake() -> Iterator[FakeApikley]:
    with FakeApikley(time_scale=0) as fake:
        yield fake


@pytest.fixture
def fake(hostile_fake: FakeApikley) -> FakeApikley:
    hostile_fake.reset()
    hostile_fake.error_style = "live"
    return hostile_fake


def _head(fake: FakeApikley, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{fake.port}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    """Read one HTTP/1.1 response with a Content-Length; return its status and JSON body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        rest += chunk
    return status, json.loads(rest[:length])


def _connect(fake: FakeApikley) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", fake.port), timeout=SOCKET_TIMEOUT)
    sock.settimeout(SOCKET_TIMEOUT)
    return sock


@pytest.mark.parametrize(
    ("path", "limit"),
    [(CREATE, MAX_JOBS_BODY_BYTES), ("/file-upload/api/file-base64-upload", MAX_UPLOAD_BODY_BYTES)],
)
def test_an_announced_oversized_body_is_refused_before_it_is_sent(
    fake: FakeApikley, path: str, limit: int
) -> None:
    headers = {
        "Authorization": f"Bearer {fake.api_key}",
        "Content-Type": "application/json",
        "Content-Length": str(limit + 1),
    }
    with _connect(fake) as sock:
        sock.sendall(_head(fake, path, headers))  # not one byte of the body follows
        status, body = _read_response(sock)
    assert status == 413
    assert body["code"] == 413
    assert f"at most {limit} bytes" in str(body["msg"])
    (recorded,) = fake.requests
    assert (recorded.body, recorded.status) == (None, 413)
    assert fake.tasks == []


def test_a_chunked_body_is_counted_as_it_arrives_and_cut_off(fake: FakeApikley) -> None:
    headers = {
        "Authorization": f"Bearer {fake.api_key}",
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    chunk = b"[" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with _connect(fake) as sock:
        sock.sendall(_head(fake, CREATE, headers))
        try:
            while sent <= 4 * MAX_JOBS_BODY_BYTES:  # the fake must answer long before this
                sock.sendall(framed)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it stopped reading: what matters is its answer, below
        status, body = _read_response(sock)
    assert (status, body["code"]) == (413, 413)
    assert fake.tasks == []


def test_a_bad_key_is_refused_without_reading_the_body(fake: FakeApikley) -> None:
    headers = {
        "Authorization": "Bearer not-the-key",
        "Content-Type": "application/json",
        "Content-Length": str(MAX_JOBS_BODY_BYTES // 2),  # announced, never sent
    }
    with _connect(fake) as sock:
        sock.sendall(_head(fake, CREATE, headers))
        status, body = _read_response(sock)
    assert (status, body["code"]) == (200, 401)
    (recorded,) = fake.requests
    assert recorded.body is None  # the body was never read


@pytest.mark.parametrize("style", ["live", "http"])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_10000_deep_gets_400_never_500(fake: FakeApikley, style: str, opener: str) -> None:
    fake.error_style = style  # type: ignore[assignment]
    closer = "]" if opener == "[" else "}"
    document = opener * 10_000 + "1" + closer * 10_000
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}) as http:
        response = http.post(CREATE, content=document, headers={"Content-Type": "application/json"})
        upload = http.post(
            f"{fake.upload_base_url}/api/file-base64-upload",
            content=document,
            headers={"Content-Type": "application/json"},
        )
    for answer in (response, upload):
        assert answer.status_code in ((200,) if style == "live" else (400,)), answer.text
        assert answer.json()["code"] == 400
        assert answer.json()["msg"] == "body: JSON nested too deeply"


def test_deep_nesting_inside_a_valid_field_is_a_validation_error(fake: FakeApikley) -> None:
    deep: object = "x"
    for _ in range(500):
        deep = [deep]
    body = {"model": "sora-2-characters", "input": {"character_file_url": [deep]}}
    with httpx.Client(base_url=fake.base_url, headers={"Authorization": f"Bearer {fake.api_key}"}) as http:
        payload = http.post(CREATE, json=body).json()
    assert payload["code"] == 422
    assert payload["msg"].startswith("input.character_file_url[0]")
