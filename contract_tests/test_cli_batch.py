"""``sora2-characters batch``: killed with SIGKILL at several points and re-run, never two tasks per row.

The fake Apikley runs in the test process; the batch runs as a child process (for the kills) or in
process through ``run`` (for the refusals). Every wait is bounded; no assertion is on elapsed time.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from contract_tests.support import CliProcess, wait_until
from sora2_characters._cli._app import run
from sora2_characters._cli._exits import EXIT_BATCH_INCOMPLETE, EXIT_OK, EXIT_USAGE
from sora2_characters._journal import Journal
from sora2_characters.testing import FakeApikley

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "character.mp4"
ROWS = 16


@pytest.fixture
def fake() -> Iterator[FakeApikley]:
    # 15 fake seconds at 0.02: a task runs about 0.3 s, long enough to be killed while waiting.
    with FakeApikley(time_scale=0.02, initial_credits=100_000) as server:
        yield server


@pytest.fixture
def env(fake: FakeApikley, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "APIKLEY_BASE_URL": fake.base_url,
        "APIKLEY_UPLOAD_BASE_URL": fake.upload_base_url,
        "APIKLEY_API_KEY": fake.api_key,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    shutil.copy(SAMPLE, tmp_path / "clip.mp4")
    path = tmp_path / "clips.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video", "prompt", "owner"])
        for index in range(1, ROWS + 1):
            video = "clip.mp4" if index % 2 else f"https://example.com/clip-{index}.mp4"
            writer.writerow([video, f"row-{index}", f"owner-{index}"])
    return path


def prompts_at(fake: FakeApikley) -> Counter[str]:
    return Counter(str(task.body.get("input", {}).get("character_prompt")) for task in fake.tasks)


def journal_rows(path: Path) -> list[tuple[int, int, str | None, str | None]]:
    if not path.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as conn:
            return conn.execute("SELECT row, creating, task_id, state FROM rows").fetchall()
    except sqlite3.Error:  # the batch is creating the tables right now
        return []


Rows = list[tuple[int, int, str | None, str | None]]


def new_since(rows: Rows, before: Rows) -> Rows:
    """The rows whose journal entry changed since ``before`` (what this run did)."""
    old = set(before)
    return [row for row in rows if row not in old]


def mid_create(rows: Rows, before: Rows) -> bool:
    return any(
        creating and task_id is None and state is None
        for _, creating, task_id, state in new_since(rows, before)
    )


def mid_wait(rows: Rows, before: Rows) -> bool:
    return sum(1 for _, _, task_id, state in new_since(rows, before) if task_id and state is None) >= 2


def some_done(rows: Rows, before: Rows) -> bool:
    done = sum(1 for *_, state in new_since(rows, before) if state == "succeeded")
    return done >= 2 and mid_create(rows, before)


def kill_when(
    args: list[str], journal: Path, env: dict[str, str], condition: Callable[[Rows, Rows], bool]
) -> None:
    before = journal_rows(journal)
    process = CliProcess(args, env=env)
    try:
        wait_until(
            lambda: condition(journal_rows(journal), before) or process.process.poll() is not None,
            timeout=60,
            what="the kill point",
        )
        if process.process.poll() is None:
            os.killpg(process.process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.stop()


def test_sigkill_at_several_points_never_holds_two_tasks_for_one_row(
    fake: FakeApikley, env: dict[str, str], manifest: Path, tmp_path: Path
) -> None:
    fake.set_latency(0.15, operation="createTask")  # a wide window to be killed in
    journal = tmp_path / "clips.csv.journal.sqlite"
    out = tmp_path / "results.jsonl"
    args = ["batch", str(manifest), "--concurrency", "4", "--poll-interval", "0.05", "--out", str(out)]
    for condition in (mid_create, mid_wait, some_done, mid_create):
        kill_when(args, journal, env, condition)
        assert max(prompts_at(fake).values(), default=0) <= 1, prompts_at(fake)
    fake.clear_faults()
    final = CliProcess(args, env=env)
    try:
        code = final.wait(timeout=120)
    finally:
        final.stop()
    assert code in {EXIT_OK, EXIT_BATCH_INCOMPLETE}, final.stderr
    counts = prompts_at(fake)
    assert max(counts.values()) == 1, counts  # never two tasks for one row
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert [result["row"] for result in results] == list(range(1, ROWS + 1))
    by_prompt = {str(task.body["input"]["character_prompt"]): task.task_id for task in fake.tasks}
    cut_off = {row for row, creating, task_id, _ in journal_rows(journal) if creating and task_id is None}
    assert cut_off, "no kill landed inside a createTask: the test did not test the unknown case"
    for result in results:
        assert result["owner"] == f"owner-{result['row']}"
        assert result["state"] in {"succeeded", "unknown"}, result
        if result["state"] == "succeeded":
            assert result["task_id"] == by_prompt[f"row-{result['row']}"]
            assert result["character_id"]
        else:  # only a row whose createTask was cut off by a kill
            assert result["row"] in cut_off
            assert result["task_id"] is None
    summary = final.stderr.strip().splitlines()[-1]
    succeeded = sum(1 for result in results if result["state"] == "succeeded")
    assert summary.startswith(
        f"batch: {ROWS} rows: {succeeded} succeeded, 0 failed, {ROWS - succeeded} unknown"
    )
    assert code == (EXIT_OK if succeeded == ROWS else EXIT_BATCH_INCOMPLETE)
    assert fake.api_key not in final.stderr + final.stdout


def test_a_clean_run_exits_0_with_results_on_stdout_and_a_summary(
    env: dict[str, str], manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "batch",
        str(manifest),
        "--poll-interval",
        "0.05",
        "--concurrency",
        "8",
        "--max-tasks-per-second",
        "500",
    ]
    assert run(args) == EXIT_OK
    captured = capsys.readouterr()
    results = [json.loads(line) for line in captured.out.splitlines()]
    assert [(r["row"], r["state"]) for r in results] == [(index, "succeeded") for index in range(1, ROWS + 1)]
    assert f"batch: {ROWS} rows: {ROWS} succeeded, 0 failed, 0 unknown, 0 pending, 0 skipped" in captured.err
    finished = re.findall(rf"^\[\s*\d+/{ROWS}\] row \d+ succeeded \S+ \S+$", captured.err, re.MULTILINE)
    assert len(finished) == ROWS  # a line per finished row off a terminal
    # Re-running the finished batch touches nothing and says the same.
    assert run(["batch", str(manifest), "--out", str(manifest.with_suffix(".out.csv"))]) == EXIT_OK
    with manifest.with_suffix(".out.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["owner"] for row in rows] == [f"owner-{index}" for index in range(1, ROWS + 1)]


def test_invalid_rows_stop_the_batch_before_any_upload(
    env: dict[str, str], fake: FakeApikley, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SAMPLE, tmp_path / "clip.mp4")
    path = tmp_path / "m.jsonl"
    lines = [{"video": "clip.mp4"}, {"video": "gone.mp4"}, {"video": "clip.mp4", "prompt": "p" * 6000}]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run(["batch", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "2 invalid row(s); nothing was uploaded" in err
    assert "row 2: video: no such file" in err
    assert "row 3: prompt: is 6000 characters long; the limit is 5000" in err
    assert fake.requests == []
    assert not (tmp_path / "m.jsonl.journal.sqlite").exists()

    out = tmp_path / "r.jsonl"
    assert run(["batch", str(path), "--skip-invalid", "--poll-interval", "0.05", "--out", str(out)]) == (
        EXIT_BATCH_INCOMPLETE
    )
    assert "1 succeeded, 0 failed, 0 unknown, 0 pending, 2 skipped" in capsys.readouterr().err
    states = [json.loads(line)["state"] for line in out.read_text().splitlines()]
    assert states == ["succeeded", "skipped", "skipped"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", "", "is empty"),
        ("clips.xlsx", "video\n", "must be CSV (.csv) or JSONL"),
        ("novideo.csv", "path\nclip.mp4\n", "has no 'video' column"),
    ],
)
def test_unusable_manifests_exit_2_with_a_clear_message(
    tmp_path: Path, name: str, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    assert run(["batch", str(path)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"error: InvalidInputError: {path}: {message}" in err
    assert "resume" not in err


def test_a_bad_out_extension_is_refused_before_anything_runs(
    env: dict[str, str], manifest: Path, fake: FakeApikley, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["batch", str(manifest), "--out", "results.xlsx"]) == EXIT_USAGE
    assert "results.xlsx: must end in .csv or .jsonl" in capsys.readouterr().err
    assert fake.requests == []


def test_journal_refusals_exit_33_and_lose_nothing(
    env: dict[str, str], manifest: Path, fake: FakeApikley, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("video\nhttps://example.com/x.mp4\n")
    journal = tmp_path / "shared.sqlite"
    assert run(["batch", str(other), "--journal", str(journal), "--poll-interval", "0.05"]) == EXIT_OK
    capsys.readouterr()
    before = journal_rows(journal)

    assert run(["batch", str(manifest), "--journal", str(journal)]) == 33
    err = capsys.readouterr().err
    assert str(other) in err
    assert str(manifest) in err
    assert "error: JournalError:" in err

    with Journal(journal, manifest=str(other.resolve())):
        assert run(["batch", str(other), "--journal", str(journal)]) == 33
        assert "locked by another running batch" in capsys.readouterr().err
    assert journal_rows(journal) == before

    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"\x00garbage" * 512)
    assert run(["batch", str(manifest), "--journal", str(corrupt)]) == 33
    assert "not a usable batch journal" in capsys.readouterr().err
    assert corrupt.read_bytes() == b"\x00garbage" * 512
    assert len(fake.requests_for("createTask")) == 1


def test_batch_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["batch", "--help"]) == EXIT_OK
    text: Any = capsys.readouterr().out
    for option in (
        "--journal",
        "--out",
        "--concurrency",
        "--max-tasks-per-second",
        "--retry-unknown",
        "--skip-invalid",
    ):
        assert option in text
