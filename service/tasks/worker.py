"""Worker and schedule processes: `briefing worker` and `briefing beat`, and the worker that
`briefing serve` starts itself when nothing else runs one (zero configuration)."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from celery.beat import EmbeddedService
from celery.signals import worker_shutdown

from service.onnx_models import use_threads
from service.settings import Settings
from service.tasks.app import BriefingCelery, make_celery

log = logging.getLogger(__name__)


def run_worker(settings: Settings, *, concurrency: int | None = None, beat: bool = False) -> None:
    """Run a worker in this process until it is stopped (threads pool: the models are loaded once
    per process, and the CPU-heavy parts run in onnxruntime and llama.cpp, outside the GIL)."""
    use_threads(settings.queue.onnx_threads)
    app = make_celery(settings)
    argv = ["worker", "--pool=threads", f"--concurrency={concurrency or settings.queue.concurrency}",
            "--loglevel=INFO", "--without-mingle", "--without-gossip"]
    if beat:
        # why: a thread, not Celery's `--beat` (a forked process, which outlives a worker killed with -9)
        EmbeddedService(app, thread=True, schedule_filename=_schedule_file(settings)).start()
    _close_on_shutdown(app)
    app.worker_main(argv)


def run_beat(settings: Settings) -> None:
    """Run the schedule alone (one process for the whole deployment)."""
    make_celery(settings).start(["beat", "--loglevel=INFO", f"--schedule={_schedule_file(settings)}"])


def _schedule_file(settings: Settings) -> str:
    # why: beat keeps when each entry last ran; it is per deployment, not worth a setting
    return str(Path(tempfile.gettempdir()) / f"briefing-beat-{os.getuid()}-{settings.fingerprint()}")


def _close_on_shutdown(app: BriefingCelery) -> None:
    def close(**_: object) -> None:
        app.runtime.close()

    worker_shutdown.connect(close, weak=False)


def _die_with_parent() -> None:
    # why: a worker started by `briefing serve` must not outlive it, even after kill -9
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class OwnWorker:
    """The worker `briefing serve` starts (zero configuration): started again, after a growing pause,
    whenever it exits on its own, and stopped with the server (a warm shutdown, then a kill)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.restarts = 0
        self.process = spawn_worker(env)
        self._stopping = threading.Event()
        # why: the watcher also starts the replacements, so it lives as long as they may (a child
        # dies with the thread that started it)
        self._watcher = threading.Thread(target=self._watch, name="briefing-worker-watch", daemon=True)
        self._watcher.start()

    @property
    def alive(self) -> bool:
        """Whether the worker process is running now."""
        return self.process.poll() is None

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            code = self.process.poll()
            if code is None:
                continue
            self.restarts += 1
            log.error("the worker process exited with code %s; starting another (restart %d)", code, self.restarts)
            if self._stopping.wait(min(30.0, 2.0 ** min(self.restarts - 1, 5))):
                return
            self.process = spawn_worker(self.env)

    def stop(self) -> None:
        """Stop the worker: running tasks finish (warm shutdown), or are taken again after a restart."""
        self._stopping.set()
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._watcher.join(5)


def briefing_command(*args: str) -> list[str]:
    """The `briefing` command line with these arguments, run by this Python (no installed script needed)."""
    return [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main(sys.argv[1:]))", *args]


def spawn_worker(env: dict[str, str], log_file: Path | None = None) -> subprocess.Popen[bytes]:
    """Start `briefing worker --beat` as a child process with these extra settings."""
    command = briefing_command("worker", "--beat")
    sink = log_file.open("ab") if log_file else None
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=sink, stderr=sink, preexec_fn=preexec)
