"""`briefing serve` as a real process, for tests that load it or kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from service.local_llm import free_port
from service.tasks.worker import briefing_command

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Served:
    """A running server: its URL and its process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def descendants(self) -> list[int]:
        """Every process started under this one (its worker, their children)."""
        found, frontier = [], [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == parent:
                    found.append(int(stat.parent.name))
                    frontier.append(int(stat.parent.name))
        return found

    def kill(self) -> None:
        """kill -9: no shutdown hook, no finally block runs."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@contextmanager
def serve(env: dict[str, str], log: Path, timeout_s: float = 120.0) -> Iterator[Served]:
    """Start `briefing serve` with these settings on a free port; yield once /healthz answers."""
    port = free_port()
    command = briefing_command("serve", "--port", str(port))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    with log.open("ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env={**environ, **env}, stdout=sink, stderr=sink)
    served = Served(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"briefing serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{served.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"briefing serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield served
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process the tests started: SIGTERM (a warm shutdown), SIGKILL after 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_for(check: Callable[[], bool], timeout_s: float, every_s: float = 0.2) -> None:
    """Call `check` until it returns true, or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not true after {timeout_s} s: {getattr(check, '__name__', check)}")
        time.sleep(every_s)


@contextmanager
def in_thread(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port in this process; yield its URL once it listens."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
