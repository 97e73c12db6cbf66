"""In-process tests of the CLI's pieces: the exit-code table, redaction, JSON errors and progress."""

from __future__ import annotations

import io
import json
import re

import pytest

from sora2_characters import (
    APIConnectionError,
    APITimeoutError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    Sora2CharactersError,
    TaskFailedError,
    TaskInfo,
    TaskState,
    WaitTimeoutError,
)
from sora2_characters._cli._exits import EXIT_CODES, exit_code_for, exit_code_markdown
from sora2_characters._cli._output import Output, Redactor, error_payload
from sora2_characters._cli._progress import PlainProgress, RichProgress, make_reporter

TASK = "task_sora-2-characters_1"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def info(state: str, progress: int | None = None) -> TaskInfo:
    return TaskInfo(task_id=TASK, model="sora-2-characters", state=TaskState(state), progress=progress)


def test_most_specific_class_wins() -> None:
    assert exit_code_for(APITimeoutError("slow")) == 12
    assert exit_code_for(APIConnectionError("refused")) == 9
    assert exit_code_for(NotFoundError("gone", code=404)) == 5
    assert exit_code_for(RateLimitError("slow down", code=429)) == 6
    assert exit_code_for(InvalidInputError("source", "too long")) == 2
    assert exit_code_for(TaskFailedError(info("fail"))) == 10
    assert exit_code_for(WaitTimeoutError(TASK, TaskState.QUEUING, 1.0)) == 11
    assert exit_code_for(KeyboardInterrupt()) == 130
    assert exit_code_for(Sora2CharactersError("other")) == 1
    assert exit_code_for(RuntimeError("bug")) == 1


def test_every_class_is_reachable_in_table_order() -> None:
    # No class is shadowed by an earlier, more general one.
    for index, (cls, _code, _meaning) in enumerate(EXIT_CODES):
        assert not any(issubclass(cls, earlier) for earlier, _c, _m in EXIT_CODES[:index])


def test_markdown_table_lists_every_code() -> None:
    table = exit_code_markdown()
    for cls, code, _meaning in EXIT_CODES:
        assert f"| {code} | `{cls.__name__}` |" in table
    assert "| 130 | `KeyboardInterrupt` |" in table


def test_redactor_masks_every_registered_secret() -> None:
    redact = Redactor(["sk-SECRET-canary-123", None, " sk-other-key ", "ab"])
    assert redact("key sk-SECRET-canary-123 and sk-other-key") == "key *** and ***"
    assert redact("ab stays: too short to be a key") == "ab stays: too short to be a key"


def test_output_writes_one_redacted_json_object() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    output = Output(Redactor(["sk-secret-1"]), json_mode=True, stdout=stdout, stderr=stderr)
    output.error(RateLimitError("key sk-secret-1 is over", code=429, http_status=429), task_id=TASK)
    assert json.loads(stdout.getvalue()) == {
        "error": {"type": "RateLimitError", "code": 429, "message": "key *** is over", "http_status": 429},
        "task_id": TASK,
    }
    with pytest.raises(RuntimeError):
        output.result({"again": True})


def test_error_payload_of_a_wait_timeout_keeps_the_last_state() -> None:
    payload = error_payload(WaitTimeoutError(TASK, TaskState.GENERATING, 5.0))
    assert payload["task_id"] == TASK
    assert payload["state"] == "generating"
    assert payload["error"]["code"] is None


def test_plain_progress_prints_one_line_per_state() -> None:
    stderr = io.StringIO()
    ticks = iter([0.0, 0.0, 0.5, 1.0, 2.0])
    reporter = PlainProgress(
        TASK, Output(Redactor(), json_mode=False, stderr=stderr), clock=lambda: next(ticks)
    )
    with reporter:
        for update in (info("waiting", 0), info("generating", 10), info("generating", 40)):
            reporter(update)
        reporter(info("success", 100))
    lines = stderr.getvalue().splitlines()
    assert lines[0].endswith("polling (Ctrl-C stops waiting; the task keeps running)")
    assert [line.split("] ", 1)[1] for line in lines[1:]] == [
        f"{TASK} waiting",
        f"{TASK} generating",
        f"{TASK} success",
    ]
    assert lines[-1].startswith("[   2.0s]")  # the repeated state did not read the clock


def test_unknown_state_is_shown_as_such() -> None:
    stderr = io.StringIO()
    reporter = PlainProgress(TASK, Output(Redactor(), json_mode=False, stderr=stderr))
    reporter(info("paused"))
    assert "paused (unknown state, still waiting)" in stderr.getvalue()


def test_terminal_gets_the_live_rich_display() -> None:
    stderr = Terminal()
    output = Output(Redactor(), json_mode=False, stderr=stderr)
    assert isinstance(
        make_reporter(TASK, Output(Redactor(), json_mode=False, stderr=io.StringIO())), PlainProgress
    )
    reporter = make_reporter(TASK, output)
    assert isinstance(reporter, RichProgress)
    with reporter:
        reporter(info("generating", 50))
        reporter(info("success", 100))
    text = stderr.getvalue()
    assert "\x1b[" in text  # a live display, redrawn in place
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert f"{TASK} submitted" in plain
    assert f"{TASK} success" in plain
    assert "0:00:0" in text  # the elapsed time


@pytest.mark.parametrize("state", ["[/bold]", "[red]loud", "[link=x]"])
def test_the_live_display_shows_server_text_as_written(state: str) -> None:
    stderr = Terminal()
    reporter = RichProgress("task_[/]1", Output(Redactor(), json_mode=False, stderr=stderr))
    with reporter:
        reporter(TaskInfo(task_id="task_[/]1", model="sora-2-characters", state=TaskState(state)))
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stderr.getvalue())
    assert f"task_[/]1 {state}" in plain  # the last line drawn, on stop
