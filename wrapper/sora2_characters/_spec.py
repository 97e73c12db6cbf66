"""Where the strict bundled OpenAPI document lives, installed or in a checkout."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PACKAGED = Path(__file__).with_name("openapi.json")
_CHECKOUT = Path(__file__).resolve().parents[2] / "openapi" / "bundled" / "apikley.json"


def spec_path() -> Path:
    """Return the path of the strict bundle (``openapi/bundled/apikley.json``).

    Wheels carry it as ``sora2_characters/openapi.json``; an editable install reads the checkout's.
    """
    for candidate in (_PACKAGED, _CHECKOUT):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"the bundled OpenAPI document is missing (looked at {_PACKAGED} and {_CHECKOUT})"
    )


@functools.cache
def load_spec() -> dict[str, Any]:
    """Return the strict bundle, parsed once per process. Treat it as read-only."""
    document: dict[str, Any] = json.loads(spec_path().read_text(encoding="utf-8"))
    return document
