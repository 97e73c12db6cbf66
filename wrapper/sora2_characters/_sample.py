"""Where the sample clip lives, installed or in a checkout: ``examples/character.mp4``."""

from __future__ import annotations

from pathlib import Path

__all__ = ["sample_clip"]

_PACKAGED = Path(__file__).with_name("character.mp4")
_CHECKOUT = Path(__file__).resolve().parents[2] / "examples" / "character.mp4"


def sample_clip() -> Path:
    """Return the path of the sample character clip (a real 2 s, 320x240 H.264 mp4 of 23,748 bytes).

    Wheels carry it as ``sora2_characters/character.mp4``; an editable install reads the checkout's
    ``examples/character.mp4``. It passes every local check and the fake's, so tests can upload it::

        video = sora2_client.upload_video(sample_clip())
    """
    for candidate in (_PACKAGED, _CHECKOUT):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"the sample clip is missing (looked at {_PACKAGED} and {_CHECKOUT})")
