"""``sora2_characters._cli._progress``: the plain one-line-per-state reporter and the live rich display."""

from __future__ import annotations

import io
import re

import pytest

from sora2_characters import (
    TaskInfo,
    TaskState,
)
from sora2_characters._cli._output import Output, Redactor
from sora2_characters._cli._progress import PlainProgress, RichProgress, make_reporter

TASK = "task_sora-2-characters_1"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def info(state: str, progress: int | None = None) -> TaskInfo:
    return TaskInfo(task_id=TASK, model="sora-2-characters", state=TaskState(state), progress=progress)


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
