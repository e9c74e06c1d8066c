"""The task queue against real servers: a real Redis-protocol server (Valkey), real `briefing worker`
and `briefing serve` processes, and the fake backend (fast, no embedded model). Jobs survive workers killed with -9,
broker restarts and poisoned input, and no job runs twice."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import update

from service.models import ErrorKind, Status
from service.requests import StoredRequest
from service.settings import Settings
from service.storage import Store
from service.storage.tables import BriefingRow
from service.tasks.app import make_celery
from service.tasks.queue import Queue
from service.tasks.schedule import tick_once
from service.tasks.worker import briefing_command
from tests import redis_server
from tests.fake_backend import FakeBackend
from tests.served import ROOT, Served, serve, stop, wait_for
from tests.test_api import KEY, LONG

POISON = "Poisoned-Marker-7731"


@pytest.fixture
def broker() -> Iterator[redis_server.RedisServer]:
    server = redis_server.RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    with FakeBackend(poison=POISON) as fake:
        yield fake


@pytest.fixture
def env(database_url: str, broker: redis_server.RedisServer, backend: FakeBackend, tmp_path: Path) -> dict[str, str]:
    return {
        "BRIEFING_DATABASE_URL": database_url, "BRIEFING_BROKER_URL": broker.url, "BRIEFING_API_KEYS": "k1",
        "BRIEFING_LLM__BASE_URL": backend.url, "BRIEFING_LLM__MAX_RETRIES": "0",
        "BRIEFING_QUEUE__START_WORKER": "false", "BRIEFING_DIGEST__SCHEDULE_ENABLED": "false",
        "BRIEFING_DIGEST__OUTPUT_DIR": str(tmp_path / "digests"),
        # short limits, so a job whose worker was killed is delivered again within seconds
        "BRIEFING_QUEUE__SOFT_TIME_LIMIT_S": "8", "BRIEFING_QUEUE__TIME_LIMIT_S": "10",
        "BRIEFING_QUEUE__VISIBILITY_TIMEOUT_S": "20", "BRIEFING_QUEUE__TICK_S": "1",
        "BRIEFING_QUEUE__RESEND_AFTER_S": "3", "BRIEFING_QUEUE__MAX_RETRIES": "2",
        "BRIEFING_QUEUE__RETRY_BACKOFF_S": "0.5", "BRIEFING_QUEUE__HEARTBEAT_S": "1",
        "BRIEFING_QUEUE__STALE_AFTER_S": "5",
    }


@contextmanager
def worker(env: dict[str, str], log: Path, *, beat: bool = False) -> Iterator[subprocess.Popen[bytes]]:
    """`briefing worker` as its own process; stopped (warm) on exit unless already killed."""
    command = briefing_command("worker", *(["--beat"] if beat else []))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BRIEFING_")}
    with log.open("ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env={**environ, **env}, stdout=sink, stderr=sink)
    try:
        yield process
    finally:
        stop(process)


def _post(served: Served, text: str = LONG) -> str:
    response = httpx.post(f"{served.url}/v1/briefings", json={"articles": [{"text": text}]}, headers=KEY, timeout=30)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def _done(store: Store, *ids: str) -> bool:
    return all(row is not None and row.status in (Status.DONE, Status.FAILED)
               for row in (store.briefings.get(i) for i in ids))


def _killed_mid_job(served: Served, env: dict[str, str], backend: FakeBackend, store: Store, tmp_path: Path) -> str:
    """Post a job, kill -9 its worker while the job waits on the backend (then made instant again);
    return the job, left running."""
    with worker(env, tmp_path / "first.log") as first:
        job = _post(served)
        wait_for(lambda: backend.requests > 0, timeout_s=60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert store.briefings.get(job).status == Status.RUNNING  # type: ignore[union-attr]
    backend.delay_s = 0.0
    return job


def test_a_job_accepted_while_no_worker_runs_completes_when_one_starts(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    store = Store(database_url)
    with serve(env, tmp_path / "serve.log") as served:
        job = _post(served)
        assert store.briefings.get(job).status == Status.QUEUED  # type: ignore[union-attr]
        with worker(env, tmp_path / "worker.log"):
            wait_for(lambda: _done(store, job), timeout_s=90)
    row = store.briefings.get(job)
    assert row is not None and row.status == Status.DONE and row.attempts == 1 and row.briefing


def test_kill_9_of_a_worker_mid_job_redelivers_it_and_it_finishes_once(
    env: dict[str, str], database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    store = Store(database_url)
    backend.delay_s = 60.0  # the job is mid-call when its worker dies
    with serve(env, tmp_path / "serve.log") as served:
        job = _killed_mid_job(served, env, backend, store, tmp_path)
        with worker(env, tmp_path / "second.log"):  # no schedule: the broker itself delivers it again
            wait_for(lambda: _done(store, job), timeout_s=120)
    row = store.briefings.get(job)
    assert row is not None and row.status == Status.DONE and row.attempts == 2 and row.briefing
    assert "redelivered" not in (row.error or "")


def test_a_broker_restart_loses_no_accepted_job(
    env: dict[str, str], database_url: str, broker: redis_server.RedisServer, tmp_path: Path
) -> None:
    store = Store(database_url)
    with serve(env, tmp_path / "serve.log") as served:
        sent = [_post(served, f"{LONG}\n\nEdition {n}.") for n in range(3)]  # in the broker, no worker yet
        broker.restart()
        assert httpx.get(f"{served.url}/readyz").json()["checks"]["queue"] == "ok"
        broker.stop()
        lost = _post(served, f"{LONG}\n\nEdition away.")  # the broker is away: kept in the database only
        away = httpx.get(f"{served.url}/readyz", timeout=30)
        assert away.status_code == 503 and away.json()["checks"]["queue"].startswith("unreachable")
        broker.start()
        with worker(env, tmp_path / "worker.log", beat=True):  # the schedule resends what never reached it
            wait_for(lambda: _done(store, *sent, lost), timeout_s=150)
    rows = [store.briefings.get(i) for i in [*sent, lost]]
    assert all(r is not None and r.status == Status.DONE and r.attempts == 1 for r in rows), rows


def test_a_poisoned_job_fails_after_bounded_retries_and_never_blocks_the_queue(
    env: dict[str, str], database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    store = Store(database_url)
    with serve(env, tmp_path / "serve.log") as served, worker(env, tmp_path / "worker.log"):
        # every paragraph carries the marker: whichever passage the pipeline reads, its call fails
        poisoned = _post(served, "\n\n".join(f"{POISON} said: {p}" for p in LONG.split("\n") if p.strip()))
        healthy = [_post(served, f"{LONG}\n\nEdition {n}.") for n in range(3)]
        wait_for(lambda: _done(store, poisoned, *healthy), timeout_s=120)
    row = store.briefings.get(poisoned)
    assert row is not None and row.status == Status.FAILED and row.error_kind == ErrorKind.BACKEND_UNAVAILABLE
    assert "after 2 retries" in (row.error or "")
    assert all(store.briefings.get(i).status == Status.DONE for i in healthy)  # type: ignore[union-attr]


def test_two_api_processes_and_two_workers_run_each_job_once_and_fan_a_digest_out(
    env: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    env = {**env, "BRIEFING_QUEUE__EMBED_CHUNK_ARTICLES": "2"}  # the day's four articles: two chunks to embed
    store = Store(database_url)
    with ExitStack() as stack:
        apis = [stack.enter_context(serve(env, tmp_path / f"serve{n}.log")) for n in range(2)]
        for n in range(2):
            stack.enter_context(worker(env, tmp_path / f"worker{n}.log"))
        jobs = [_post(apis[n % 2], f"{LONG}\n\nEdition {n}.") for n in range(8)]
        day = "2024-11-18"
        articles = [{"text": path.read_text(), "published": f"{day}T12:00:00Z"}
                    for path in sorted((ROOT / "examples" / "articles").glob("*.txt"))]
        assert httpx.post(f"{apis[0].url}/v1/articles", json={"articles": articles}, headers=KEY).status_code == 201
        assert httpx.post(f"{apis[1].url}/v1/digests/{day}/run", headers=KEY).status_code == 202
        wait_for(lambda: _done(store, *jobs), timeout_s=150)
        wait_for(lambda: store.digests.get(day).status in (Status.DONE, Status.PARTIAL), 150)  # type: ignore[union-attr]
    rows = [store.briefings.get(i) for i in jobs]
    assert all(r is not None and r.status == Status.DONE and r.attempts == 1 for r in rows)
    digest = store.digests.get(day)
    assert digest is not None and digest.runs == 1 and digest.digest is not None and len(digest.digest.stories) == 2
    logs = "".join((tmp_path / f"worker{n}.log").read_text() for n in range(2))
    assert logs.count("briefing.brief_story[") >= 2  # one task per story
    assert logs.count("briefing.embed_articles[") >= 2 and "briefing.resume_digest[" in logs


def test_the_schedule_resends_only_what_the_broker_lacks(
    env: dict[str, str], database_url: str, broker: redis_server.RedisServer
) -> None:
    settings = Settings(database_url=database_url, broker_url=broker.url)
    settings.digest.schedule_enabled = False
    store = Store(database_url)
    store.migrate()
    queue = Queue(make_celery(settings))
    jobs = [store.briefings.create(StoredRequest.model_validate({"articles": [{"text": f"{LONG} {n}"}]}), Status.QUEUED)
            for n in range(3)]
    for job in jobs:
        assert queue.briefing(job.id)
    with store.db.sessions.begin() as session:  # waiting long: behind others, or never sent
        session.execute(update(BriefingRow).values(updated_at=datetime.now(UTC) - timedelta(hours=1)))
    now = datetime.now(UTC)
    assert queue.waiting() == 3
    assert tick_once(store, settings, queue, now)["resent"] == 0  # the broker holds all three: a backlog
    redis.Redis.from_url(broker.url).flushall()  # the broker lost them
    assert tick_once(store, settings, queue, now)["resent"] == 3 and queue.waiting() == 3


def _heartbeat_env(env: dict[str, str], database_url: str) -> dict[str, str]:
    """Default time limits, visibility timeout and heartbeat (half an hour, an hour; 5 s, stale after 60 s):
    only the heartbeat can tell a dead worker's job. Redis as broker with PostgreSQL, the database
    transport with SQLite."""
    short = ("SOFT_TIME_LIMIT_S", "TIME_LIMIT_S", "VISIBILITY_TIMEOUT_S", "HEARTBEAT_S", "STALE_AFTER_S")
    kept = {k: v for k, v in env.items() if k.removeprefix("BRIEFING_QUEUE__") not in short}
    if database_url.startswith("sqlite"):
        kept.pop("BRIEFING_BROKER_URL")
    return kept


def test_a_job_whose_worker_was_killed_finishes_once_within_two_minutes(
    env: dict[str, str], database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    """kill -9 of a worker mid-job: its heartbeat stops, the schedule sends the job again after
    queue.stale_after_s (60 s), and another worker takes it over and finishes it, once."""
    env = _heartbeat_env(env, database_url)
    store = Store(database_url)
    backend.delay_s = 300.0  # the job is mid-call when its worker dies
    with serve(env, tmp_path / "serve.log") as served:
        job = _killed_mid_job(served, env, backend, store, tmp_path)
        killed = time.monotonic()
        with worker(env, tmp_path / "second.log", beat=True):
            wait_for(lambda: _done(store, job), timeout_s=150)
        took = time.monotonic() - killed
    row = store.briefings.get(job)
    assert row is not None and row.status == Status.DONE and row.attempts == 2 and row.briefing
    assert took < 120, f"finished {took:.0f} s after the kill"
    assert "resent 1 job(s) whose task was lost" in (tmp_path / "second.log").read_text()


def test_a_slow_job_that_is_alive_is_never_resent(
    env: dict[str, str], database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    """A job that takes five times queue.stale_after_s keeps its heartbeat fresh: the schedule ticking
    every second beside it resends nothing, and it finishes on its first attempt."""
    env = {**_heartbeat_env(env, database_url),
           "BRIEFING_QUEUE__HEARTBEAT_S": "1", "BRIEFING_QUEUE__STALE_AFTER_S": "4"}
    store = Store(database_url)
    backend.delay_s = 20.0
    with serve(env, tmp_path / "serve.log") as served, worker(env, tmp_path / "worker.log", beat=True):
        job = _post(served)
        wait_for(lambda: _done(store, job), timeout_s=150)
    row = store.briefings.get(job)
    assert row is not None and row.status == Status.DONE and row.attempts == 1
    log = (tmp_path / "worker.log").read_text()
    assert "'resent': 0" in log and "whose task was lost" not in log  # the schedule ran, and resent nothing


def test_an_empty_redis_queue_counts_as_empty(broker: redis_server.RedisServer) -> None:
    """Redis keeps no key for an empty queue; the schedule must read that as none waiting, not unknown."""
    queue = Queue(make_celery(Settings(database_url="sqlite://", broker_url=broker.url)))
    assert queue.waiting() == 0
