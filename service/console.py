"""Progress on the terminal: rich bars when stderr is a terminal, plain lines when it is not (a log,
a pipe, CI), so nothing depends on where the output goes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from service.progress import Progress

PREFIX = "briefing: "


class Lines:
    """Plain lines on a stream: every note, and a task at its first step, each tenth of it, and its end."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._shown: dict[str, int] = {}

    def note(self, message: str) -> None:
        """Print the note."""
        print(PREFIX + message, file=self.stream, flush=True)

    def step(self, task: str, done: int, total: int) -> None:
        """Print the count when it crosses a tenth of the total (always the first and the last)."""
        tenth = done * 10 // total if total else 10
        if done in (1, total) or tenth > self._shown.get(task, -1):
            self._shown[task] = tenth
            self.note(f"{task}: {done}/{total}")


class Bars:
    """One rich progress bar per task, notes printed above the bars."""

    def __init__(self, bars: RichProgress) -> None:
        self.bars = bars
        self._tasks: dict[str, TaskID] = {}

    def note(self, message: str) -> None:
        """Print the note above the bars."""
        self.bars.console.print(PREFIX + message, highlight=False, markup=False)

    def step(self, task: str, done: int, total: int) -> None:
        """Move the task's bar, adding it on its first step."""
        if task not in self._tasks:
            self._tasks[task] = self.bars.add_task(task, total=total)
        self.bars.update(self._tasks[task], completed=done, total=total)


@contextmanager
def terminal_progress(stream: TextIO | None = None) -> Iterator[Progress]:
    """Yield the progress reporter that suits the stream (stderr by default)."""
    stream = stream or sys.stderr
    if not stream.isatty():
        yield Lines(stream)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with RichProgress(*columns, console=Console(file=stream)) as bars:
        yield Bars(bars)


def error(message: str) -> None:
    """Print a one-line error on stderr."""
    print(f"{PREFIX}error: {message}", file=sys.stderr, flush=True)
