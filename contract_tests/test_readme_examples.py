"""Every code block of the README runs as written, in a project that installed the package as it says.

The rules are in the HTML comment at the top of ``README.md``: a python block with test functions is a
consumer's test file, run by pytest alone in an empty scratch project; any other python block is a
script run there; a shell block runs with bash in a copy of the checkout. All of them use one venv per
session that did ``pip install <checkout>[cli,contracts,testing]`` (so the package comes from a built
wheel, never from this source tree), with no ``APIKLEY_*`` variable set. A block that cannot run is marked
``<!-- not run: REASON -->`` on the line before its fence, and must give a reason.

Each block is one test, named after its heading and its index under that heading, so a README edit
that breaks an example fails a test naming the block. Blocks added to the README are covered without
touching this file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PRISM = ROOT / "node_modules" / ".bin" / "prism"
INSTALL_TIMEOUT = 900.0
RUN_TIMEOUT = 300.0

_FENCE = re.compile(r"^```(?P<lang>[\w+-]*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(?P<title>.+?)\s*$")
_MARKER = re.compile(r"^<!--\s*not run\b\s*:?(?P<reason>.*?)-->\s*$")
_TEST_FUNCTION = re.compile(r"^(async\s+)?def test_", re.MULTILINE)
SHELL_LANGS = frozenset({"", "sh", "bash", "shell", "console"})


@attrs.frozen
class Block:
    """One fenced code block of the README."""

    heading: str
    index: int
    lang: str
    code: str
    line: int
    skip_reason: str | None

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-") or "top"
        return f"{slug}-{self.index}"

    @property
    def kind(self) -> str:
        if self.lang == "python":
            return "test" if _TEST_FUNCTION.search(self.code) else "script"
        if self.lang in SHELL_LANGS:
            return "shell"
        return "other"


def readme_blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, with its heading, index under it and skip marker."""
    blocks: list[Block] = []
    heading, index, previous = "", 0, ""
    lines = text.splitlines()
    position = 0
    while position < len(lines):
        line = lines[position]
        if found := _HEADING.match(line):
            heading, index = found["title"], 0
        fence = _FENCE.match(line)
        if fence is None:
            if line.strip():
                previous = line.strip()
            position += 1
            continue
        end = position + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        marker = _MARKER.match(previous)
        blocks.append(
            Block(
                heading=heading,
                index=index,
                lang=fence["lang"],
                code="\n".join(lines[position + 1 : end]) + "\n",
                line=position + 1,
                skip_reason=marker["reason"].strip() if marker else None,
            )
        )
        index += 1
        previous = ""
        position = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
RUNNABLE = [pytest.param(block, id=block.id) for block in BLOCKS if block.skip_reason is None]


# --- the mechanism ------------------------------------------------------------------------------------


def test_the_parser_sees_headings_markers_and_indexes() -> None:
    text = (
        "## Quick start\n\n```\necho one\n```\n\n"
        "<!-- not run: needs a real API key -->\n```python\nx = 1\n```\n"
        "### Next\n<!-- not run -->\n```sh\nfalse\n```\n"
    )

    blocks = readme_blocks(text)

    assert [(block.id, block.kind, block.skip_reason) for block in blocks] == [
        ("quick-start-0", "shell", None),
        ("quick-start-1", "script", "needs a real API key"),
        ("next-0", "shell", ""),
    ]


def test_the_readme_documents_the_marker_at_the_top() -> None:
    source = README.read_text(encoding="utf-8")

    assert source.startswith("<!--")
    assert "not run:" in source[: source.index("-->")]
    assert "contract_tests/test_readme_examples.py" in source[: source.index("-->")]


def test_every_block_that_is_not_run_says_why() -> None:
    unexplained = [block.id for block in BLOCKS if block.skip_reason is not None and not block.skip_reason]

    assert unexplained == []


def test_every_block_in_another_language_is_marked() -> None:
    unmarked = [block.id for block in BLOCKS if block.kind == "other" and block.skip_reason is None]

    assert unmarked == []


def test_the_examples_the_first_hour_needs_are_run() -> None:
    run = {block.id: block for block in BLOCKS if block.skip_reason is None}
    codes = "\n".join(block.code for block in run.values())

    assert any("create --video examples/character.mp4 --wait" in block.code for block in run.values())
    assert "def test_a_clip_becomes_a_character(sora2_client, fake_apikley):" in codes
    assert "@pytest.mark.anyio" in codes
    assert "prism_mock.base_url" in codes
    assert "--quiet" in codes
    assert "_SORA2_CHARACTERS_COMPLETE" in codes
    assert "examples/next_video.py" in codes


# --- the consumer's environment -----------------------------------------------------------------------


@attrs.frozen
class Consumer:
    """A venv with the package installed from the checkout as the README says, and the env to run in."""

    bin: Path
    env: dict[str, str]

    @property
    def python(self) -> str:
        return str(self.bin / "python")


