"""The batch journal: one SQLite file recording each row's progress, so a re-run resumes.

Each step is committed before the next one starts: the upload URL, then ``creating`` just before
createTask is sent, then the task id the moment it is known (before any wait), then the outcome.
A process killed at any point (SIGKILL included) leaves the journal consistent; on the next run a
row marked ``creating`` without a task id is one whose createTask was cut off, so its task may
exist: it is reported ``unknown`` and never re-created unless asked.

The journal is tied to its manifest (by resolved path) and to each row's content (a fingerprint of
its video, prompt, safety and callback_url, recorded before the row's first step), and locked
(``flock``) while a batch runs, so two batches never write one journal. Rows not started yet may
be edited between runs; a started row may not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Any, Final

import attrs

from ._exceptions import JournalError

__all__ = ["Journal", "JournalRow"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    row INTEGER PRIMARY KEY,
    upload_url TEXT,
    creating INTEGER NOT NULL DEFAULT 0,
    task_id TEXT,
    fingerprint TEXT,
    state TEXT,
    character_id TEXT,
    error TEXT
);
"""


@attrs.frozen
class JournalRow:
    """What the journal knows of one row."""

    row: int
    upload_url: str | None = None
    creating: bool = False
    task_id: str | None = None
    state: str | None = None
    character_id: str | None = None
    error: str | None = None


class Journal:
    """An open, locked journal for one manifest; use as a context manager."""

    def __init__(self, path: str | os.PathLike[str], *, manifest: str) -> None:
        self.path = Path(path)
        self._manifest = manifest
        self._lock_fd: int | None = None
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> Journal:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, what: str, exc: BaseException) -> JournalError:
        detail = getattr(exc, "strerror", None) or str(exc)
        return JournalError(f"the journal {self.path} {what}: {detail}")

    def open(self) -> None:
        """Lock the file, check it belongs to this manifest, and create its tables if new."""
        try:
            self._lock_fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise self._fail("cannot be opened for writing", exc) from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self.close()
            raise JournalError(
                f"the journal {self.path} is locked by another running batch; wait for it to end"
            ) from exc
        try:
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            self._conn = conn
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            self.close()
            raise self._fail("is not a usable batch journal (corrupt, read-only or locked)", exc) from exc
        if not meta:
            self._write("INSERT INTO meta (key, value) VALUES ('manifest', ?)", (self._manifest,))
        elif meta.get("manifest") != self._manifest:
            self.close()
            raise JournalError(
                f"the journal {self.path} was written for the manifest {meta.get('manifest')!r}, "
                f"not for {self._manifest!r}; use another --journal, or the manifest it was written for"
            )

    def bind_rows(self, fingerprints: dict[int, str]) -> None:
        """Refuse rows whose content changed since the journal recorded them; record the new ones.

        Raises :class:`~sora2_characters.JournalError` naming the changed rows, before any work.
        """
        changed = [
            row
            for row, known in self._fingerprints().items()
            if known is not None and row in fingerprints and fingerprints[row] != known
        ]
        if changed:
            listed = ", ".join(str(row) for row in sorted(changed)[:20])
            raise JournalError(
                f"the journal {self.path} recorded different content for row(s) {listed} of "
                f"{self._manifest!r}: a started row must not change; restore it, or use another --journal"
            )
        self._write("BEGIN IMMEDIATE", ())
        try:
            for row, fingerprint in fingerprints.items():
                self._write(
                    "INSERT INTO rows (row, fingerprint) VALUES (?, ?) "
                    "ON CONFLICT (row) DO UPDATE SET fingerprint = excluded.fingerprint "
                    "WHERE rows.fingerprint IS NULL",
                    (row, fingerprint),
                )
        except JournalError:
            self._rollback()
            raise
        self._write("COMMIT", ())

    def _rollback(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")

    def _fingerprints(self) -> dict[int, str | None]:
        if self._conn is None:
            raise JournalError(f"the journal {self.path} is closed")
        try:
            return dict(self._conn.execute("SELECT row, fingerprint FROM rows").fetchall())
        except sqlite3.Error as exc:
            raise self._fail("could not be read", exc) from exc

    def close(self) -> None:
        """Close the database and drop the lock."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        if self._conn is None:
            raise JournalError(f"the journal {self.path} is closed")
        try:
            self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._fail("could not be written", exc) from exc

    def rows(self) -> dict[int, JournalRow]:
        """Every row the journal has seen, by row number."""
        if self._conn is None:
            raise JournalError(f"the journal {self.path} is closed")
        try:
            found = self._conn.execute(
                "SELECT row, upload_url, creating, task_id, state, character_id, error FROM rows"
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._fail("could not be read", exc) from exc
        return {
            row: JournalRow(row, upload_url, bool(creating), task_id, state, character_id, error)
            for row, upload_url, creating, task_id, state, character_id, error in found
        }

    def _upsert(self, row: int, **fields: Any) -> None:
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        updates = ", ".join(f"{name} = excluded.{name}" for name in fields)
        self._write(
            f"INSERT INTO rows (row, {names}) VALUES (?, {marks}) ON CONFLICT (row) DO UPDATE SET {updates}",  # noqa: S608 - field names are ours
            (row, *fields.values()),
        )

    def uploaded(self, row: int, url: str) -> None:
        """Record the row's upload URL."""
        self._upsert(row, upload_url=url)

    def creating(self, row: int) -> None:
        """Record that createTask is about to be sent (committed before it is)."""
        self._upsert(row, creating=1)

    def created(self, row: int, task_id: str) -> None:
        """Record the row's task id (before waiting)."""
        self._upsert(row, task_id=task_id)

    def finished(
        self, row: int, state: str, *, character_id: str | None = None, error: str | None = None
    ) -> None:
        """Record the row's outcome: ``succeeded``, ``failed``, ``unknown`` or ``pending``."""
        self._upsert(row, state=state, character_id=character_id, error=error)

    def retry_create(self, row: int) -> None:
        """Forget a cut-off createTask (``--retry-unknown``): the row will be created again."""
        self._upsert(row, creating=0, state=None, error=None)
