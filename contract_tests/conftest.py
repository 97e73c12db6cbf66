"""Shared fixtures of the project's own suite (consumers get theirs from sora2_characters.pytest_plugin)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi"
STRICT_BUNDLE = OPENAPI / "bundled" / "apikley.json"


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only (httpx's own default)."""
    return "asyncio"
