"""Run async pipeline code from sync callers on one long-lived event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_lock = threading.Lock()
_loops: list[asyncio.AbstractEventLoop] = []


def run_sync(job: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on the shared loop and return its result."""
    return asyncio.run_coroutine_threadsafe(job, _shared_loop()).result()


def _shared_loop() -> asyncio.AbstractEventLoop:
    # why: langchain-openai caches its async HTTP client per process, bound to the loop that
    # first used it; a fresh asyncio.run() per call would break every call after the first.
    # The lock keeps two threads calling at once from starting two loops.
    with _lock:
        if not _loops:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="briefing-loop", daemon=True).start()
            _loops.append(loop)
        return _loops[0]
