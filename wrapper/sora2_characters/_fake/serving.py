"""The one serve loop of both command lines: ``python -m sora2_characters.testing`` and ``mock``."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from sora2_characters.testing import FakeApikley

__all__ = ["serve"]


def serve(
    fake: FakeApikley,
    *,
    out: IO[str] | None = None,
    stop: threading.Event | None = None,
    announce: Callable[[FakeApikley], None] | None = None,
) -> None:
    """Run ``fake`` until ``stop`` is set, SIGTERM or Ctrl-C, printing its base URLs and key first.

    ``announce(fake)`` replaces the default banner once the fake listens; ``out`` gets the banner
    and the final ``Stopping.``. From the main thread, SIGTERM stops it like Ctrl-C, and Ctrl-C works
    even when the parent ignored SIGINT (the previous handlers are restored on return). Raises what
    starting raises
    (:class:`~sora2_characters.testing.PortInUseError` for a taken port) and ``RuntimeError`` when
    the server stops on its own.
    """
    out = out or sys.stdout
    stop = stop or threading.Event()
    with fake, _stop_on_signals(stop):
        # The banner is inside the try: Ctrl-C right after it (a reader acts on it at once) stops cleanly.
        try:
            if announce is not None:
                announce(fake)
            else:
                print(f"Fake Apikley jobs API:   {fake.base_url}", file=out)
                print(f"Fake Apikley upload API: {fake.upload_base_url}", file=out)
                print(f"API key:                 {fake.api_key}", file=out)
                print("Press Ctrl-C to stop.", file=out, flush=True)
            while not stop.wait(0.2):
                if not fake.running:
                    raise RuntimeError("the fake Apikley server stopped unexpectedly")
        except KeyboardInterrupt:
            pass
        print("Stopping.", file=out, flush=True)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """From the main thread, SIGTERM sets ``stop`` and Ctrl-C raises ``KeyboardInterrupt``.

    Ctrl-C too because a parent that ignored SIGINT (a shell's background job, a test runner's
    worker) leaves it ignored in Python. The previous handlers come back on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous_term = signal.signal(signal.SIGTERM, on_term)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
