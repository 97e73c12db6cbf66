"""Logging through the stdlib logger ``sora2_characters``; never the API key, never a query secret.

``SORA2_CHARACTERS_LOG=debug`` (or ``info``), read when a client is constructed, attaches one stderr
handler to that logger at that level. Otherwise the library only emits records; the application
decides where they go.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["ENV_VAR", "logger", "setup_from_env"]

ENV_VAR = "SORA2_CHARACTERS_LOG"
logger = logging.getLogger("sora2_characters")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


class _EnvHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler added by the environment variable (marked so it is added once)."""


def setup_from_env() -> None:
    """Honour ``SORA2_CHARACTERS_LOG`` (read now, at client construction; idempotent)."""
    level = _LEVELS.get(os.environ.get(ENV_VAR, "").strip().lower())
    if level is None:
        return
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    if not any(isinstance(handler, _EnvHandler) for handler in logger.handlers):
        handler = _EnvHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
