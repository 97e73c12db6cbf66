"""Start and stop a Prism mock or validating proxy of the Apikley spec on a free loopback port.

Prism (``@stoplight/prism-cli``) is a Node program: this module finds the copy ``npm ci`` installed
from the project's package-lock.json, or the command named by ``SORA2_PRISM_COMMAND``.

Example::

    with PrismServer() as prism:
        client = Client("any-key", base_url=prism.base_url, upload_base_url=prism.base_url)
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Self

from sora2_characters._spec import spec_path

PRISM_VERSION = "5.14.2"
_CHECKOUT = Path(__file__).resolve().parents[2]


class PrismNotFoundError(RuntimeError):
    """Prism, or the Node.js that runs it, is not installed where we look."""


class PrismStartError(RuntimeError):
    """Prism was found but did not start answering in time."""


def find_prism_command(search_from: Path | None = None) -> list[str]:
    """Return the command that runs Prism.

    ``SORA2_PRISM_COMMAND`` wins; otherwise ``node_modules/.bin/prism`` in ``search_from`` (default:
    the current directory), its parents, or this checkout.
    """
    configured = os.environ.get("SORA2_PRISM_COMMAND")
    if configured:
        return shlex.split(configured)
    if shutil.which("node") is None:
        raise PrismNotFoundError(
            "Node.js is not installed: Prism needs Node 20 or newer (then run `npm ci` in the project)"
        )
    start = (search_from or Path.cwd()).resolve()
    for folder in (start, *start.parents, _CHECKOUT):
        candidate = folder / "node_modules" / ".bin" / "prism"
        if candidate.is_file():
            return [str(candidate)]
    raise PrismNotFoundError(
        f"Prism is not installed: run `npm ci` where package.json pins @stoplight/prism-cli {PRISM_VERSION}, "
        "or set SORA2_PRISM_COMMAND"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class PrismServer:
    """A Prism process serving the bundled spec, as a mock or as a validating proxy.

    ``mode="mock"`` answers from the spec's examples. ``mode="proxy"`` forwards to ``upstream`` and,
    with ``errors=True``, turns every request or response violation into an error response (and
    always reports them in the ``sl-violations`` header).
    """

    def __init__(
        self,
        *,
        mode: Literal["mock", "proxy"] = "mock",
        upstream: str | None = None,
        spec: Path | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        errors: bool = False,
        startup_timeout: float = 60.0,
        command: list[str] | None = None,
    ) -> None:
        if mode == "proxy" and not upstream:
            raise ValueError("a Prism proxy needs the upstream URL")
        self.mode = mode
        self.upstream = upstream
        self.spec = spec or spec_path()
        self.host = host
        self.port = port or free_port(host)
        self.errors = errors
        self.startup_timeout = startup_timeout
        self._command = command
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The URL clients should use as both their jobs and upload base."""
        return f"http://{self.host}:{self.port}"

    @property
    def log_text(self) -> str:
        """What Prism has printed so far (for failure messages)."""
        if self._log is None:
            return ""
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def start(self) -> Self:
        """Start Prism and wait until it answers, or raise ``PrismStartError``."""
        command = [*(self._command or find_prism_command()), self.mode, str(self.spec)]
        if self.mode == "proxy":
            command.append(str(self.upstream))
        command += ["--host", self.host, "--port", str(self.port), "--errors", str(self.errors).lower()]
        self._log = tempfile.NamedTemporaryFile(prefix="prism-", suffix=".log", delete=False)  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603 - the command is ours or the caller's
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            returncode = self._process.poll()
            if returncode is not None:
                log = self.log_text
                self.stop()
                raise PrismStartError(f"Prism exited with {returncode} while starting:\n{log}")
            if self._answers():
                return self
            time.sleep(0.1)
        log = self.log_text
        self.stop()
        raise PrismStartError(
            f"Prism did not answer on {self.base_url} within {self.startup_timeout} s:\n{log}"
        )

    def _answers(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), timeout=0.5):
            return True
        return False

    def stop(self) -> None:
        """Stop Prism (its whole process group) and remove its log. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
