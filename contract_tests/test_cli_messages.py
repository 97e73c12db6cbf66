"""The command line speaks its own language: options, files and environment variables, never the library's.

Runs :func:`sora2_characters._cli._app.run` in process against a fake Apikley (or the embedded one),
with pytest capturing stdout and stderr. Covers: every option checked before anything is uploaded or
sent, errors naming the option or the file (``"field"`` in ``--json``), the 401 hint, ``--quiet``,
the embedded fake's warning on ``create`` without ``--wait``, and ``wait`` on an unknown id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from sora2_characters._cli import _app
from sora2_characters._cli._messages import FIELD_OPTIONS, for_cli
from sora2_characters._exceptions import InvalidInputError
from sora2_characters._polling import NOT_FOUND_GRACE_S
from sora2_characters.testing import FakeApikley, sample_clip

DATA = Path(__file__).resolve().parent / "data"
CANARY = "sk-canary-key-4242"
#: Words of the library's Python API that a command-line user cannot act on.
LIBRARY_WORDS = (
    "api_key=",
    "allow_insecure_http",
    "character_prompt",
    "safety_instruction",
    "callback_url",
    "video_url",
    "upload_base_url=",
    "base_url=",
)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApikley]:
    with FakeApikley(api_key=CANARY, time_scale=0.001) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeApikley, monkeypatch: pytest.MonkeyPatch) -> FakeApikley:
    server.reset()
    server.time_scale = 0.001
    for name in ("APIKLEY_API_KEY", "APIKLEY_BASE_URL", "APIKLEY_UPLOAD_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APIKLEY_BASE_URL", server.base_url)
    monkeypatch.setenv("APIKLEY_UPLOAD_BASE_URL", server.upload_base_url)
    monkeypatch.setenv("APIKLEY_API_KEY", CANARY)
    return server


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APIKLEY_API_KEY", "APIKLEY_BASE_URL", "APIKLEY_UPLOAD_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = _app.run(list(args))
    out, err = capsys.readouterr()
    assert CANARY not in out + err
    return code, out, err


def json_error(out: str) -> dict[str, Any]:
    (line,) = out.splitlines()
    error: dict[str, Any] = json.loads(line)["error"]
    return error


# --- every option is checked before anything is uploaded or sent --------------------------------------


@pytest.mark.parametrize(
    ("args", "field", "needle"),
    [
        (["--callback-url", "notaurl"], "--callback-url", "must be an absolute http:// or https:// URL"),
        (["--prompt", "x" * 5001], "--prompt", "5001 characters long; the limit is 5000"),
        (["--safety", "x" * 5001], "--safety", "the limit is 5000"),
        (["--prompt", "\ud800"], "--prompt", "unpaired surrogates"),
    ],
)
def test_a_bad_option_is_refused_before_the_clip_is_uploaded(
    fake: FakeApikley, capsys: pytest.CaptureFixture[str], args: list[str], field: str, needle: str
) -> None:
    code, out, _ = cli(capsys, "create", "--video", str(sample_clip()), *args, "--json")

    assert code == 2
    error = json_error(out)
    assert (error["type"], error["field"]) == ("InvalidInputError", field)
    assert needle in error["message"]
    assert fake.requests == []


def test_a_bad_video_url_names_the_option(fake: FakeApikley, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "create", "--video-url", "ftp://example.com/a.mp4")

    assert code == 2
    assert "error: InvalidInputError: --video-url: must be an absolute http:// or https:// URL" in err
    assert fake.requests == []


@pytest.mark.parametrize(
    ("clip", "needle"),
    [
        ("clip-2s.mov", "remux it to mp4 first: ffmpeg -i in.mov -c copy out.mp4"),
        ("clip-2s.mkv", "ffmpeg -i in.mkv -c copy out.mp4"),
        ("clip-6s.mp4", "the video lasts 6.00 s; it must be 1 to 4 s long"),
    ],
)
def test_a_refused_clip_names_the_file(
    fake: FakeApikley, capsys: pytest.CaptureFixture[str], clip: str, needle: str
) -> None:
    path = str(DATA / clip)

    code, out, _ = cli(capsys, "create", "--video", path, "--json")

    assert code == 2
    error = json_error(out)
    assert error["field"] == f"--video {path}"
    assert needle in error["message"]
    assert fake.requests == []


def test_upload_names_its_path_argument(fake: FakeApikley, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(DATA / "clip-0_5s.mp4")

    code, _, err = cli(capsys, "upload", path)

    assert code == 2
    assert f"error: InvalidInputError: {path}: the video lasts 0.50 s" in err


def test_usage_errors_in_json_carry_the_option(fake: FakeApikley, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "wait", "task-1", "--max-wait", "-1", "--json")

    assert code == 2
    error = json_error(out)
    assert (error["type"], error["field"]) == ("UsageError", "--max-wait")


# --- the key: options and environment, never api_key=..., never its value --------------------------------


@pytest.mark.parametrize(
    ("args", "env", "needles"),
    [
        pytest.param(
            ["--base-url", "https://example.invalid", "credits"],
            {},
            ["--api-key: no API key: pass --api-key KEY or set APIKLEY_API_KEY"],
            id="no-key",
        ),
        pytest.param(
            ["--api-key", "two words", "credits"],
            {},
            ["--api-key: must be printable ASCII"],
            id="bad-key-option",
        ),
        pytest.param(
            ["credits"],
            {"APIKLEY_API_KEY": "two words"},
            ["APIKLEY_API_KEY: must be printable ASCII"],
            id="bad-key-environment",
        ),
        pytest.param(
            ["--api-key", "abcdef", "--base-url", "http://example.invalid", "credits"],
            {},
            ["--base-url: uses plain http to a non-loopback host", "use https"],
            id="plain-http",
        ),
    ],
)
def test_key_and_url_errors_speak_the_cli(  # noqa: PLR0917 - fixtures and parameters
    embedded: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    needles: list[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    code, out, err = cli(capsys, *args)

    assert code == 2
    for needle in needles:
        assert needle in err
    for word in LIBRARY_WORDS:
        assert word not in out + err


def test_a_401_from_the_option_says_where_the_key_came_from(
    fake: FakeApikley, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("APIKLEY_API_KEY")

    code, _, err = cli(capsys, "--api-key", "sk-wrong-key-777", "credits")

    assert code == 3
    assert "Check the key: it was read from the --api-key option" in err
    assert "sk-wrong-key-777" not in err


def test_a_401_from_the_environment_says_so(
    fake: FakeApikley, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("APIKLEY_API_KEY", "sk-wrong-key-888")

    code, out, err = cli(capsys, "credits", "--json")

    assert code == 3
    assert json_error(out)["type"] == "AuthenticationError"
    assert "it was read from the APIKLEY_API_KEY environment variable" in err
    assert "sk-wrong-key-888" not in out + err


# --- --quiet: the result alone --------------------------------------------------------------------------


def test_quiet_create_and_wait_prints_only_the_character_id(
    fake: FakeApikley, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys, "create", "--video", str(sample_clip()), "--wait", "--poll-interval", "0.01", "--quiet"
    )

    assert code == 0
    assert err == ""
    (task,) = fake.tasks
    assert out == f"{task.character_id}\n"


def test_quiet_create_without_wait_prints_only_the_task_id(
    fake: FakeApikley, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "create", "--video-url", "https://example.com/clip.mp4", "-q")

    assert code == 0
    assert err == ""
    (task,) = fake.tasks
    assert out == f"{task.task_id}\n"


def test_quiet_upload_status_and_credits(fake: FakeApikley, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "upload", str(sample_clip()), "-q")
    assert code == 0
    (stored,) = fake.uploaded_files.values()
    assert out.startswith(fake.base_url)
    assert out.endswith(f"/{stored.file_path}\n")

    code, out, _ = cli(capsys, "credits", "-q")
    assert code == 0
    assert float(out) == fake.credits

    code, task_id, _ = cli(capsys, "create", "--video-url", "https://example.com/clip.mp4", "-q")
    code, out, err = cli(capsys, "status", task_id.strip(), "--quiet")
    assert (code, err) == (0, "")
    assert out.strip() in {"waiting", "queuing", "generating", "success"}


def test_quiet_errors_still_reach_stderr(fake: FakeApikley, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "create", "--video-url", "notaurl", "-q")

    assert code == 2
    assert out == ""
    assert err.startswith("error: InvalidInputError: --video-url:")


# --- the embedded fake ------------------------------------------------------------------------------------


def test_create_without_wait_on_the_embedded_fake_says_the_task_dies_with_it(
    embedded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "create", "--video", str(sample_clip()), "--json")

    assert code == 0
    task_id = json.loads(out)["task_id"]
    assert "lives only as long as this command" in err
    assert f"status {task_id}' afterwards cannot find it" in err
    assert "--wait" in err
    assert "sora2-characters mock" in err


# --- wait on an unknown id ----------------------------------------------------------------------------------


class FakeClock:
    """Stands for the ``time`` module in ``_app``: sleeping moves the clock, never the wall."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_on_an_unknown_id_shows_progress_then_says_so_plainly(
    fake: FakeApikley, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(_app, "time", clock)

    code, out, err = cli(capsys, "wait", "task_no_such_id", "--poll-interval", "2")

    assert code == 5
    assert out == ""
    looking = [line for line in err.splitlines() if "not found yet" in line]
    assert len(looking) == len(clock.sleeps) >= 3
    assert sum(clock.sleeps) == pytest.approx(NOT_FOUND_GRACE_S)
    assert "no task task_no_such_id (still not found after 10 s): check the id" in err


