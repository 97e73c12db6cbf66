"""Resumable batches: many clips in, one character_id per row out, safe to kill and re-run.

>>> from sora2_characters import AsyncClient
>>> from sora2_characters.batch import read_manifest, run_batch
>>> rows = read_manifest("clips.csv")  # doctest: +SKIP
>>> async with AsyncClient() as client:  # doctest: +SKIP
...     results = await run_batch(client, rows, journal="clips.csv.journal.sqlite")

A manifest is CSV or JSONL, one clip per row: ``video`` (a local path, relative to the manifest, or
an http(s) URL), optional ``prompt``, ``safety`` and ``callback_url``, and any extra columns, which
are copied to the results. Every row is validated before anything is uploaded.

The journal (SQLite) records each row's upload URL, then that createTask is being sent, then its
task id before waiting, then its outcome, each committed before the next step. Re-running resumes: a
row with a task id is queried, never created again; a finished row is not touched; a row whose
createTask outcome is unknown (cut off, or a connection lost after sending) is ``unknown`` and only
re-created with ``retry_unknown=True``. A row ends ``succeeded``, ``failed``, ``unknown``,
``pending`` (its task had not ended by ``max_wait``; a re-run keeps waiting) or ``skipped`` (invalid).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from ._exceptions import (
    APIConnectionError,
    APIError,
    InvalidInputError,
    MalformedResponseError,
    Sora2CharactersError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._journal import Journal, JournalRow
from ._polling import DEFAULT_MAX_WAIT_S
from ._validation import check_text, check_url

if TYPE_CHECKING:
    from ._client import AsyncClient

__all__ = [
    "RESULT_FIELDS",
    "STATES",
    "BatchRow",
    "Journal",
    "Manifest",
    "RowResult",
    "read_manifest",
    "run_batch",
    "run_batch_sync",
    "summary",
    "write_results",
]

#: The fields of every result row, before the manifest's extra columns.
RESULT_FIELDS: Final = ("row", "video", "task_id", "state", "character_id", "error")
#: Every final state of a row, in the order the summary counts them.
STATES: Final = ("succeeded", "failed", "unknown", "pending", "skipped")
_KNOWN_COLUMNS: Final = frozenset({"video", "prompt", "safety", "callback_url"})
_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SUFFIXES: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@attrs.frozen
class BatchRow:
    """One manifest row: the clip, the task's options, and the extra columns (copied to the result)."""

    row: int
    video: str
    prompt: str | None = None
    safety: str | None = None
    callback_url: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def fingerprint(self) -> str:
        """A digest of what the row asks for (video, prompt, safety, callback_url), kept in the journal."""
        text = json.dumps([self.video, self.prompt, self.safety, self.callback_url])
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]

    @property
    def is_url(self) -> bool:
        """Whether ``video`` is a URL (else a local path); only http(s) ones pass validation."""
        return _SCHEME.match(self.video) is not None


