"""``sora2_characters._prism``: starting the pinned Prism mock, and failing clearly when it cannot start."""

from __future__ import annotations

import sys

import pytest

from sora2_characters._prism import PrismServer, PrismStartError


def test_prism_exiting_while_starting_raises_prism_start_error() -> None:
    # start() appends "mock <spec> --host ... --port ..."; python -c leaves them in sys.argv.
    prism = PrismServer(command=[sys.executable, "-c", "print('no such spec'); raise SystemExit(3)"])
    with pytest.raises(PrismStartError, match=r"exited with 3 while starting:\n.*no such spec"):
        prism.start()
    prism.stop()  # already stopped: safe to call again