def test_wait_finds_a_task_that_shows_up_during_the_grace_period(
    fake: FakeApikley, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FakeClock()
    created: list[str] = []

    def sleep(seconds: float) -> None:
        FakeClock.sleep(clock, seconds)
        if not created:  # the task appears while the CLI looks for it
            fake.seed_task(task_id="task_late", state="success", character_id="char_late")
            created.append("task_late")

    monkeypatch.setattr(clock, "sleep", sleep)
    monkeypatch.setattr(_app, "time", clock)

    code, out, err = cli(capsys, "wait", "task_late", "--poll-interval", "0.01", "-q")

    assert code == 0, err
    assert out == "char_late\n"


# --- the mapping itself ----------------------------------------------------------------------------------


def _cli_names() -> set[str]:
    names: set[str] = set()
    commands = [_app.cli, *_app.cli.commands.values()]
    for command in commands:
        for param in command.params:
            names.update(param.opts if isinstance(param, click.Option) else [param.human_readable_name])
    return names


def test_every_mapped_field_is_an_option_the_cli_has() -> None:
    names = _cli_names()

    assert set(FIELD_OPTIONS.values()) <= names


def test_a_field_already_in_cli_terms_is_left_alone() -> None:
    error = InvalidInputError("--prompt", "is too long")

    assert for_cli(error) is error
    assert for_cli(InvalidInputError("character_prompt", "is too long")).field == "--prompt"
    assert for_cli(InvalidInputError("source", "is empty"), fields={"source": "clip.mp4"}).field == "clip.mp4"


# --- the library's hints, in CLI terms ------------------------------------------------------------------


def test_a_failed_task_says_where_to_look_without_python_calls(
    fake: FakeApikley, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail_task(fail_code="500", fail_msg="Generation failed")

    code, out, err = cli(
        capsys, "create", "--video", str(sample_clip()), "--wait", "--poll-interval", "0.01", "--json"
    )

    assert code == 10
    (task,) = fake.tasks
    assert json_error(out)["message"].endswith("submitting again may succeed)")
    assert f"`sora2-characters status {task.task_id}`" in err
    assert "client." not in out + err


def test_a_create_whose_outcome_is_unknown_says_a_task_may_exist(
    fake: FakeApikley, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.drop_connection_next("createTask", when="after_read")

    code, _, err = cli(capsys, "create", "--video-url", "https://example.com/clip.mp4")

    assert code == 9
    assert "A task may have been created (and billed)" in err
    assert len(fake.tasks) == 1


def test_help_says_how_to_script_and_complete(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--help")

    assert code == 0
    assert "--quiet prints only the result" in out
    assert 'eval "$(_SORA2_CHARACTERS_COMPLETE=bash_source sora2-characters)"' in out
