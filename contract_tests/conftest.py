"""Shared fixtures of the project's own suite (consumers get theirs from sora2_characters.pytest_plugin)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from contract_tests.support import LeakWatch, close_clients_made_since, made_client_count
from sora2_characters.testing import FakeApikley


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


@pytest.fixture
def http(fake_apikley: FakeApikley) -> Iterator[httpx.Client]:
    """A bare httpx client on the fake's jobs API, with its key: the fake seen from the wire."""
    with httpx.Client(
        base_url=fake_apikley.base_url,
        headers={"Authorization": f"Bearer {fake_apikley.api_key}"},
        timeout=10,
    ) as client:
        yield client


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[LeakWatch]:
    """Capture the library's, httpx's and uvicorn's logs at DEBUG (the env handler on too), for leaks."""
    monkeypatch.setenv("SORA2_CHARACTERS_LOG", "debug")
    leak_watch = LeakWatch()
    leak_watch.install()
    try:
        yield leak_watch
    finally:
        leak_watch.restore()
