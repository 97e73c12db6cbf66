"""A minimal, fast HTTP/1.1 keep-alive server answering fixed Apikley bodies: the overhead floor's server.

It runs in its own process (``python -m benchmarks._local_server``) so that it uses the other core and
never competes with the measured client for the GIL. It prints its port on stdout and exits when its
stdin closes. Request bodies (Content-Length or chunked) are read and discarded without being kept,
so a 10 MB upload costs it no memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from ._child import START_TIMEOUT_S, read_line, reap

TASK_ID = "task_sora-2-characters_1765174270120"
_PARAM = {
    "model": "sora-2-characters",
    "input": {
        "character_file_url": ["https://example.com/character.mp4"],
        "character_prompt": "A friendly cartoon character with expressive eyes",
    },
}
RECORD_INFO = json.dumps(
    {
        "code": 200,
        "msg": "success",
        "data": {
            "taskId": TASK_ID,
            "model": "sora-2-characters",
            "state": "success",
            "param": json.dumps(_PARAM),
            "resultJson": json.dumps({"character_id": "char_0123456789abcdef"}),
            "failCode": "",
            "failMsg": "",
            "costTime": 15.0,
            "completeTime": 1765174285120,
            "createTime": 1765174270120,
            "updateTime": 1765174285120,
            "progress": 100,
            "creditsConsumed": 10,
        },
    }
).encode()
CREATE_TASK = json.dumps({"code": 200, "msg": "success", "data": {"taskId": TASK_ID}}).encode()
CREDITS = json.dumps({"code": 200, "msg": "success", "data": 1234.5}).encode()
UPLOAD = json.dumps(
    {
        "success": True,
        "code": 200,
        "msg": "File uploaded successfully",
        "data": {
            "fileName": "character.mp4",
            "filePath": "sora2-characters/x/character.mp4",
            "downloadUrl": "https://files.example.com/sora2-characters/x/character.mp4",
            "fileSize": 10485760,
            "mimeType": "video/mp4",
            "uploadedAt": "2026-01-01T00:00:00.000Z",
        },
    }
).encode()
NOT_FOUND = json.dumps({"code": 404, "msg": "not found", "data": None}).encode()


def _response(body: bytes, status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


_ROUTES = {
    (b"GET", b"/api/v1/jobs/recordInfo"): _response(RECORD_INFO),
    (b"POST", b"/api/v1/jobs/createTask"): _response(CREATE_TASK),
    (b"GET", b"/api/v1/chat/credit"): _response(CREDITS),
}
_UPLOAD = _response(UPLOAD)
_NOT_FOUND = _response(NOT_FOUND, "404 Not Found")


def _answer(method: bytes, target: bytes) -> bytes:
    path = target.split(b"?", 1)[0]
    if method == b"POST" and path.endswith(b"/api/file-stream-upload"):
        return _UPLOAD
    return _ROUTES.get((method, path), _NOT_FOUND)


class _Protocol(asyncio.Protocol):
    """Parse requests incrementally; discard bodies; answer each in order."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.pending: bytes | None = None  # the answer to send once the body is consumed
        self.remaining = 0  # body bytes still to discard (Content-Length)
        self.chunked = False
        self.chunk_left = 0  # bytes of the current chunk (plus its CRLF) to discard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self._step():
            pass

    def _step(self) -> bool:
        if self.pending is not None:
            return self._consume_body()
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        lines = head.split(b"\r\n")
        method, target, _ = lines[0].split(b" ", 2)
        self.remaining = 0
        self.chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                self.remaining = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                self.chunked = True
        self.pending = _answer(method, target)
        return True

    def _consume_body(self) -> bool:
        if self.chunked:
            while True:
                if self.chunk_left:
                    take = min(self.chunk_left, len(self.buffer))
                    del self.buffer[:take]
                    self.chunk_left -= take
                    if self.chunk_left:
                        return False
                line_end = self.buffer.find(b"\r\n")
                if line_end < 0:
                    return False
                size = int(bytes(self.buffer[:line_end]).split(b";")[0], 16)
                del self.buffer[: line_end + 2]
                if size == 0:
                    # The last chunk (no trailers expected): discard its closing CRLF, then answer.
                    self.chunked = False
                    self.remaining = 2
                    return self._consume_body()
                self.chunk_left = size + 2
        else:
            take = min(self.remaining, len(self.buffer))
            del self.buffer[:take]
            self.remaining -= take
            if self.remaining:
                return False
        answer, self.pending = self.pending, None
        assert self.transport is not None
        assert answer is not None
        self.transport.write(answer)
        return True


async def _serve() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Protocol, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    # Exit when the parent closes our stdin (or dies).
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main() -> None:
    """Serve until stdin closes."""
    asyncio.run(_serve())


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """Start the server in a child process; yield its base URL; stop it."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._local_server"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = read_line(proc, START_TIMEOUT_S).strip()
    except BaseException:
        proc.kill()
        reap(proc, wait=5)
        raise
    if not line.isdigit():
        proc.kill()
        reap(proc, wait=5)
        raise RuntimeError(f"the local server did not start (got {line!r})")
    try:
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        reap(proc, wait=5)


if __name__ == "__main__":
    main()
