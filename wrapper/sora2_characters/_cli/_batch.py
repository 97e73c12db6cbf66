"""``sora2-characters batch MANIFEST``: a thin shell over :func:`sora2_characters.batch.run_batch`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._exceptions import InvalidInputError, JournalError, Sora2CharactersError
from .._polling import DEFAULT_MAX_WAIT_S
from ._backend import EMBEDDED_NOTICE, EMBEDDED_POLL_INTERVAL, EMBEDDED_TASK_SECONDS, FAKE_TASK_SECONDS
from ._exits import (
    EXIT_BATCH_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    exit_code_for,
)
from ._output import Output

if TYPE_CHECKING:
    from .._client import AsyncClient
    from ..batch import Manifest, RowResult

__all__ = ["batch"]


@contextlib.asynccontextmanager
async def _open_async_client(
    settings: Any, max_tasks_per_second: float | None
) -> AsyncIterator[tuple[AsyncClient, bool]]:
    """Open an AsyncClient for the global options (the embedded fake when nothing is configured)."""
    from .._client import AsyncClient  # noqa: PLC0415

    options: dict[str, Any] = {
        "max_retries": settings.max_retries,
        "max_tasks_per_second": max_tasks_per_second,
    }
    if settings.timeout is not None:
        options["timeout"] = options["upload_timeout"] = settings.timeout
    if not settings.embedded:
        async with AsyncClient(
            settings.api_key, base_url=settings.base_url, upload_base_url=settings.upload_base_url, **options
        ) as client:
            yield client, False
        return
    from ..testing import FakeApikley  # noqa: PLC0415

    with FakeApikley(
        time_scale=EMBEDDED_TASK_SECONDS / FAKE_TASK_SECONDS, task_duration=FAKE_TASK_SECONDS
    ) as fake:
        async with fake.async_client(**options) as client:
            yield client, True


class _Progress:
    """One bar for the batch on a terminal (rich), else one line per finished row (both on stderr)."""

    def __init__(self, output: Output, total: int) -> None:
        self._output = output
        self._total = total
        self._done = 0
        self._bar: Any = None
        isatty = getattr(output.stderr, "isatty", None)
        if callable(isatty) and isatty():
            from rich.console import Console  # noqa: PLC0415
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn  # noqa: PLC0415

            self._bar = Progress(
                "batch",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=output.stderr),
            )
            self._task = self._bar.add_task("batch", total=total)

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, result: RowResult) -> None:
        self._done += 1
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done)
            return
        detail = result.character_id or result.error or ""
        task = f" {result.task_id}" if result.task_id else ""
        width = len(str(self._total))
        self._output.notice(
            f"[{self._done:>{width}}/{self._total}] row {result.row} {result.state}{task} {detail}".rstrip()
        )


def _load(manifest_path: str, skip_invalid: bool, output: Output) -> Manifest | int:
    from ..batch import read_manifest  # noqa: PLC0415

    manifest = read_manifest(manifest_path)
    if manifest.invalid:
        count = len(manifest.invalid)
        if not skip_invalid:
            output.notice(
                f"error: InvalidInputError: {manifest_path}: {count} invalid row(s); nothing was uploaded "
                f"(fix them, or pass --skip-invalid to go on without them):\n{manifest.invalid_report()}"
            )
            return EXIT_USAGE
        output.notice(f"skipping {count} invalid row(s):\n{manifest.invalid_report()}")
    return manifest


@click.command(short_help="Create a character for every clip of a CSV/JSONL manifest; resumable.")
@click.argument("manifest_path", metavar="MANIFEST")
@click.option(
    "--journal",
    metavar="PATH",
    help="The SQLite journal that makes a re-run resume [default: MANIFEST.journal.sqlite].",
)
@click.option(
    "--out", metavar="PATH", help="Write one result per row here: .jsonl or .csv (default: JSONL on stdout)."
)
@click.option(
    "--concurrency", type=click.IntRange(1, 256), default=8, show_default=True, help="Rows in flight."
)
@click.option(
    "--max-tasks-per-second",
    type=click.FloatRange(min=0, min_open=True),
    metavar="RATE",
    help="Client-side limit on createTask calls.",
)
@click.option(
    "--retry-unknown", is_flag=True, help="Create again the rows whose earlier createTask was cut off."
)
@click.option(
    "--skip-invalid", is_flag=True, help="Go on without the invalid rows (they count as not succeeded)."
)
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_MAX_WAIT_S,
    show_default=True,
    metavar="SECONDS",
    help="Per row; a row still running then is 'pending' and a re-run keeps waiting.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Fixed poll interval (default: the documented 2-30 s schedule).",
)
@click.pass_obj
def batch(  # noqa: PLR0917 - click passes options as arguments
    glob: Any,
    manifest_path: str,
    journal: str | None,
    out: str | None,
    concurrency: int,
    max_tasks_per_second: float | None,
    retry_unknown: bool,
    skip_invalid: bool,
    max_wait: float,
    poll_interval: float | None,
) -> int:
    r"""Create a character for every row of MANIFEST (CSV or JSONL); safe to kill and re-run.

    \b
    Columns: video (a path relative to the manifest, or an http(s) URL), optional prompt, safety,
    callback_url, and any extra columns (copied to the results). Exit 0 only when every row succeeded.
    """
    output = Output(glob.redact, json_mode=False)
    try:
        return _run(glob, output, manifest_path, journal, out, concurrency, max_tasks_per_second,
                    retry_unknown, skip_invalid, max_wait, poll_interval)  # fmt: skip
    except KeyboardInterrupt as exc:
        output.error(exc, hint="the journal keeps every row's progress: run the same command again to resume")
        return EXIT_INTERRUPTED
    except (JournalError, InvalidInputError) as exc:
        output.error(exc)
        return exit_code_for(exc)
    except Sora2CharactersError as exc:
        output.error(exc, hint="the journal keeps every row's progress: run the same command again to resume")
        return exit_code_for(exc)
    except ImportError as exc:
        output.error(exc, hint="batch needs the 'cli' extra: pip install 'sora2-characters[cli]'")
        return EXIT_UNEXPECTED


def _run(  # noqa: PLR0917
    glob: Any,
    output: Output,
    manifest_path: str,
    journal: str | None,
    out: str | None,
    concurrency: int,
    max_tasks_per_second: float | None,
    retry_unknown: bool,
    skip_invalid: bool,
    max_wait: float,
    poll_interval: float | None,
) -> int:
    import anyio  # noqa: PLC0415

    from ..batch import run_batch, summary, write_results  # noqa: PLC0415

    if out is not None and Path(out).suffix.lower() not in {".csv", ".jsonl", ".ndjson"}:
        raise InvalidInputError("out", f"{out}: must end in .csv or .jsonl")
    loaded = _load(manifest_path, skip_invalid, output)
    if isinstance(loaded, int):
        return loaded
    manifest = loaded
    journal_path = journal or f"{manifest_path}.journal.sqlite"
    total = len(manifest.rows) + len(manifest.invalid)

    async def main() -> list[RowResult]:
        async with _open_async_client(glob.settings, max_tasks_per_second) as (client, embedded):
            interval = poll_interval
            if embedded:
                output.notice(EMBEDDED_NOTICE.format(base_url=client.base_url))
                output.notice(
                    "note: the embedded fake forgets its tasks when this command ends, so a re-run "
                    "cannot resume them; point --base-url at a running 'sora2-characters mock' to resume."
                )
                interval = interval or EMBEDDED_POLL_INTERVAL
            with _Progress(output, total) as progress:
                return await run_batch(
                    client,
                    manifest,
                    journal=journal_path,
                    concurrency=concurrency,
                    on_update=progress,
                    retry_unknown=retry_unknown,
                    max_wait=max_wait,
                    poll_interval=interval,
                )

    results = anyio.run(main)
    if out is not None:
        write_results(results, out)
    else:
        for result in results:
            _write_line(output, result.as_dict())
    output.notice(summary(results))
    return EXIT_OK if all(result.state == "succeeded" for result in results) else EXIT_BATCH_INCOMPLETE


def _write_line(output: Output, record: dict[str, Any]) -> None:
    output.stdout.write(output.redact(json.dumps(record, ensure_ascii=True, default=str)) + "\n")
    output.stdout.flush()
