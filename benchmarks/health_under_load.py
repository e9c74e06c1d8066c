"""Benchmark: does /healthz answer fast while the API is busy?

    python benchmarks/health_under_load.py [--clients 50] [--seconds 20]

Serves the API (uvicorn, SQLite in a temporary folder, jobs run inline) against a fake
OpenAI-compatible backend that answers at once, so only this service's own work counts. 50 clients
mix small briefings made at once, stored articles and reads; one more client asks /healthz every
50 ms. Prints /healthz latency (p50, p99, max) alone and under the load, the load's requests by
status, and what /readyz said under it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_backend import FakeBackend  # noqa: E402 - after the path is set

SMALL = (
    "The city council of Springfield approved a budget of 40 million dollars on Monday, the mayor said.\n"
    "The budget funds two new schools and repairs to the harbour bridge, officials said."
)
KEY = {"Authorization": "Bearer bench"}


async def _client(http: httpx.AsyncClient, n: int, until: float, seen: Counter[int]) -> None:
    rng = random.Random(n)
    ids: list[str] = []
    while time.monotonic() < until:
        pick = rng.random()
        if pick < 0.3:
            response = await http.post("/v1/briefings", json={"articles": [{"text": f"{SMALL} Item {n}."}]},
                                       headers=KEY)
            if response.status_code == 201:
                ids.append(response.json()["id"])
        elif pick < 0.45:
            response = await http.post("/v1/articles", json={"articles": [{"text": f"{SMALL} {rng.random()}"}]},
                                       headers=KEY)
        elif pick < 0.65 and ids:
            response = await http.get(f"/v1/briefings/{rng.choice(ids)}")
        elif pick < 0.85:
            response = await http.get("/v1/briefings", params={"limit": 20})
        else:
            response = await http.get("/v1/articles", params={"limit": 20})
        seen[response.status_code] += 1


async def _probe(http: httpx.AsyncClient, until: float, ready: Counter[str]) -> list[float]:
    latencies = []
    while time.monotonic() < until:
        started = time.perf_counter()
        response = await http.get("/healthz")
        assert response.status_code == 200
        latencies.append(time.perf_counter() - started)
        if len(latencies) % 20 == 0:
            ready[str((await http.get("/readyz")).json().get("checks", {}).get("load", "?"))[:40]] += 1
        await asyncio.sleep(0.05)
    return latencies


async def _run(url: str, clients: int, seconds: float) -> tuple[list[float], list[float], Counter[int], Counter[str]]:
    seen: Counter[int] = Counter()
    ready: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=clients)) as http, \
            httpx.AsyncClient(base_url=url, timeout=120) as prober:
        alone = await _probe(prober, time.monotonic() + 3, Counter())
        until = time.monotonic() + seconds
        _, loaded = await asyncio.gather(
            asyncio.gather(*(_client(http, n, until, seen) for n in range(clients))),
            _probe(prober, until, ready),
        )
    return alone, loaded, seen, ready


def _figures(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms ({len(ms)} probes)"


def main() -> None:
    import uvicorn

    from service.api.app import create_app
    from service.llm import build_chat_model
    from tests.conftest import make_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    with FakeBackend() as backend:
        folder = Path(tempfile.mkdtemp())
        settings = make_settings(api_keys="bench", database_url=f"sqlite:///{folder / 'bench.db'}")
        app = create_app(settings, model=build_chat_model(settings.llm, backend.url), inline_jobs=True)
        server = uvicorn.Server(uvicorn.Config(app, port=8766, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.1)
        httpx.post("http://127.0.0.1:8766/v1/briefings", json={"articles": [{"text": SMALL}]}, headers=KEY,
                   timeout=120)  # warm up: models loaded
        alone, loaded, seen, ready = asyncio.run(_run("http://127.0.0.1:8766", args.clients, args.seconds))
        server.should_exit = True
    print(f"/healthz alone: {_figures(alone)}")
    print(f"/healthz with {args.clients} clients for {args.seconds:.0f} s: {_figures(loaded)}")
    print(f"load: {sum(seen.values())} requests, by status {dict(sorted(seen.items()))}")
    print(f"/readyz 'load' check under it: {dict(ready)}")


if __name__ == "__main__":
    main()
