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
    and the final ``Stopping.``. From the main thread, SIGTERM stops it like Ctrl-C (the previous
    handler is restored on return). Raises what starting raises
    (:class:`~sora2_characters.testing.PortInUseError` for a taken port) and ``RuntimeError`` when
    the server stops on its own.
    """
    out = out or sys.stdout
    stop = stop or threading.Event()
    with fake, _stop_on_sigterm(stop):
        if announce is not None:
            announce(fake)
        else:
            print(f"Fake Apikley jobs API:   {fake.base_url}", file=out)
            print(f"Fake Apikley upload API: {fake.upload_base_url}", file=out)
            print(f"API key:                 {fake.api_key}", file=out)
            print("Press Ctrl-C to stop.", file=out, flush=True)
        try:
            while not stop.wait(0.2):
                if not fake.running:
                    raise RuntimeError("the fake Apikley server stopped unexpectedly")
        except KeyboardInterrupt:
            pass
        print("Stopping.", file=out, flush=True)


@contextlib.contextmanager
def _stop_on_sigterm(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
