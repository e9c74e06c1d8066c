"""What a day's size costs: ingest and digest of 1,000, 4,000 and 10,000 articles, in one process
and fanned out over 1 and 2 workers.

    python benchmarks/day_size.py [--sizes 1000 4000 10000] [--worker-size 4000]

The articles are written at benchmark time from the 264 distinct public news documents in the
repository (the four examples, SummEdits' 25 news documents, QAGS CNN/DailyMail's 235 sources):
each is a run of one document's sentences with its names and numbers replaced by others', so its
sentences are new and embedding costs what a real day's would; a quarter are copies of an earlier
article (reprinted, or word-spun). The fake backend answers at once, so the times are the
service's own.

One process: `briefing ingest DIR --date DAY` then `briefing digest run --date DAY`, each a child
process on a fresh SQLite database; wall seconds, CPU seconds (user + system) and peak RSS of each.
Workers: the same day in PostgreSQL, a digest run requested through the queue (Redis) and timed
until it is done, with 1 and then 2 `briefing worker --concurrency 1` processes (one ONNX thread
each); its articles are embedded in chunks by the workers (queue.embed_chunk_articles).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.models import Status  # noqa: E402 - after the path is set
from service.settings import Settings  # noqa: E402
from service.storage import Store  # noqa: E402
from service.tasks.app import make_celery  # noqa: E402
from service.tasks.queue import Queue  # noqa: E402
from service.tasks.worker import briefing_command  # noqa: E402
from service.text import sentences  # noqa: E402
from tests import postgres  # noqa: E402
from tests.fake_backend import FakeBackend  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

DAY = "2024-11-18"
_NAME = re.compile(r"(?<=\w )[A-Z][a-z]{2,}")
_NUMBER = re.compile(r"\d+")


def documents() -> list[str]:
    faithfulness = ROOT / "evals" / "data" / "faithfulness"
    summedits = {e["doc"] for e in json.loads((faithfulness / "summedits_news.json").read_text(encoding="utf-8"))}
    qags = {e["source"] for e in json.loads((faithfulness / "qags_cnndm.json").read_text(encoding="utf-8"))}
    examples = {p.read_text(encoding="utf-8") for p in (ROOT / "examples" / "articles").glob("*.txt")}
    return sorted(summedits | qags | examples)


def write_day(folder: Path, size: int, seed: int = 7) -> None:
    """Write `size` article files into `folder`."""
    rng = random.Random(seed)
    docs = [sentences(" ".join(d.split())) for d in documents()]
    names = sorted({m for d in docs for s in d for m in _NAME.findall(s)})
    written: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(size):
        if written and rng.random() < 0.25:
            text = rng.choice(written)
            text = text.replace(" the ", " nan ") if rng.random() < 0.5 else f"Reprinted.\n{text}"
        else:
            doc = rng.choice(docs)
            start = rng.randrange(max(1, len(doc) - 8))
            swap = {name: rng.choice(names) for name in sorted({m for s in doc for m in _NAME.findall(s)})}
            lines = [_NUMBER.sub(lambda _: str(rng.randrange(2, 999)), _NAME.sub(lambda m, s=swap: s[m.group(0)], line))
                     for line in doc[start:start + rng.randint(6, 14)]]
            text = "\n".join(lines)
        written.append(text)
        (folder / f"{n:05d}.txt").write_text(text, encoding="utf-8")


def child(command: list[str], env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Run a command (its output to `log`); return its wall seconds, CPU seconds and peak RSS (MiB)."""
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        raise RuntimeError(f"{' '.join(command)} failed: {log.read_text(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def one_process(size: int, folder: Path, fake_url: str) -> None:
    day = folder / f"day-{size}"
    write_day(day, size)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")} | {
        "BRIEFING_DATABASE_URL": f"sqlite:///{folder / f'day-{size}.db'}", "BRIEFING_LLM__BASE_URL": fake_url,
        "BRIEFING_LLM__MAX_RETRIES": "0", "BRIEFING_DIGEST__OUTPUT_DIR": str(folder / f"out-{size}"),
    }
    ingest = child(briefing_command("ingest", str(day), "--date", DAY), env, folder / f"ingest-{size}.log")
    digest = child(briefing_command("digest", "run", "--date", DAY), env, folder / f"digest-{size}.log")
    for step, (wall, cpu, rss) in (("ingest", ingest), ("digest run", digest)):
        print(f"{size:>6} articles, {step:10}: {wall:7.1f} s wall, {cpu:7.1f} s CPU, peak RSS {rss:6.0f} MiB")


def with_workers(size: int, counts: list[int], folder: Path, fake_url: str) -> None:
    day = folder / f"day-{size}"
    if not day.exists():
        write_day(day, size)
    timings = {}
    with ExitStack() as stack:
        broker = RedisServer()
        broker.start()
        stack.callback(broker.close)
        admin = stack.enter_context(postgres.server())
        for count in counts:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")} | {
                "BRIEFING_DATABASE_URL": postgres.new_database(admin), "BRIEFING_BROKER_URL": broker.url,
                "BRIEFING_LLM__BASE_URL": fake_url, "BRIEFING_LLM__MAX_RETRIES": "0",
                "BRIEFING_DIGEST__SCHEDULE_ENABLED": "false", "BRIEFING_DIGEST__OUTPUT_DIR": str(folder / "out-w"),
            }
            child(briefing_command("ingest", str(day), "--date", DAY), env, folder / f"ingest-w{count}.log")
            timings[count] = _digest_with(count, env, folder)
            print(f"{size:>6} articles, {count} worker{'s' * (count > 1)}: {timings[count]:7.1f} s to the digest")
    if 1 in timings:
        for count, seconds in timings.items():
            print(f"  {count} workers: {timings[1] / seconds:.2f}x one worker")


def _digest_with(count: int, env: dict[str, str], folder: Path) -> float:
    settings = Settings(database_url=env["BRIEFING_DATABASE_URL"], broker_url=env["BRIEFING_BROKER_URL"])
    store = Store(settings.database_url)
    queue = Queue(make_celery(settings))
    processes = []
    for n in range(count):
        log = folder / f"worker{count}-{n}.log"
        processes.append(subprocess.Popen(briefing_command("worker", "--concurrency", "1"), cwd=ROOT, env=env,
                                          stdout=log.open("wb"), stderr=subprocess.STDOUT))
        while "ready." not in log.read_text(errors="replace"):
            time.sleep(0.2)
    try:
        started = time.perf_counter()
        store.digests.request(DAY)
        queue.digest(DAY)
        while (digest := store.digests.get(DAY)) is None or digest.status in (Status.QUEUED, Status.RUNNING):
            time.sleep(0.5)
        if digest.status == Status.FAILED:
            raise RuntimeError(f"the digest failed: {digest.error}")
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 4000, 10000])
    parser.add_argument("--worker-size", type=int, default=4000, help="articles of the day the workers digest")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="briefing-day-"))
    print(f"{os.cpu_count()} cores; fake backend (answers at once); {folder}")
    with FakeBackend() as fake:
        for size in args.sizes:
            one_process(size, folder, fake.url)
        if args.workers:
            with_workers(args.worker_size, args.workers, folder, fake.url)
    print(f"benchmark process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
