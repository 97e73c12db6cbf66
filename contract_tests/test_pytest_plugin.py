"""``sora2_characters.pytest_plugin``, seen from a consumer's project through pytester."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.support import ROOT

pytest_plugins = ["pytester"]

CHARACTER = ROOT / "examples" / "character.mp4"


def readme_example() -> str:
    """The consumer example in the README's "Testing your code against a fake Apikley", as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Testing your code against a fake Apikley") :]
    return section[section.index("```python\n") + len("```python\n") : section.index("\n```\n")]


#: Load the plugin by its entry-point name, as a consumer's run does. In process the plugin module is
#: already imported (our conftest imports its fixtures), so pytest cannot rewrite its asserts and says
#: so with a warning that the consumer's ``filterwarnings = error`` would turn into an error.
PLUGIN_ARGS = ("-p", "sora2_characters", "-W", "ignore::pytest.PytestAssertRewriteWarning")

#: The consumer project's test files, run together in ONE in-process pytest session (as respx tests
#: its plugin): each test below checks the outcome of its own file.
CONSUMER_CONFTEST = """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""
CONSUMER_TESTS = {
    "test_backoff": """
import time

import anyio
import pytest

def test_sync(sora2_client, fake_apikley, monkeypatch):
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    fake_apikley.fail_next("credits", code=455, times=2)
    assert sora2_client.get_credits() == 100.0
    assert [r.operation for r in fake_apikley.requests] == ["credits"] * 3
    assert len(pauses) == 2 and max(pauses) <= 0.005  # not the real 0.5 s and 1 s backoff

@pytest.mark.anyio
async def test_async(async_sora2_client, fake_apikley, monkeypatch):
    pauses = []

    async def record(seconds):
        pauses.append(seconds)

    monkeypatch.setattr(anyio, "sleep", record)
    fake_apikley.fail_next("credits", code=455, times=2)
    assert await async_sora2_client.get_credits() == 100.0
    assert [r.operation for r in fake_apikley.requests] == ["credits"] * 3
    assert len(pauses) == 2 and max(pauses) <= 0.005
""",
    "test_fresh": """
import httpx

def test_first(fake_apikley):
    fake_apikley.credits = 1
    response = httpx.get(fake_apikley.base_url + "/api/v1/chat/credit",
                         headers={"Authorization": "Bearer " + fake_apikley.api_key})
    assert response.json()["data"] == 1
    assert fake_apikley.upload_base_url == fake_apikley.base_url + "/file-upload"

def test_second(fake_apikley):
    assert fake_apikley.credits == 100.0
    assert fake_apikley.requests == []
    assert fake_apikley.time_scale == 0.001
""",
    "test_options": """
import pytest

@pytest.fixture
def fake_apikley_options():
    return {"initial_credits": 7, "api_key": "consumer-key"}

def test_options(fake_apikley, sora2_client):
    assert fake_apikley.api_key == "consumer-key"
    assert sora2_client.get_credits() == 7

@pytest.mark.fake_apikley(initial_credits=3, error_style="http")
def test_marker_wins(fake_apikley):
    assert (fake_apikley.credits, fake_apikley.error_style) == (3, "http")
    assert fake_apikley.api_key == "consumer-key"
""",
    "test_async": """
import pytest

@pytest.mark.anyio
async def test_async(async_sora2_client, fake_apikley):
    video = await async_sora2_client.upload_video("tests/data/character.mp4")
    task = await async_sora2_client.create_character_and_wait(video.download_url)
    assert task.character_id.startswith("char_")
    assert [r.operation for r in fake_apikley.requests][:2] == ["fileStreamUpload", "createTask"]