@attrs.frozen
class RowResult:
    """How one row ended: its ``state`` is one of :data:`STATES`."""

    row: int
    video: str
    state: str
    task_id: str | None = None
    character_id: str | None = None
    error: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the result as one flat record: :data:`RESULT_FIELDS`, then the extra columns."""
        record: dict[str, Any] = {
            "row": self.row,
            "video": self.video,
            "task_id": self.task_id,
            "state": self.state,
            "character_id": self.character_id,
            "error": self.error,
        }
        for key, value in self.extra.items():
            record.setdefault(key, value)  # an extra column never hides a result field
        return record


@attrs.frozen
class Manifest:
    """A read manifest: its path, its valid rows, and the invalid ones (as ``skipped`` results)."""

    path: Path
    rows: tuple[BatchRow, ...]
    invalid: tuple[RowResult, ...]

    def invalid_report(self) -> str:
        """Return the invalid rows, one line each, with their row numbers."""
        return "\n".join(f"  row {result.row}: {result.error}" for result in self.invalid)


def _manifest_error(path: Path, message: str) -> InvalidInputError:
    return InvalidInputError("manifest", f"{path}: {message}")


def _records(path: Path, text: str, kind: str) -> list[tuple[int, Any]]:
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [name.strip() for name in reader.fieldnames or []]
        if "video" not in columns:
            raise _manifest_error(
                path, f"has no 'video' column (its columns: {', '.join(columns) or 'none'})"
            )
        out: list[tuple[int, Any]] = []
        for index, record in enumerate(reader, start=1):
            fixed = {(key or "").strip(): value for key, value in record.items() if key is not None}
            if None in record:
                fixed["__overflow__"] = record[None]
            out.append((index, fixed))
        return out
    out = []
    for index, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((index, json.loads(line)))
        except (ValueError, RecursionError):
            out.append((index, ValueError("not a JSON object")))
    if not any(isinstance(record, Mapping) and "video" in record for _, record in out):
        raise _manifest_error(path, "has no row with a 'video' field")
    return out


def _row_from(index: int, record: Any, base: Path) -> BatchRow:
    if isinstance(record, ValueError) or not isinstance(record, Mapping):
        raise InvalidInputError("row", "is not a JSON object")
    if "__overflow__" in record:
        raise InvalidInputError("row", "has more cells than the header has columns")
    video = record.get("video")
    if not isinstance(video, str) or not video.strip():
        raise InvalidInputError("video", "is missing or empty")
    video = video.strip()
    texts = {}
    for field in ("prompt", "safety", "callback_url"):
        value = record.get(field)
        texts[field] = None if value in (None, "") else value
    check_text("prompt", texts["prompt"])
    check_text("safety", texts["safety"])
    if texts["callback_url"] is not None:
        check_url("callback_url", texts["callback_url"])
    row = BatchRow(
        row=index,
        video=video,
        prompt=texts["prompt"],
        safety=texts["safety"],
        callback_url=texts["callback_url"],
        extra={key: value for key, value in record.items() if key not in _KNOWN_COLUMNS},
    )
    if row.is_url:
        check_url("video", video)
    else:
        local = Path(video) if Path(video).is_absolute() else base / video
        if not local.is_file():
            raise InvalidInputError("video", f"no such file: {local}")
        row = attrs.evolve(row, video=str(local))
    return row


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read and validate a CSV or JSONL manifest; every row is checked, none is uploaded.

    Raises :class:`~sora2_characters.InvalidInputError` (field ``manifest``) when the file is missing,
    empty, not ``.csv``/``.jsonl``, unreadable, or has no ``video`` column. Invalid rows are returned
    in :attr:`Manifest.invalid` with their row numbers (1 = the first data row).
    """
    manifest = Path(path)
    kind = _SUFFIXES.get(manifest.suffix.lower())
    if kind is None:
        raise _manifest_error(manifest, "must be CSV (.csv) or JSONL (.jsonl, .ndjson)")
    try:
        data = manifest.read_bytes()
    except FileNotFoundError as exc:
        raise _manifest_error(manifest, "no such file") from exc
    except OSError as exc:
        raise _manifest_error(manifest, f"cannot be read ({exc.strerror})") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _manifest_error(manifest, f"is not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise _manifest_error(manifest, "is empty")
    try:
        records = _records(manifest, text, kind)
    except csv.Error as exc:
        raise _manifest_error(manifest, f"is not valid CSV ({exc})") from exc
    if not records:
        raise _manifest_error(manifest, "has a header but no rows")
    rows: list[BatchRow] = []
    invalid: list[RowResult] = []
    base = manifest.parent
    for index, record in records:
        try:
            rows.append(_row_from(index, record, base))
        except InvalidInputError as exc:
            video = record.get("video") if isinstance(record, Mapping) else None
            invalid.append(RowResult(row=index, video=str(video or ""), state="skipped", error=str(exc)))
    return Manifest(path=manifest, rows=tuple(rows), invalid=tuple(invalid))


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _task_may_exist(exc: BaseException) -> bool:
    """Whether a failed createTask may still have created a task (so it must not be sent again)."""
    # The client marks unknown createTask outcomes with .task_may_exist (being added); until it does,
    # a connection lost after the request left, or an unreadable answer, is the unknown case.
    marked = getattr(exc, "task_may_exist", None)
    if marked is not None:
        return bool(marked)
    if isinstance(exc, APIConnectionError):
        return exc.request_sent
    return isinstance(exc, MalformedResponseError)


class _Runner:
    def __init__(
        self,
        client: AsyncClient,
        journal: Journal,
        *,
        retry_unknown: bool,
        max_wait: float,
        poll_interval: float | None,
        on_update: Callable[[RowResult], None] | None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.retry_unknown = retry_unknown
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        self.on_update = on_update

    def _end(self, row: BatchRow, state: str, **fields: Any) -> RowResult:
        result = RowResult(row=row.row, video=row.video, state=state, extra=row.extra, **fields)
        if self.on_update is not None:
            self.on_update(result)
        return result

    async def run_row(self, row: BatchRow, known: JournalRow | None) -> RowResult:
        known = known or JournalRow(row.row)
        if known.state in {"succeeded", "failed"}:
            return self._end(
                row, known.state, task_id=known.task_id, character_id=known.character_id, error=known.error
            )
        if known.task_id is None and known.creating:
            if not self.retry_unknown:
                error = "createTask was cut off: the task may exist; check, then re-run with --retry-unknown"
                self.journal.finished(row.row, "unknown", error=known.error or error)
                return self._end(row, "unknown", error=known.error or error)
            self.journal.retry_create(row.row)
        task_id = known.task_id
        if task_id is None:
            created = await self._create(row, known)
            if isinstance(created, RowResult):
                return created
            task_id = created
        return await self._wait(row, task_id)

    async def _create(self, row: BatchRow, known: JournalRow) -> str | RowResult:
        url = known.upload_url
        try:
            if url is None:
                url = row.video
                if not row.is_url:
                    url = (await self.client.upload_video(row.video)).download_url
                    self.journal.uploaded(row.row, url)
        except Sora2CharactersError as exc:
            self.journal.finished(row.row, "failed", error=_message(exc))
            return self._end(row, "failed", error=_message(exc))
        self.journal.creating(row.row)
        try:
            created = await self.client.create_character(
                url, character_prompt=row.prompt, safety_instruction=row.safety, callback_url=row.callback_url
            )
        except Sora2CharactersError as exc:
            state = "unknown" if _task_may_exist(exc) else "failed"
            self.journal.finished(row.row, state, error=_message(exc))
            return self._end(row, state, error=_message(exc))
        self.journal.created(row.row, created.task_id)
        return created.task_id

    async def _wait(self, row: BatchRow, task_id: str) -> RowResult:
        try:
            info = await self.client.wait(task_id, max_wait=self.max_wait, poll_interval=self.poll_interval)
        except TaskFailedError as exc:
            self.journal.finished(row.row, "failed", error=_message(exc))
            return self._end(row, "failed", task_id=task_id, error=_message(exc))
        except WaitTimeoutError as exc:
            self.journal.finished(row.row, "pending", error=_message(exc))
            return self._end(row, "pending", task_id=task_id, error=_message(exc))
        except (APIError, APIConnectionError) as exc:
            # The task exists; only our view of it failed. A re-run queries it again.
            self.journal.finished(row.row, "pending", error=_message(exc))
            return self._end(row, "pending", task_id=task_id, error=_message(exc))
        self.journal.finished(row.row, "succeeded", character_id=info.character_id)
        return self._end(row, "succeeded", task_id=task_id, character_id=info.character_id)


async def run_batch(
    client: AsyncClient,
    rows: Manifest | Sequence[BatchRow],
    *,
    journal: str | os.PathLike[str] | Journal,
    concurrency: int = 8,
    on_update: Callable[[RowResult], None] | None = None,
    retry_unknown: bool = False,
    max_wait: float = DEFAULT_MAX_WAIT_S,
    poll_interval: float | None = None,
) -> list[RowResult]:
    """Upload, create and wait for every row, ``concurrency`` rows at a time; return one result per row.

    ``rows`` is a :class:`Manifest` (its invalid rows come back as ``skipped``) or a sequence of
    :class:`BatchRow`. ``journal`` is a path (opened and locked here, tied to the manifest's path
    and to each row's content) or an open :class:`Journal`. The
    client's own limits (``max_tasks_per_second``, ``max_concurrent_requests``) apply on top.
    ``on_update(result)`` is called as each row ends. Results come back in row order.
    """
    import anyio  # noqa: PLC0415 - loaded with the client, not on import

    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidInputError("concurrency", f"must be a positive integer, got {concurrency!r}")
    manifest = rows if isinstance(rows, Manifest) else None
    batch_rows: list[BatchRow] = list(rows.rows) if isinstance(rows, Manifest) else list(rows)
    if isinstance(journal, Journal):
        opened, owned = journal, False
    else:
        name = str(manifest.path.resolve()) if manifest is not None else "<rows>"
        opened, owned = Journal(journal, manifest=name), True
        opened.open()
    try:
        opened.bind_rows({row.row: row.fingerprint for row in batch_rows})
        known = opened.rows()
        runner = _Runner(
            client,
            opened,
            retry_unknown=retry_unknown,
            max_wait=max_wait,
            poll_interval=poll_interval,
            on_update=on_update,
        )
        results: dict[int, RowResult] = {}
        limiter = anyio.CapacityLimiter(concurrency)

        async def one(row: BatchRow) -> None:
            async with limiter:
                results[row.row] = await runner.run_row(row, known.get(row.row))

        async with anyio.create_task_group() as group:
            for row in batch_rows:
                group.start_soon(one, row)
    finally:
        if owned:
            opened.close()
    skipped = list(manifest.invalid) if manifest is not None else []
    for result in skipped:
        if on_update is not None:
            on_update(result)
    return sorted([*results.values(), *skipped], key=lambda result: result.row)


def run_batch_sync(
    client: AsyncClient,
    rows: Manifest | Sequence[BatchRow],
    *,
    journal: str | os.PathLike[str] | Journal,
    concurrency: int = 8,
    on_update: Callable[[RowResult], None] | None = None,
    retry_unknown: bool = False,
    max_wait: float = DEFAULT_MAX_WAIT_S,
    poll_interval: float | None = None,
) -> list[RowResult]:
    """:func:`run_batch` from blocking code: runs its own event loop (``anyio.run``) until the batch ends.

    An :class:`~sora2_characters.AsyncClient` belongs to the event loop it is used in, so ``client`` is
    closed when the batch ends (a caller's ``http_client`` stays open, as always).
    """
    import anyio  # noqa: PLC0415

    async def main() -> list[RowResult]:
        try:
            return await run_batch(
                client,
                rows,
                journal=journal,
                concurrency=concurrency,
                on_update=on_update,
                retry_unknown=retry_unknown,
                max_wait=max_wait,
                poll_interval=poll_interval,
            )
        finally:
            await client.aclose()

    return anyio.run(main)


def summary(results: Sequence[RowResult]) -> str:
    """One line counting each outcome: ``batch: 10 rows: 8 succeeded, 1 failed, 1 unknown, ...``."""
    counts = dict.fromkeys(STATES, 0)
    for result in results:
        counts[result.state] = counts.get(result.state, 0) + 1
    parts = ", ".join(f"{count} {state}" for state, count in counts.items())
    return f"batch: {len(results)} rows: {parts}"


def write_results(results: Sequence[RowResult], path: str | os.PathLike[str]) -> None:
    """Write one record per row to ``path``: JSONL (``.jsonl``/``.ndjson``) or CSV (``.csv``)."""
    target = Path(path)
    kind = _SUFFIXES.get(target.suffix.lower())
    if kind is None:
        raise InvalidInputError("out", f"{target}: must end in .csv or .jsonl")
    records = [result.as_dict() for result in results]
    tmp = target.with_name(target.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", errors="backslashreplace", newline="") as handle:
            if kind == "jsonl":
                for record in records:
                    handle.write(json.dumps(record, ensure_ascii=True, default=str) + "\n")
            else:
                columns = list(RESULT_FIELDS)
                for record in records:
                    columns += [key for key in record if key not in columns]
                writer = csv.DictWriter(handle, fieldnames=columns)
                writer.writeheader()
                for record in records:
                    writer.writerow({key: "" if value is None else value for key, value in record.items()})
        tmp.replace(target)
    except OSError as exc:
        raise InvalidInputError("out", f"{target}: cannot be written ({exc.strerror})") from exc
