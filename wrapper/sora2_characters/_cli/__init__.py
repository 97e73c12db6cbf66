"""The ``sora2-characters`` command line (extra ``cli``): a video in, a character_id out.

``main`` is the console script's entry point; ``python -m sora2_characters`` runs it too. The
commands live in :mod:`._app`, the exit-code table in :mod:`._exits`, output and redaction in
:mod:`._output`, progress in :mod:`._progress` and backend selection (Apikley or the embedded fake)
in :mod:`._backend`.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence

__all__ = ["main"]

_MISSING_EXTRA = (
    "sora2-characters: the command line needs the 'cli' extra ({name} is missing):\n"
    "  python3 -m pip install 'sora2-characters[cli]'\n"
)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its code (see ``sora2-characters --help``)."""
    if threading.current_thread() is threading.main_thread():
        # A parent that ignores SIGINT would make Ctrl-C a no-op; a CLI must always be interruptible.
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from ._app import run  # noqa: PLC0415 - click and rich come with the 'cli' extra
    except ImportError as exc:
        sys.stderr.write(_MISSING_EXTRA.format(name=exc.name or exc))
        sys.exit(1)
    sys.exit(run(argv))
