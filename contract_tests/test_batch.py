"""batch.py: manifests, run_batch against the fake, the journal's resume rules and its refusals."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sora2_characters import AsyncClient, InvalidInputError, JournalError
from sora2_characters._cli._batch import _Progress
from sora2_characters._cli._output import Output, Redactor
from sora2_characters._journal import Journal
from sora2_characters.batch import (
    BatchRow,
    RowResult,
    read_manifest,
    run_batch,
    run_batch_sync,
    summary,
    write_results,
)
from sora2_characters.testing import FakeApikley

pytestmark = pytest.mark.anyio

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "character.mp4"


@pytest.fixture
def fake() -> Iterator[FakeApikley]:
    with FakeApikley(time_scale=0.001, initial_credits=10_000) as server:
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(SAMPLE, tmp_path / "clip.mp4")
    return tmp_path


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def manifest_of(folder: Path, count: int) -> Path:
    rows = [
        {"video": "clip.mp4", "prompt": f"row-{index}", "team": f"t{index}"} for index in range(1, count + 1)
    ]
    return write_csv(folder / "clips.csv", rows)


def created_prompts(fake: FakeApikley) -> list[str]:
    return [task.body.get("input", {}).get("character_prompt") for task in fake.tasks]


def client_for(fake: FakeApikley) -> AsyncClient:
    return fake.async_client(poll_interval=0.01)


# ---- manifests ---------------------------------------------------------------------------------


def test_a_csv_manifest_keeps_extra_columns_and_resolves_paths(folder: Path) -> None:
    path = write_csv(
        folder / "m.csv",
        [
            {"video": "clip.mp4", "prompt": "a knight", "safety": "", "callback_url": "", "team": "red"},
            {
                "video": "https://example.com/v.mp4",
                "prompt": "",
                "safety": "no gore",
                "callback_url": "",
                "team": "blue",
            },
        ],
    )
    manifest = read_manifest(path)
    assert manifest.invalid == ()
    first, second = manifest.rows
    assert (first.row, first.video, first.prompt, first.safety, dict(first.extra)) == (
        1,
        str(folder / "clip.mp4"),
        "a knight",
        None,
        {"team": "red"},
    )
    assert (second.is_url, second.safety, second.prompt) == (True, "no gore", None)


def test_a_jsonl_manifest_with_bad_rows_reports_each_with_its_number(folder: Path) -> None:
    path = folder / "m.jsonl"
    lines = [
        json.dumps({"video": "clip.mp4", "id": 7}),
        "not json",
        json.dumps([1, 2]),
        json.dumps({"video": "missing.mp4"}),
        json.dumps({"video": "ftp://host/x.mp4"}),
        json.dumps({"video": "clip.mp4", "prompt": "x" * 5001}),
        json.dumps({"video": "clip.mp4", "callback_url": "not a url"}),
        json.dumps({"prompt": "no video"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    manifest = read_manifest(path)
    assert [row.row for row in manifest.rows] == [1]
    assert manifest.rows[0].extra == {"id": 7}
    errors = {result.row: result.error or "" for result in manifest.invalid}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 8]
    assert "not a JSON object" in errors[2]
    assert "no such file" in errors[4]
    assert "http:// or https://" in errors[5]
    assert "5001 characters long; the limit is 5000" in errors[6]
    assert errors[7].startswith("callback_url:")
    assert "video: is missing" in errors[8]
    assert all(result.state == "skipped" for result in manifest.invalid)
    assert "row 4: video: no such file" in manifest.invalid_report()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", "", "is empty"),
        ("blank.jsonl", "\n \n", "is empty"),
        ("clips.txt", "video\nclip.mp4\n", "must be CSV (.csv) or JSONL"),
        ("novideo.csv", "clip,prompt\nclip.mp4,x\n", "has no 'video' column (its columns: clip, prompt)"),
        ("novideo.jsonl", '{"clip": "x"}\n', "has no row with a 'video' field"),
        ("header.csv", "video,prompt\n", "has a header but no rows"),
        ("binary.csv", b"\xff\xfe\x00video", "is not UTF-8"),
    ],
)
def test_unusable_manifests_are_refused_by_name(
    folder: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(InvalidInputError, match="manifest") as caught:
        read_manifest(path)
    assert message in str(caught.value)
    assert name in str(caught.value)


# ---- running -----------------------------------------------------------------------------------


async def test_a_batch_creates_one_task_per_row_and_returns_results_in_row_order(
    fake: FakeApikley, folder: Path
) -> None:
    manifest = read_manifest(manifest_of(folder, 6))
    seen: list[RowResult] = []
    async with client_for(fake) as client:
        results = await run_batch(
            client, manifest, journal=folder / "j.sqlite", concurrency=3, on_update=seen.append
        )
    assert [result.row for result in results] == [1, 2, 3, 4, 5, 6]
    assert {result.state for result in results} == {"succeeded"}
    assert all(result.character_id and result.task_id for result in results)
    assert results[2].as_dict()["team"] == "t3"
    assert sorted(created_prompts(fake)) == sorted(f"row-{index}" for index in range(1, 7))
    assert len(seen) == 6
    assert summary(results) == "batch: 6 rows: 6 succeeded, 0 failed, 0 unknown, 0 pending, 0 skipped"


async def test_a_rerun_resumes_from_the_journal_and_creates_nothing_again(
    fake: FakeApikley, folder: Path
) -> None:
    manifest = read_manifest(manifest_of(folder, 4))
    async with client_for(fake) as client:
        first = await run_batch(client, manifest, journal=folder / "j.sqlite")
        creates, uploads = len(fake.requests_for("createTask")), len(fake.requests_for("upload"))
        again = await run_batch(client, manifest, journal=folder / "j.sqlite")
    assert [r.as_dict() for r in again] == [r.as_dict() for r in first]
    assert len(fake.requests_for("createTask")) == creates == 4
    assert len(fake.requests_for("upload")) == uploads


async def test_a_row_with_a_task_id_is_queried_not_created(fake: FakeApikley, folder: Path) -> None:
    manifest = read_manifest(manifest_of(folder, 2))
    async with client_for(fake) as client:
        existing = await client.create_character("https://example.com/x.mp4", character_prompt="row-1")
        with Journal(folder / "j.sqlite", manifest=str(manifest.path.resolve())) as journal:
            journal.creating(1)
            journal.created(1, existing.task_id)
        results = await run_batch(client, manifest, journal=folder / "j.sqlite")
    assert results[0].task_id == existing.task_id
    assert results[0].state == "succeeded"
    assert sorted(created_prompts(fake)) == ["row-1", "row-2"]  # row 1 was not created again


async def test_a_cut_off_create_is_unknown_until_retry_unknown(fake: FakeApikley, folder: Path) -> None:
    manifest = read_manifest(manifest_of(folder, 2))
    with Journal(folder / "j.sqlite", manifest=str(manifest.path.resolve())) as journal:
        journal.creating(2)  # a run was killed while createTask of row 2 was in flight
    async with client_for(fake) as client:
        results = await run_batch(client, manifest, journal=folder / "j.sqlite")
        assert [r.state for r in results] == ["succeeded", "unknown"]
        assert "--retry-unknown" in (results[1].error or "")
        again = await run_batch(client, manifest, journal=folder / "j.sqlite")
        assert [r.state for r in again] == ["succeeded", "unknown"]
        assert created_prompts(fake) == ["row-1"]
        retried = await run_batch(client, manifest, journal=folder / "j.sqlite", retry_unknown=True)
    assert [r.state for r in retried] == ["succeeded", "succeeded"]
    assert sorted(created_prompts(fake)) == ["row-1", "row-2"]


async def test_a_connection_lost_after_create_was_sent_is_unknown_never_resent(
    fake: FakeApikley, folder: Path
) -> None:
    manifest = read_manifest(manifest_of(folder, 1))
    fake.drop_connection_next("createTask", when="after_read")
    async with client_for(fake) as client:
        results = await run_batch(client, manifest, journal=folder / "j.sqlite")
        assert results[0].state == "unknown"
        assert "APIConnectionError" in (results[0].error or "")
        again = await run_batch(client, manifest, journal=folder / "j.sqlite")
    assert again[0].state == "unknown"
    assert len(fake.requests_for("createTask")) == 1


async def test_refused_creates_and_failed_tasks_are_failed_rows(fake: FakeApikley, folder: Path) -> None:
    manifest = read_manifest(manifest_of(folder, 2))
    fake.fail_next("createTask", code=402, msg="Credits insufficient")
    fake.fail_task(fail_code="500", fail_msg="internal error")
    async with client_for(fake) as client:
        results = await run_batch(client, manifest, journal=folder / "j.sqlite", concurrency=1)
    assert [r.state for r in results] == ["failed", "failed"]
    errors = sorted(r.error or "" for r in results)
    assert any("InsufficientCreditsError" in error for error in errors)
    assert any("TaskFailedError" in error and "internal error" in error for error in errors)


async def test_a_task_still_running_at_max_wait_is_pending_and_resumed(folder: Path) -> None:
    manifest = read_manifest(manifest_of(folder, 1))
    clock = [1_000.0]
    with FakeApikley(clock=lambda: clock[0]) as fake:
        async with fake.async_client(poll_interval=0.01) as client:
            results = await run_batch(
                client, manifest, journal=folder / "j.sqlite", max_wait=0.05, poll_interval=0.01
            )
            assert results[0].state == "pending"
            clock[0] += 1_000  # the task ends
            again = await run_batch(client, manifest, journal=folder / "j.sqlite", poll_interval=0.01)
        assert again[0].state == "succeeded"
        assert again[0].task_id == results[0].task_id
        assert len(fake.requests_for("createTask")) == 1


def test_run_batch_sync_and_plain_rows(fake: FakeApikley, folder: Path) -> None:
    rows = [BatchRow(row=1, video="https://example.com/a.mp4", prompt="row-1", extra={"k": "v"})]
    client = client_for(fake)
    results = run_batch_sync(client, rows, journal=folder / "j.sqlite")
    assert [(r.state, r.as_dict()["k"]) for r in results] == [("succeeded", "v")]


# ---- the journal's refusals --------------------------------------------------------------------


async def test_a_journal_of_another_manifest_is_refused_naming_both(fake: FakeApikley, folder: Path) -> None:
    first = read_manifest(manifest_of(folder, 1))
    other = write_csv(folder / "other.csv", [{"video": "clip.mp4", "prompt": "else"}])
    async with client_for(fake) as client:
        await run_batch(client, first, journal=folder / "j.sqlite")
        with pytest.raises(JournalError) as caught:
            await run_batch(client, read_manifest(other), journal=folder / "j.sqlite")
    assert str(first.path) in str(caught.value)
    assert str(other) in str(caught.value)


async def test_a_locked_journal_is_refused(fake: FakeApikley, folder: Path) -> None:
    manifest = read_manifest(manifest_of(folder, 1))
    with Journal(folder / "j.sqlite", manifest=str(manifest.path.resolve())):
        async with client_for(fake) as client:
            with pytest.raises(JournalError, match="locked by another running batch"):
                await run_batch(client, manifest, journal=folder / "j.sqlite")
    assert fake.requests_for("createTask") == []


async def test_a_corrupt_journal_is_refused_and_left_as_it_was(fake: FakeApikley, folder: Path) -> None:
    manifest = read_manifest(manifest_of(folder, 1))
    journal = folder / "j.sqlite"
    journal.write_bytes(b"garbage, not SQLite" * 200)
    async with client_for(fake) as client:
        with pytest.raises(JournalError, match="not a usable batch journal"):
            await run_batch(client, manifest, journal=journal)
    assert journal.read_bytes() == b"garbage, not SQLite" * 200


async def test_a_journal_that_cannot_be_created_is_refused(fake: FakeApikley, folder: Path) -> None:
    manifest = read_manifest(manifest_of(folder, 1))
    async with client_for(fake) as client:
        with pytest.raises(JournalError, match="cannot be opened for writing"):
            await run_batch(client, manifest, journal=folder / "no" / "such" / "j.sqlite")


def test_the_journal_records_each_step_before_the_next(folder: Path) -> None:
    with Journal(folder / "j.sqlite", manifest="m") as journal:
        journal.uploaded(1, "https://files.example/a.mp4")
        journal.creating(1)
        # Another connection (a process after a SIGKILL) sees each step already committed.
        with sqlite3.connect(folder / "j.sqlite") as reader:
            assert reader.execute("SELECT upload_url, creating, task_id FROM rows").fetchall() == [
                ("https://files.example/a.mp4", 1, None)
            ]
        journal.created(1, "task_9")
        journal.finished(1, "succeeded", character_id="char_9")
        assert journal.rows()[1].character_id == "char_9"


@pytest.mark.parametrize("concurrency", [0, -1, True, 1.5])
async def test_concurrency_must_be_a_positive_integer(
    fake: FakeApikley, folder: Path, concurrency: Any
) -> None:
    async with client_for(fake) as client:
        with pytest.raises(InvalidInputError, match="concurrency"):
            await run_batch(client, [], journal=folder / "j.sqlite", concurrency=concurrency)


# ---- results -----------------------------------------------------------------------------------

_cells = st.text(st.characters(codec="utf-8"), max_size=20)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8), _cells, max_size=4)
)
def test_results_round_trip_through_jsonl_and_csv(
    tmp_path_factory: pytest.TempPathFactory, extra: dict[str, str]
) -> None:
    folder = tmp_path_factory.mktemp("out")
    results = [
        RowResult(row=1, video="a.mp4", state="succeeded", task_id="t1", character_id="c1", extra=extra),
        RowResult(row=2, video="b.mp4", state="failed", error="TaskFailedError: boom", extra=extra),
    ]
    write_results(results, folder / "r.jsonl")
    lines = [json.loads(line) for line in (folder / "r.jsonl").read_text().splitlines()]
    assert lines == [result.as_dict() for result in results]
    write_results(results, folder / "r.csv")
    with (folder / "r.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["state"] for row in rows] == ["succeeded", "failed"]
    assert rows[0]["character_id"] == "c1"
    for key, value in extra.items():
        if key not in {"row", "video", "task_id", "state", "character_id", "error"}:
            assert rows[0][key] == value


def test_results_to_an_unknown_extension_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"must end in \.csv or \.jsonl"):
        write_results([], tmp_path / "r.xlsx")


def test_a_journal_that_turns_read_only_is_a_journal_error_naming_it(folder: Path) -> None:
    with Journal(folder / "j.sqlite", manifest="m") as journal:
        journal.uploaded(1, "https://files.example/a.mp4")
        connection = journal._conn  # the file turning read-only under a running batch
        assert connection is not None
        connection.execute("PRAGMA query_only = 1")
        with pytest.raises(JournalError, match=r"j\.sqlite could not be written: attempt to write"):
            journal.created(1, "task_1")
        assert journal.rows()[1].upload_url == "https://files.example/a.mp4"  # nothing lost


def test_batch_progress_on_a_terminal_is_one_bar() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    output = Output(Redactor(), json_mode=False, stderr=stream)
    with _Progress(output, 3) as progress:
        for row in (1, 2, 3):
            progress(RowResult(row=row, video="v.mp4", state="succeeded", task_id=f"t{row}"))
    text = stream.getvalue()
    assert "3/3" in text
    assert "row 1 succeeded" not in text  # no per-row lines on a terminal


async def test_rows_not_started_may_change_between_runs_started_ones_may_not(
    fake: FakeApikley, folder: Path
) -> None:
    path = manifest_of(folder, 2)
    first = read_manifest(path)
    with Journal(folder / "j.sqlite", manifest=str(path.resolve())) as journal:
        journal.bind_rows({1: first.rows[0].fingerprint})
        journal.creating(1)  # row 1 was started (and cut off); row 2 was never reached
    rows = [
        {"video": "clip.mp4", "prompt": "row-1", "team": "t1"},
        {"video": "clip.mp4", "prompt": "edited", "team": "t2"},
    ]
    write_csv(path, rows)
    async with client_for(fake) as client:
        results = await run_batch(client, read_manifest(path), journal=folder / "j.sqlite")
        assert [r.state for r in results] == ["unknown", "succeeded"]
        assert created_prompts(fake) == ["edited"]
        rows[0]["prompt"] = "changed after it started"
        write_csv(path, rows)
        with pytest.raises(JournalError, match=r"different content for row\(s\) 1 of") as caught:
            await run_batch(client, read_manifest(path), journal=folder / "j.sqlite")
    assert str(path.resolve()) in str(caught.value)
    assert created_prompts(fake) == ["edited"]


async def test_no_more_than_concurrency_rows_are_in_flight(folder: Path) -> None:
    import anyio

    from sora2_characters import CreatedTask, TaskInfo, TaskState

    class CountingClient:
        """Stands for an AsyncClient: counts the rows between createTask and the end of their wait."""

        def __init__(self) -> None:
            self.in_flight = 0
            self.peak = 0

        async def create_character(self, url: str, **_: Any) -> CreatedTask:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            await anyio.sleep(0)
            return CreatedTask(task_id=f"task_{url}", raw={})

        async def wait(self, task_id: str, **_: Any) -> TaskInfo:
            for _step in range(5):
                await anyio.sleep(0)
            self.in_flight -= 1
            return TaskInfo(task_id=task_id, model=None, state=TaskState.SUCCESS, character_id="c")

    rows = [BatchRow(row=index, video=f"https://example.com/{index}.mp4") for index in range(1, 41)]
    client = CountingClient()
    results = await run_batch(client, rows, journal=folder / "j.sqlite", concurrency=3)  # type: ignore[arg-type]
    assert {result.state for result in results} == {"succeeded"}
    assert client.peak == 3
