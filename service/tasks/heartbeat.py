"""A running job's heartbeat: its row says, every few seconds, that its claimant is alive."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def heartbeat(beat: Callable[[], bool], every_s: float) -> Iterator[None]:
    """Call `beat` every `every_s` seconds on a thread while the block runs. It stops when `beat` says
    the job is no longer this claimant's; a beat that fails (the database away) is tried at the next."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every_s):
            try:
                if not beat():
                    log.warning("heartbeat: the job is no longer this attempt's; beating stops")
                    return
            except Exception as err:  # noqa: BLE001 - a missed beat is made up at the next one
                log.warning("heartbeat failed, trying again in %.0f s: %s", every_s, err)

    threading.Thread(target=run, name="heartbeat", daemon=True).start()
    try:
        yield
    finally:
        stop.set()  # why: not joined: the event loop calls this too; a late beat of a finished job changes nothing