@pytest.fixture(scope="session")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Consumer:
    """One venv per session: ``pip install <checkout>[cli,contracts,testing]`` (a wheel, not editable).

    The suite's own pip installs into it (``pip --python``): the consumer needs no pip of its own,
    and making one (ensurepip, then pip's first start) cost 8 of the fixture's 14 s of CPU.
    """
    home = tmp_path_factory.mktemp("consumer-venv")
    venv.EnvBuilder(with_pip=False, clear=True).create(home)
    bin_dir = home / ("Scripts" if sys.platform == "win32" else "bin")
    pip = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python")]
    subprocess.run(
        [*pip, "install", "--quiet", f"{ROOT}[cli,contracts,testing]"],
        check=True,
        capture_output=True,
        timeout=INSTALL_TIMEOUT,
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APIKLEY_", "PYTEST_", "VIRTUAL_ENV"))
    }
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    env.pop("PYTHONPATH", None)
    if PRISM.is_file():  # the README's way to name a Prism outside the consumer's node_modules
        env["SORA2_PRISM_COMMAND"] = str(PRISM)
    return Consumer(bin=bin_dir, env=env)


def _run_block(argv: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a README block in its own process group; past RUN_TIMEOUT the whole group is killed.

    A block that starts servers (uvicorn workers, a fake) must not leave them running, whether it hangs
    or ends: a plain ``subprocess.run`` timeout kills only the shell, not its children.
    """
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            stderr += f"\n[killed with its process group after {RUN_TIMEOUT:g} s]"
        finally:
            with contextlib.suppress(ProcessLookupError):  # what the block left in the background
                os.killpg(process.pid, signal.SIGKILL)
        return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def test_the_consumer_gets_the_package_and_its_clip_from_the_wheel(consumer: Consumer) -> None:
    code = (
        "import sora2_characters as s, sora2_characters.testing as t;"
        "print(s.__file__); print(t.sample_clip())"
    )
    result = subprocess.run(
        [consumer.python, "-c", code],
        env=consumer.env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=True,
    )
    module, clip = result.stdout.splitlines()

    assert not Path(module).is_relative_to(ROOT / "wrapper")
    assert Path(clip).name == "character.mp4"
    assert Path(clip).parent == Path(module).parent
    assert Path(clip).read_bytes() == (ROOT / "examples" / "character.mp4").read_bytes()


def checkout_copy(target: Path) -> Path:
    """Copy the checkout's files (tracked and untracked, not ignored) to ``target``: what a clone holds."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=RUN_TIMEOUT,
    )
    if listed.returncode == 0:
        for name in filter(None, listed.stdout.decode().split("\0")):
            source = ROOT / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
        return target
    ignored = shutil.ignore_patterns(".git", ".venv", ".nox", "node_modules", "__pycache__", "*.egg-info")
    shutil.copytree(ROOT, target, ignore=ignored, dirs_exist_ok=True)
    return target


def _report(block: Block, result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"README block {block.id!r} (line {block.line}) failed as written, exit {result.returncode}:\n"
        f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
    )


# --- every runnable block, as written ------------------------------------------------------------------


@pytest.mark.parametrize("block", RUNNABLE)
def test_readme_block_runs_as_written(block: Block, consumer: Consumer, tmp_path: Path) -> None:
    if block.kind == "test":
        project = tmp_path / "consumer-project"
        project.mkdir()
        name = f"test_readme_{block.id.replace('-', '_')}.py"
        (project / name).write_text(block.code, encoding="utf-8")
        argv = [consumer.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", name]
        cwd = project
    elif block.kind == "script":
        project = tmp_path / "consumer-project"
        project.mkdir()
        (project / "example.py").write_text(block.code, encoding="utf-8")
        argv, cwd = [consumer.python, "example.py"], project
    elif block.kind == "shell":
        cwd = checkout_copy(tmp_path / "checkout")
        argv = ["bash", "-euo", "pipefail", "-c", block.code]
    else:
        pytest.fail(f"README block {block.id!r} is in {block.lang!r}: mark it '<!-- not run: REASON -->'")

    result = _run_block(argv, cwd=cwd, env=consumer.env)

    assert result.returncode == 0, _report(block, result)
    if block.kind == "test":
        summary = result.stdout.strip().splitlines()[-1]
        assert re.search(r"\d+ passed", summary), _report(block, result)
        assert not re.search(r"skipped|xfail|deselected|warning", summary), _report(block, result)


def test_the_scripting_example_gets_the_character_id_alone(consumer: Consumer, tmp_path: Path) -> None:
    (block,) = [block for block in BLOCKS if block.heading == "Scripting" and block.skip_reason is None]
    cwd = checkout_copy(tmp_path / "checkout")

    result = _run_block(["bash", "-euo", "pipefail", "-c", block.code], cwd=cwd, env=consumer.env)

    assert result.returncode == 0, _report(block, result)
    assert re.fullmatch(r"made char_[0-9a-f]+\n", result.stdout), _report(block, result)


def test_shell_completion_defines_the_completion_function(consumer: Consumer, tmp_path: Path) -> None:
    (block,) = [
        block for block in BLOCKS if block.heading == "Shell completion" and block.skip_reason is None
    ]

    result = subprocess.run(
        ["bash", "-c", block.code + "complete -p sora2-characters\n"],
        cwd=tmp_path,
        env=consumer.env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )

    assert result.returncode == 0, _report(block, result)
    assert "sora2-characters" in result.stdout


def test_block_ids_are_unique() -> None:
    ids = [block.id for block in BLOCKS]

    assert len(ids) == len(set(ids))
