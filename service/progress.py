"""How long work reports on itself: notes, and steps of counted tasks (map chunks, digest stories,
eval runs, scored pairs). The core only calls this protocol; the CLI draws it (`service/console.py`),
the server logs it."""

from __future__ import annotations

import logging
from typing import Protocol


class Progress(Protocol):
    """Where the core reports what it is doing."""

    def note(self, message: str) -> None:
        """Report one event ("skipped x: reason", "wrote y")."""
        ...

    def step(self, task: str, done: int, total: int) -> None:
        """Report that `done` of `total` units of a task are finished."""
        ...


class Quiet:
    """Reports nowhere."""

    def note(self, message: str) -> None:
        """Drop the note."""

    def step(self, task: str, done: int, total: int) -> None:
        """Drop the step."""


class Logged:
    """Reports to a logger: every note, and a task when it finishes."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def note(self, message: str) -> None:
        """Log the note at INFO."""
        self.logger.info("%s", message)

    def step(self, task: str, done: int, total: int) -> None:
        """Log a task's count when it completes."""
        if done == total:
            self.logger.info("%s: %d/%d", task, done, total)


QUIET = Quiet()
