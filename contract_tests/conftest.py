"""Shared fixtures of the project's own suite.

The plugin (``sora2_characters.pytest_plugin``, entry point ``sora2_characters``) is off for this
suite (``-p no:sora2_characters`` in pyproject's addopts, as respx does with its own), so a broken
entry point or an import-time side effect of the plugin cannot hide behind our own tests; only
``test_pytest_plugin.py`` loads it, on purpose, in a consumer project. The plugin's fixtures our
tests use are its own functions, imported here, not copies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from hypothesis import HealthCheck, settings

from contract_tests.support import LeakWatch, close_clients_made_since, loopback_http, made_client_count
from sora2_characters import pytest_plugin
from sora2_characters.pytest_plugin import (
    async_sora2_client,
    fake_apikley,
    fake_apikley_options,
    prism_mock,
    sora2_client,
)
from sora2_characters.testing import FakeApikley

__all__ = ["async_sora2_client", "fake_apikley", "fake_apikley_options", "prism_mock", "sora2_client"]


# Hypothesis, for a busy two-core machine: an example may take up to 2 s (the default 200 ms fails
# tests that were merely descheduled) and slow data generation is not a failure; each test keeps
# its own max_examples. "ci" (chosen by CI=... or SORA2_HYPOTHESIS_PROFILE=ci) is derandomized, so a
# CI run is reproducible, and keeps no example database.
settings.register_profile("dev", deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", parent=settings.get_profile("dev"), derandomize=True, database=None, print_blob=True
)
settings.load_profile(os.environ.get("SORA2_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


#: The files that take longest on one worker, slowest first (seconds alone, two cores, December 2026).
#: nox -s tests runs xdist with --no-loadscope-reorder, which hands files out in collection order:
#: started last, the README's consumer venv (a pip install of about a minute) ended the run alone.
SLOWEST_FILES = (
    "test_readme_examples.py",  # 60+: two venvs and pip installs
    "test_spec_diff.py",  # Optic, three module fixtures
    "test_hostile_conditions.py",
    "test_fault_matrix.py",
    "test_cli.py",
    "test_contracts.py",  # Pact's verifier
    "test_pact_consumer.py",
    "test_packaging.py",  # builds the wheel and the sdist
    "test_update_spec.py",
    "test_cli_listen.py",
    "test_fake_faults.py",
    "test_fake_app.py",
    "test_validation_agreement.py",  # Prism
    "test_prism_contract.py",
    "test_pytest_plugin.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run :data:`SLOWEST_FILES` first, in that order; the rest keep theirs (the sort is stable)."""
    rank = {name: position for position, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's ``fake_apikley`` marker, as the plugin would."""
    pytest_plugin.pytest_configure(config)


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
    with loopback_http(
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


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis server for the session, on a free loopback port, without persistence."""
    from contract_tests.support import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url
