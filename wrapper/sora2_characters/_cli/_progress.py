"""Progress of a wait: a live rich display on a terminal, plain lines otherwise (both on stderr).

A reporter is a context manager and a callable: pass it as ``on_update`` to ``Client.wait``; it
receives each polled :class:`~sora2_characters.TaskInfo`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from ._output import Output

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from .._models import TaskInfo

__all__ = ["PlainProgress", "ProgressReporter", "RichProgress", "SilentProgress", "make_reporter"]


class ProgressReporter:
    """The interface: ``with reporter: client.wait(..., on_update=reporter)``."""

    def __init__(self, task_id: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.task_id = task_id
        self._clock = clock
        self._started = clock()

    def elapsed(self) -> float:
        """Seconds since the reporter was made."""
        return self._clock() - self._started

    def __call__(self, task: TaskInfo) -> None:
        """Show one polled state."""
        raise NotImplementedError

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class SilentProgress(ProgressReporter):
    """Shows nothing (``--quiet``)."""

    def __call__(self, task: TaskInfo) -> None:
        """Ignore the polled state."""


class PlainProgress(ProgressReporter):
    """One line per new state: ``[   1.2s] <task_id> generating``."""

    def __init__(self, task_id: str, output: Output, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(task_id, clock=clock)
        self._output = output
        self._last: str | None = None

    def __enter__(self) -> PlainProgress:
        self._output.notice(
            f"[{self.elapsed():6.1f}s] {self.task_id} polling (Ctrl-C stops waiting; the task keeps running)"
        )
        return self

    def __call__(self, task: TaskInfo) -> None:
        """Print a line if the state changed."""
        state = task.state.value
        if state == self._last:
            return
        self._last = state
        unknown = "" if task.state.is_known else " (unknown state, still waiting)"
        self._output.notice(f"[{self.elapsed():6.1f}s] {self.task_id} {state}{unknown}")


class RichProgress(ProgressReporter):
    """A live line on the terminal: spinner, state, a bar (pulsing until the end) and the elapsed time.

    The bar pulses rather than showing a percentage: ``wait`` reports each new state, and a
    percentage read once at a state change would sit still for most of the wait.
    """

    def __init__(self, task_id: str, output: Output, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(task_id, clock=clock)
        from rich.console import Console  # noqa: PLC0415 - rich is imported only on a terminal
        from rich.progress import (  # noqa: PLC0415
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(file=output.stderr)
        self._progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._bar: TaskID = self._progress.add_task(self._describe("submitted"), total=None)

    def _describe(self, state: str) -> str:
        # The task id and the state come from the server: never let them read as rich markup.
        from rich.markup import escape  # noqa: PLC0415 - rich is imported only on a terminal

        return f"{escape(self.task_id)} [bold]{escape(state)}[/bold]"

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, task: TaskInfo) -> None:
        """Update the line with the polled state and progress."""
        description = self._describe(task.state.value)
        if task.is_terminal:
            self._progress.update(self._bar, description=description, total=100, completed=100)
        else:
            self._progress.update(self._bar, description=description)


def make_reporter(task_id: str, output: Output) -> ProgressReporter:
    """Return a rich reporter when stderr is a terminal, plain lines otherwise, nothing when quiet."""
    if output.quiet:
        return SilentProgress(task_id)
    isatty = getattr(output.stderr, "isatty", None)
    if callable(isatty) and isatty():
        return RichProgress(task_id, output)
    return PlainProgress(task_id, output)
