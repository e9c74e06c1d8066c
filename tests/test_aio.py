"""The shared event loop: one per process, however many threads ask for it at once."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from service import aio


async def _current_loop() -> asyncio.AbstractEventLoop:
    await asyncio.sleep(0)
    return asyncio.get_running_loop()


def test_threads_starting_at_once_share_one_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aio, "_loops", [])  # as at process start: no loop yet
    new_loop = asyncio.new_event_loop

    def slow_new_loop() -> asyncio.AbstractEventLoop:
        time.sleep(0.05)  # widen the window in which a second thread could start its own loop
        return new_loop()

    monkeypatch.setattr(asyncio, "new_event_loop", slow_new_loop)
    start = threading.Barrier(16)
    seen: list[asyncio.AbstractEventLoop] = []

    def work() -> None:
        start.wait()
        seen.append(aio.run_sync(_current_loop()))

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 16 and len(set(map(id, seen))) == 1
