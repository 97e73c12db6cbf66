"""Talking to the benchmarks' child processes with bounded waits: a read never hangs the harness.

``read_line`` reads one line in a helper thread and gives up after a deadline; ``reap`` closes the
child's stdin, waits a bounded time, then kills it. A child that fails to start is always reaped.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading

#: How long a child may take to print its first line (imports and server start) or to answer.
START_TIMEOUT_S = 60.0


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """Return the next line of ``proc``'s stdout ("" at end of file); raise TimeoutError after ``timeout``.

    The read runs in a daemon thread: on a timeout the caller should kill the child, which ends the
    read with end of file and so the thread.
    """
    stdout = proc.stdout
    assert stdout is not None
    result: list[str] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(stdout.readline())
        except (OSError, ValueError) as exc:  # the pipe was closed under us
            failure.append(exc)

    reader = threading.Thread(target=target, name=f"read-child-{proc.pid}", daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise TimeoutError(f"the child process {proc.pid} printed no line within {timeout:g} s")
    if failure:
        raise failure[0]
    return result[0]


def reap(proc: subprocess.Popen[str], *, wait: float = 10.0) -> None:
    """Close ``proc``'s stdin (it stops), wait up to ``wait`` seconds, then kill it; close stdout."""
    if proc.stdin is not None and not proc.stdin.closed:
        with contextlib.suppress(OSError):  # a child that already died leaves a broken pipe
            proc.stdin.close()
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    if proc.stdout is not None:
        proc.stdout.close()
