"""`briefing serve` as a real process under load and under kill -9, on SQLite and PostgreSQL,
against the fake backend (fast, no embedded model)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.models import Status
from service.storage import Store
from tests.fake_backend import FakeBackend
from tests.served import Served, serve, wait_for
from tests.test_api import KEY, LONG, SHORT

CLIENTS, LOAD_S = 100, 20.0
UNFINISHED = {Status.QUEUED, Status.RUNNING}


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    with FakeBackend() as fake:
        yield fake


def _env(database_url: str, backend: FakeBackend, tmp_path: Path) -> dict[str, str]:
    return {
        "BRIEFING_DATABASE_URL": database_url, "BRIEFING_LLM__BASE_URL": backend.url, "BRIEFING_API_KEYS": "k1",
        "BRIEFING_LLM__MAX_RETRIES": "0", "BRIEFING_DIGEST__SCHEDULE_ENABLED": "false",
        "BRIEFING_DIGEST__OUTPUT_DIR": str(tmp_path / "digests"),
        # short limits, so a job whose worker was killed is taken again within seconds
        "BRIEFING_QUEUE__SOFT_TIME_LIMIT_S": "8", "BRIEFING_QUEUE__TIME_LIMIT_S": "10",
        "BRIEFING_QUEUE__VISIBILITY_TIMEOUT_S": "15", "BRIEFING_QUEUE__TICK_S": "1",
        "BRIEFING_QUEUE__RESEND_AFTER_S": "2", "BRIEFING_QUEUE__HEARTBEAT_S": "1",
        "BRIEFING_QUEUE__STALE_AFTER_S": "5",
    }


async def _client_loop(http: httpx.AsyncClient, n: int, until: float, seen: Counter[int], ids: list[str]) -> None:
    rng = random.Random(n)
    while time.monotonic() < until:
        pick = rng.random()
        if pick < 0.25:
            response = await http.post("/v1/briefings", json={"articles": [{"text": f"{SHORT} Item {n}."}]},
                                       headers=KEY)
            if response.status_code in (201, 202):
                ids.append(response.json()["id"])
        elif pick < 0.27:
            response = await http.post("/v1/briefings", json={"articles": [{"text": LONG}]}, headers=KEY)
        elif pick < 0.40:
            response = await http.post("/v1/articles", json={"articles": [{"text": f"{SHORT} Note {rng.random()}."}]},
                                       headers=KEY)
        elif pick < 0.55 and ids:
            response = await http.get(f"/v1/briefings/{rng.choice(ids)}")
        elif pick < 0.70:
            response = await http.get("/v1/briefings", params={"limit": 20})
        elif pick < 0.80:
            response = await http.get("/v1/articles", params={"since": "2024-01-01T00:00:00Z"})
        elif pick < 0.85:
            response = await http.get("/metrics")
        else:
            response = await http.get("/healthz")
        seen[response.status_code] += 1


async def _load(url: str) -> Counter[int]:
    seen: Counter[int] = Counter()
    ids: list[str] = []
    until = time.monotonic() + LOAD_S
    limits = httpx.Limits(max_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        await asyncio.gather(*(_client_loop(http, n, until, seen, ids) for n in range(CLIENTS)))
    return seen


def _unfinished(store: Store) -> list[Status]:
    rows, _ = store.briefings.page(offset=0, limit=10_000)
    return [row.status for row in rows if row.status in UNFINISHED]


def test_a_hundred_clients_for_twenty_seconds_get_no_5xx_and_leave_no_job_unfinished(
    database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    store = Store(database_url)
    with serve(_env(database_url, backend, tmp_path), tmp_path / "serve.log") as served:
        seen = asyncio.run(_load(served.url))
        print(f"{database_url.split(':')[0]}: {sum(seen.values())} requests in {LOAD_S:.0f} s, by status {dict(seen)}")
        assert sum(seen.values()) > CLIENTS * 2, seen  # every client was served again and again
        assert not [status for status in seen if status >= 500], seen
        wait_for(lambda: not _unfinished(store), timeout_s=180)
    assert seen[201] and seen[200], seen


def _status(served: Served, path: str) -> str:
    return str(httpx.get(f"{served.url}{path}").json()["status"])


def test_health_answers_while_every_thread_is_busy_and_readiness_says_saturated(
    database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    """With one request thread held by a briefing waiting on a slow backend and another request waiting
    for it, /healthz still answers before either finishes, and /readyz says the node is saturated."""
    env = {**_env(database_url, backend, tmp_path), "BRIEFING_API__THREADS": "1"}
    backend.delay_s = 4.0

    async def scenario(url: str) -> tuple[list[httpx.Response], bool, list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            slow = [asyncio.create_task(http.post("/v1/briefings", json={"articles": [{"text": f"{SHORT} {n}"}]},
                                                  headers=KEY)) for n in range(2)]
            while backend.requests == 0:
                await asyncio.sleep(0.05)
            while "saturated" not in (ready := await http.get("/readyz")).json()["checks"]["load"]:
                assert not all(task.done() for task in slow), "never saturated"
                await asyncio.sleep(0.05)
            during = [await http.get("/healthz"), ready]
            answered_first = not any(task.done() for task in slow)
            await asyncio.gather(*slow)
            return during, answered_first, [await http.get("/readyz")]

    with serve(env, tmp_path / "serve.log") as served:
        (health, ready), answered_first, [after] = asyncio.run(scenario(served.url))
    assert health.status_code == 200 and answered_first
    assert ready.status_code == 503 and ready.json()["checks"] == {
        "load": "saturated: 1 of 1 threads busy, 1 requests waiting"}
    assert after.status_code == 200 and after.json()["checks"]["load"] == "ok"


def test_kill_9_mid_briefing_then_a_restart_finishes_it_once(
    database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    env, log = _env(database_url, backend, tmp_path), tmp_path / "serve.log"
    backend.delay_s = 30.0  # the job is mid-call when the process dies
    with serve(env, log) as served:
        queued = httpx.post(f"{served.url}/v1/briefings", json={"articles": [{"text": LONG}]}, headers=KEY).json()
        path = f"/v1/briefings/{queued['id']}"
        wait_for(lambda: _status(served, path) == Status.RUNNING and backend.requests > 0, timeout_s=60)
        worker = served.descendants()
        assert worker  # the worker process `briefing serve` started
        served.kill()
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in worker), timeout_s=10)  # it died too
    store = Store(database_url)
    assert store.briefings.get(queued["id"]).status == Status.RUNNING  # type: ignore[union-attr]
    backend.delay_s = 0.0
    with serve(env, log) as served:
        wait_for(lambda: _status(served, path) == Status.DONE, timeout_s=120)
        done = httpx.get(f"{served.url}{path}").json()
    assert done["briefing"]["key_points"] or done["briefing"]["summary"]
    row = store.briefings.get(queued["id"])
    assert row is not None and row.attempts == 2
    rows, total = store.briefings.page(offset=0, limit=10)
    assert total == 1  # finished once: no second row, no second briefing


def test_kill_9_mid_digest_then_a_restart_finishes_it(database_url: str, backend: FakeBackend, tmp_path: Path) -> None:
    env, log = _env(database_url, backend, tmp_path), tmp_path / "serve.log"
    day = "2024-11-18"
    backend.delay_s = 30.0
    with serve(env, log) as served:
        articles = [{"text": text, "published": f"{day}T09:00:00Z"} for text in (SHORT, LONG)]
        assert httpx.post(f"{served.url}/v1/articles", json={"articles": articles}, headers=KEY).status_code == 201
        assert httpx.post(f"{served.url}/v1/digests/{day}/run", headers=KEY).status_code == 202
        wait_for(lambda: _status(served, f"/v1/digests/{day}") == Status.RUNNING and backend.requests > 0, 60)
        served.kill()
    backend.delay_s = 0.0
    with serve(env, log) as served:
        wait_for(lambda: _status(served, f"/v1/digests/{day}") == Status.DONE, timeout_s=120)
        digest = httpx.get(f"{served.url}/v1/digests/{day}").json()
        listed = httpx.get(f"{served.url}/v1/digests").json()["items"]
    assert digest["stories"]
    assert [item["date"] for item in listed] == [day]


def test_the_worker_serve_started_is_started_again_when_it_dies(
    database_url: str, backend: FakeBackend, tmp_path: Path
) -> None:
    with serve(_env(database_url, backend, tmp_path), tmp_path / "serve.log") as served:
        [first] = served.descendants()
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: served.descendants() not in ([], [first]), timeout_s=30)
        wait_for(lambda: httpx.get(f"{served.url}/readyz").json()["checks"].get("worker") == "ok", timeout_s=30)
        queued = httpx.post(f"{served.url}/v1/briefings", json={"articles": [{"text": LONG}]}, headers=KEY).json()
        wait_for(lambda: _status(served, f"/v1/briefings/{queued['id']}") == Status.DONE, timeout_s=60)
    assert "starting another (restart 1)" in (tmp_path / "serve.log").read_text()
