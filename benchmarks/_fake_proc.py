"""The fake Apikley server (:class:`sora2_characters.testing.FakeApikley`) in a child process.

Running it apart keeps its request handling off the measured client's GIL and core. The child
prints one JSON line (URLs, key, pid), then obeys JSON commands on stdin, one a line, answering each
with one JSON line; it stops when stdin closes.

Commands: ``{"cmd": "configure", "time_scale": s, "task_duration": d}``, ``{"cmd": "reset"}``,
``{"cmd": "dump"}`` (the recorded requests and the tasks, times on the fake's wall clock). Nothing
samples this process while it serves: sockets are counted on the client's side (``fanout.py``), as
sampling the server's connections every few milliseconds cost the fake seconds of CPU.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sora2_characters.testing import FakeApikley

from ._child import START_TIMEOUT_S, read_line, reap

#: How long one command (a dump of thousands of requests included) may take to answer.
COMMAND_TIMEOUT_S = 120.0


def _dump(fake: FakeApikley) -> dict[str, Any]:
    return {
        "requests": [
            {
                "method": r.method,
                "operation": r.operation,
                "task_id": r.query.get("taskId"),
                "status": r.status,
                "time": r.time,
            }
            for r in fake.requests
        ],
        "tasks": [
            {
                "task_id": t.task_id,
                "created_at": t.created_at,
                "ends_at": t.ends_at,
                "duration": t.total_duration,
                "time_scale": t.time_scale,
            }
            for t in fake.tasks
        ],
    }


def main() -> None:
    """Serve a fake until stdin closes."""
    with FakeApikley(initial_credits=1e12, credits_per_task=1.0, validate_media=False) as fake:
        hello = {
            "base_url": fake.base_url,
            "upload_base_url": fake.upload_base_url,
            "api_key": fake.api_key,
        }
        print(json.dumps(hello), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            name = command["cmd"]
            answer: dict[str, Any] = {"ok": True}
            if name == "configure":
                fake.time_scale = float(command["time_scale"])
                fake.set_task_durations(total=float(command["task_duration"]))
            elif name == "reset":
                fake.reset()
            elif name == "dump":
                answer = _dump(fake)
            else:
                answer = {"ok": False, "error": f"unknown command {name!r}"}
            print(json.dumps(answer), flush=True)


class FakeProcess:
    """The parent's handle: start the child, send commands, stop it (use as a context manager)."""

    def __init__(self) -> None:
        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._fake_proc"],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            hello = self._read(START_TIMEOUT_S)
            self.base_url: str = hello["base_url"]
            self.upload_base_url: str = hello["upload_base_url"]
            self.api_key: str = hello["api_key"]
        except BaseException:
            self._kill()
            raise
        self.pid = self.proc.pid

    def _read(self, timeout: float = COMMAND_TIMEOUT_S) -> dict[str, Any]:
        line = read_line(self.proc, timeout)
        if not line:
            raise RuntimeError("the fake server process exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _kill(self) -> None:
        """Kill the child at once and reap it (it failed to start or to answer)."""
        self.proc.kill()
        reap(self.proc, wait=5)

    def command(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Send one command; return its answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        try:
            answer = self._read()
        except TimeoutError:
            self._kill()
            raise
        if answer.get("ok") is False:
            raise RuntimeError(answer.get("error"))
        return answer

    def close(self) -> None:
        """Close stdin (the child stops) and reap it, killing it after a bounded wait."""
        reap(self.proc)

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    main()