""",
}


def _make_consumer(pytester: pytest.Pytester) -> pytest.Pytester:
    """A consumer project with a clip in tests/data and strict settings like ours, plugin loaded by name."""
    data = pytester.path / "tests" / "data"
    data.mkdir(parents=True)
    shutil.copy(CHARACTER, data / "character.mp4")
    pytester.makeini("[pytest]\naddopts = --strict-markers -p no:cacheprovider\nfilterwarnings = error\n")
    return pytester


@pytest.fixture
def consumer(pytester: pytest.Pytester) -> pytest.Pytester:
    """The consumer project, empty: for the runs that need a project of their own."""
    return _make_consumer(pytester)


class ConsumerRun:
    """The outcome of the one consumer run, per test file: ``{"test_fresh": {"passed": 2}, ...}``."""

    def __init__(self, recorder: pytest.HookRecorder) -> None:
        self.outcomes: dict[str, dict[str, int]] = {}
        self.failures: list[str] = []
        for report in recorder.getreports("pytest_runtest_logreport"):
            if report.when == "call" or report.outcome != "passed":
                file = report.nodeid.split("::", 1)[0].removesuffix(".py")
                counts = self.outcomes.setdefault(file, {})
                counts[report.outcome] = counts.get(report.outcome, 0) + 1
                if report.outcome != "passed":
                    self.failures.append(f"{report.nodeid}: {report.longreprtext}")
        self.collection_errors = [
            str(report.longrepr) for report in recorder.getreports("pytest_collectreport") if report.failed
        ]

    def assert_file(self, name: str, passed: int) -> None:
        """Assert the consumer's ``name``.py ran ``passed`` tests, all passing."""
        assert not self.collection_errors, self.collection_errors
        assert self.outcomes.get(name) == {"passed": passed}, (self.outcomes, self.failures)


@pytest.fixture(scope="module")
def _consumer_runs() -> dict[str, ConsumerRun]:
    """Holds the one consumer run of this module (made by the first test that needs it)."""
    return {}


@pytest.fixture
def consumer_run(_consumer_runs: dict[str, ConsumerRun], pytester: pytest.Pytester) -> ConsumerRun:
    """The README example and every consumer test file, run once, in process, with the plugin loaded."""
    if "run" not in _consumer_runs:
        project = _make_consumer(pytester)
        project.makeconftest(CONSUMER_CONFTEST)
        project.makepyfile(test_readme=readme_example(), **CONSUMER_TESTS)
        _consumer_runs["run"] = ConsumerRun(project.inline_run("-q", *PLUGIN_ARGS))
    return _consumer_runs["run"]


def test_the_readme_example_passes_as_written(consumer_run: ConsumerRun) -> None:
    assert "def test_a_clip_becomes_a_character(sora2_client, fake_apikley):" in readme_example()
    consumer_run.assert_file("test_readme", passed=3)


def test_the_bound_clients_retry_without_really_waiting(consumer_run: ConsumerRun) -> None:
    consumer_run.assert_file("test_backoff", passed=2)


def test_fixtures_give_a_fresh_running_fake_per_test(consumer_run: ConsumerRun) -> None:
    consumer_run.assert_file("test_fresh", passed=2)


def test_options_fixture_and_marker_configure_the_fake(consumer_run: ConsumerRun) -> None:
    consumer_run.assert_file("test_options", passed=2)


def test_the_async_client_fixture(consumer_run: ConsumerRun) -> None:
    consumer_run.assert_file("test_async", passed=1)


@pytest.mark.prism
def test_the_prism_mock_fixture(consumer: pytest.Pytester) -> None:
    consumer.makepyfile(
        test_prism="""
        import httpx

        def test_mock(prism_mock):
            response = httpx.get(prism_mock.base_url + "/api/v1/chat/credit",
                                 headers={"Authorization": "Bearer any"}, timeout=30)
            assert response.json()["code"] == 200
        """
    )
    consumer.runpytest_inprocess("-q", *PLUGIN_ARGS).assert_outcomes(passed=1)


def test_the_prism_mock_fixture_fails_clearly_without_prism(
    consumer: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    consumer.makepyfile(test_noprism="def test_mock(prism_mock):\n    pass\n")
    monkeypatch.delenv("SORA2_PRISM_COMMAND", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no node on the PATH
    result = consumer.runpytest_inprocess("-q", *PLUGIN_ARGS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*PrismNotFoundError: Node.js is not installed*"])


def test_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, sora2_characters.pytest_plugin; "
        "names = ('starlette', 'uvicorn', 'sora2_characters.testing'); "
        "heavy = sorted(m for m in names if m in sys.modules); "
        "print(heavy)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_the_plugin_is_registered_through_the_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-q")
    result.stdout.fnmatch_lines(["*fixtures defined from sora2_characters.pytest_plugin*"])
    for name in ("fake_apikley", "fake_apikley_options", "sora2_client", "async_sora2_client", "prism_mock"):
        result.stdout.fnmatch_lines([f"{name}*-- *sora2_characters/pytest_plugin.py:*"])
