"""The project's routine jobs: ``nox -s tests``, ``lint``, ``typecheck``, ``generate``, ``spec-diff``,
``update-spec``, ``demo``, ``bench``, ``pact``.

Sessions run on the Python that runs nox (3.11 or newer).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "lint", "typecheck"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
OPENAPI_TOOLS = ROOT / "openapi" / "tools"
#: pytest-xdist: four workers, each test file on one worker (its module fixtures, a fake or an Optic
#: run, start once), handed out in collection order, which conftest.py starts with the slowest files.
#: Four on two cores, because much of the suite waits (for servers, subprocesses and the fake's
#: clock) rather than computes. ``nox -s tests -- -n 0`` runs in one process.
PYTEST_WORKERS = ("-n", "4", "--dist", "loadfile", "--no-loadscope-reorder")
#: The project's own Python sources outside site-packages (an editable install's, the generated client's).
OWN_SOURCES = ("wrapper", "generated_client", "benchmarks", "openapi")


def _install(session: nox.Session, *groups: str, extras: str = "cli,server,testing") -> None:
    """Install the project (editable, with ``extras``) and the named dependency groups."""
    session.install("-e", f".[{extras}]")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


def _npm_ci(session: nox.Session, folder: Path = ROOT) -> None:
    """Install the Node tools pinned in ``folder``'s package-lock.json (Prism; Optic in openapi/tools).

    ``--ignore-scripts``: no tool we run needs an install script. swagger-mock-validator's postinstall
    (patch-package on ajv 8.17.1, while the lock holds 8.20.0, so nothing is patched when it works)
    failed one fresh ``npm ci`` in four here; Optic's are a telemetry ping (@scarf/scarf) and a banner.
    """
    if shutil.which("npm") is None:
        session.error("npm is missing: install Node.js 20 or newer; the contract tests run Prism and Optic")
    with session.chdir(folder):
        session.run(
            "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error", external=True
        )


def _warm_caches(session: nox.Session) -> subprocess.Popen[bytes]:
    """Compile our sources, then start a collection in the background that fills pytest's caches.

    Each xdist worker collects every test file, and pytest rewrites the asserts of each test module
    (then caches the result as bytecode): on a fresh clone the four workers did that same work side
    by side, about 3 s of CPU each. One collection while ``npm ci`` runs does it once.
    """
    session.run("python", "-m", "compileall", "-q", "-x", "node_modules", *OWN_SOURCES)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PATH"] = f"{session.bin}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.Popen(  # noqa: S603 - the session's own pytest
        [str(Path(session.bin) / "python"), "-m", "pytest", "--collect-only", "-q"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite: units, properties, the drift check and the Prism contract tests."""
    _install(session, "test")
    warming = _warm_caches(session)
    try:
        _npm_ci(session)
        _npm_ci(session, OPENAPI_TOOLS)
        warming.wait(timeout=300)  # only a cache: the run below does whatever it left undone
    finally:
        if warming.poll() is None:
            warming.kill()
            warming.wait()
    # Bytecode caches on, even where the environment turns them off: without them every xdist worker
    # and every subprocess the suite starts (the CLI, the fakes, README consumers) recompiles the
    # package, and pytest re-rewrites the asserts of every plugin's whole package (hypothesis...):
    # collection alone took twice the CPU.
    session.run("pytest", *PYTEST_WORKERS, *session.posargs, env={"PYTHONDONTWRITEBYTECODE": None})


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff's lint and format checks (the generated client is excluded)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the wrapper, tests and benchmarks; the generated client on its own."""
    _install(session, "typecheck")
    session.run("mypy")
    session.run("mypy", "--config-file=", "--python-version=3.11", "generated_client/sora2_characters_api")


@nox.session
def generate(session: nox.Session) -> None:
    """Bundle openapi/ and regenerate generated_client/sora2_characters_api from it."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "generate"))
    session.run("python", "openapi/generate.py")


@nox.session(name="spec-diff")
def spec_diff(session: nox.Session) -> None:
    """Classify the changes between two specs: ``nox -s spec-diff -- OLD NEW [--json-out PATH]``."""
    if len(session.posargs) < 2:
        session.error("usage: nox -s spec-diff -- OLD NEW [--json-out PATH]")
    session.install(*nox.project.dependency_groups(PYPROJECT, "spec"))
    _npm_ci(session, OPENAPI_TOOLS)
    session.run("python", "openapi/spec_diff.py", *session.posargs)


@nox.session(name="update-spec")
def update_spec(session: nox.Session) -> None:
    """Take a new spec: validate, diff, replace the source, rebundle, regenerate, and say what the
    wrapper must follow (``nox -s update-spec -- NEW_SPEC [--source NAME]``)."""
    if not session.posargs:
        session.error("usage: nox -s update-spec -- NEW_SPEC [--source NAME]")
    _install(session, "spec", "generate")
    _npm_ci(session, OPENAPI_TOOLS)
    session.run("python", "openapi/update_spec.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job on the embedded fake: the sample clip in, a character_id out (no key, no network)."""
    session.install(".[cli]")
    session.run("sora2-characters", "create", "--video", "examples/character.mp4", "--wait", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Speed and memory benchmarks: a table on stdout and benchmarks/results.json (``-- --quick``: smoke).

    No ``cli`` extra: httpx imports click and rich when they are installed, which would blur the
    import figures. ``aiohttp`` puts the optional transport beside the default in the fan-out.
    """
    _install(session, "bench", extras="server,aiohttp")
    session.run("python", "-m", "benchmarks.run", *session.posargs)
    # The harness's smoke: its quick run reports every figure (the suite deselects these, marker bench).
    _install(session, "test")
    session.run("pytest", "-m", "bench", "contract_tests/test_benchmarks_smoke.py")


@nox.session
def pact(session: nox.Session) -> None:
    """Regenerate pacts/sora2-characters-python-apikley.json from the consumer tests; verify and check it."""
    _install(session, "test", extras="cli,server,testing,contracts")
    _npm_ci(session)
    session.env["PACT_DO_NOT_TRACK"] = "true"
    session.run("python", "-m", "contract_tests.test_pact_consumer", "pacts")
    session.run("pytest", "contract_tests/test_pact_consumer.py", *session.posargs)
