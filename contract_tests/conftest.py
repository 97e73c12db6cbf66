"""Shared fixtures of the project's own suite (consumers get theirs from sora2_characters.pytest_plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.client_support import close_clients_made_since, made_client_count

ROOT = Path(__file__).resolve().parent.parent
OPENAPI = ROOT / "openapi"
STRICT_BUNDLE = OPENAPI / "bundled" / "apikley.json"


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only (httpx's own default)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _close_made_clients() -> Iterator[None]:
    """Close every ``make_client()`` client a test made, so none leaks its connection pool."""
    start = made_client_count()
    yield
    close_clients_made_since(start)
