"""Pytest fixtures for code that uses sora2-characters, registered through the ``pytest11`` entry point.

* ``fake_apikley``: a running :class:`~sora2_characters.testing.FakeApikley`, fresh for each test,
  fast (``time_scale=0.001``: a task ends in about 15 ms). Configure it per test with the marker
  ``@pytest.mark.fake_apikley(error_style="http", initial_credits=5)`` or for a whole module or
  folder by overriding the ``fake_apikley_options`` fixture (a dict of constructor arguments).
* ``sora2_client`` / ``async_sora2_client``: a :class:`~sora2_characters.Client` /
  :class:`~sora2_characters.AsyncClient` bound to ``fake_apikley``, closed after the test. They
  retry as in production, but never wait for real: every backoff, ``Retry-After`` or poll pause
  lasts at most ``CLIENT_MAX_SLEEP`` (5 ms), so a test of a 455 or 429 costs milliseconds.
* ``prism_mock``: a Prism mock of the bundled spec, shared by the session (needs ``npm ci``; a
  missing Prism fails the test with the reason, it is never skipped silently).
* ``apikley_pact``: a pact-python ``Pact`` between your project (``apikley_pact_consumer``, by
  default the project's name) and the provider ``apikley``, written to ``--apikley-pact-dir``
  (default ``pacts/``, relative to the rootdir) when the test passes. Needs the ``contracts``
  extra; verify the written pact with ``sora2-characters contracts verify``.

Nothing heavy is imported until a fixture is used: pytest loads this module in every run of every
project that installed the package.

Example::

    def test_character(sora2_client, fake_apikley):
        video = sora2_client.upload_video("tests/character.mp4")
        task = sora2_client.create_character_and_wait(video.download_url)
        assert task.character_id.startswith("char_")
        assert len(fake_apikley.tasks) == 1
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pact import Pact

    from sora2_characters import AsyncClient, Client
    from sora2_characters._prism import PrismServer
    from sora2_characters.testing import FakeApikley

#: What the fixture passes to FakeApikley unless the options or the marker say otherwise.
FIXTURE_DEFAULTS: dict[str, Any] = {"time_scale": 0.001}
#: Poll interval (seconds) of the bound clients: the fake's tasks end within milliseconds.
CLIENT_POLL_INTERVAL = 0.005
#: The longest real pause (seconds) of the bound clients: a retry's backoff (0.5 s, 1 s, ... or a
#: ``Retry-After``) is cut to this, so retries still happen, at once. It is not zero so that polling a
#: task the fake has not finished yet does not spin.
CLIENT_MAX_SLEEP = 0.005


def _instant_sleep(seconds: float) -> None:
    """Sleep at most :data:`CLIENT_MAX_SLEEP` of real time, whatever was asked (the bound clients')."""
    time.sleep(min(seconds, CLIENT_MAX_SLEEP))


async def _instant_async_sleep(seconds: float) -> None:
    """Await at most :data:`CLIENT_MAX_SLEEP` on anyio (asyncio and trio alike): :func:`_instant_sleep`."""
    import anyio  # noqa: PLC0415 - keep plugin import light

    await anyio.sleep(min(seconds, CLIENT_MAX_SLEEP))


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--apikley-pact-dir``: where ``apikley_pact`` writes the pacts of passing tests."""
    parser.getgroup("sora2-characters").addoption(
        "--apikley-pact-dir",
        default="pacts",
        metavar="DIR",
        help="folder the apikley_pact fixture writes pacts to, relative to the rootdir (default: pacts)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_apikley`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers", "fake_apikley(**options): FakeApikley constructor arguments for the fake_apikley fixture"
    )


@pytest.fixture
def fake_apikley_options() -> dict[str, Any]:
    """Override to pass constructor arguments to every ``fake_apikley`` in scope."""
    return {}


@pytest.fixture
def fake_apikley(
    request: pytest.FixtureRequest, fake_apikley_options: dict[str, Any]
) -> Iterator[FakeApikley]:
    """Yield a fresh fake Apikley server on a free loopback port, stopped after the test."""
    from sora2_characters.testing import FakeApikley  # noqa: PLC0415 - keep plugin import light

    options = {**FIXTURE_DEFAULTS, **fake_apikley_options}
    for marker in reversed(list(request.node.iter_markers("fake_apikley"))):
        options.update(marker.kwargs)
    with FakeApikley(**options) as fake:
        yield fake


@pytest.fixture
def sora2_client(fake_apikley: FakeApikley) -> Iterator[Client]:
    """Yield a :class:`~sora2_characters.Client` bound to ``fake_apikley``, closed after the test.

    Its retries and polls do not really wait: any pause it takes lasts at most ``CLIENT_MAX_SLEEP``
    (5 ms), so a retried 455 or 429 is retried at once (the retry count and rules are unchanged).
    """
    with fake_apikley.client(poll_interval=CLIENT_POLL_INTERVAL, sleep=_instant_sleep) as client:
        yield client


@pytest.fixture
async def async_sora2_client(fake_apikley: FakeApikley) -> AsyncIterator[AsyncClient]:
    """Yield an :class:`~sora2_characters.AsyncClient` bound to ``fake_apikley``, closed after the test.

    Like ``sora2_client``, it never waits for real: every pause lasts at most ``CLIENT_MAX_SLEEP``.
    Async fixtures need an async plugin: anyio's (``@pytest.mark.anyio``) or pytest-asyncio.
    """
    async with fake_apikley.async_client(
        poll_interval=CLIENT_POLL_INTERVAL, sleep=_instant_async_sleep
    ) as client:
        yield client


@pytest.fixture(scope="session")
def prism_mock() -> Iterator[PrismServer]:
    """Yield a Prism mock of the bundled spec, shared by the session (``.base_url`` serves both APIs)."""
    from sora2_characters._prism import PrismServer  # noqa: PLC0415

    with PrismServer(mode="mock") as prism:
        yield prism


# ---- Pact (the 'contracts' extra) ---------------------------------------------------------------

#: The call-phase report of each test, for ``apikley_pact`` to write only the pacts of passing tests.
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()
#: The pact files this session wrote already: the first write of a session replaces the file.
_WRITTEN = pytest.StashKey[set[Path]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Remember each test's call-phase report (``apikley_pact`` reads it at teardown)."""
    report = yield
    if isinstance(report, pytest.TestReport) and report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.fixture
def apikley_pact_consumer(request: pytest.FixtureRequest) -> str:
    """Return the consumer name of ``apikley_pact``: the project's name.

    That is ``[project].name`` of the rootdir's pyproject.toml, else the rootdir's name. Override the
    fixture to choose another.
    """
    root = request.config.rootpath
    try:
        with (root / "pyproject.toml").open("rb") as file:
            name = tomllib.load(file).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        name = None
    return name if isinstance(name, str) and name else root.name


@pytest.fixture
def apikley_pact(request: pytest.FixtureRequest, apikley_pact_consumer: str) -> Iterator[Pact]:
    """Yield a pact-python ``Pact(apikley_pact_consumer, "apikley")``; write it when the test passes.

    Define interactions on it, serve it (``with apikley_pact.serve() as server:``), bind a client to
    ``str(server.url)`` and call it. After a passing test the pact is written to
    ``--apikley-pact-dir``: the first test of a session replaces the file, later ones add to it.
    One ``Pact`` per test (pact-python refuses new states once its mock server ran).
    """
    os.environ["PACT_DO_NOT_TRACK"] = "true"  # pact-python reports usage otherwise
    try:
        from pact import Pact  # noqa: PLC0415 - the 'contracts' extra, loaded only when used
    except ImportError:
        pytest.fail(
            "apikley_pact needs pact-python: pip install 'sora2-characters[contracts]'", pytrace=False
        )
    pact = Pact(apikley_pact_consumer, "apikley")
    yield pact
    report = request.node.stash.get(_CALL_REPORT, None)
    if report is None or not report.passed:
        return
    folder = Path(request.config.getoption("--apikley-pact-dir"))
    if not folder.is_absolute():
        folder = request.config.rootpath / folder
    written = request.config.stash.setdefault(_WRITTEN, set())
    target = folder / f"{apikley_pact_consumer}-apikley.json"
    pact.write_file(folder, overwrite=target not in written)
    written.add(target)
