"""Benchmark: does /healthz answer fast while the API is busy?

    python benchmarks/health_under_load.py [--clients 50] [--seconds 20]

Serves the API (uvicorn, SQLite in a temporary folder, jobs run inline) against a fake
OpenAI-compatible backend that answers at once, so only this service's own work counts. 50 clients
run the load test's mix (tests/test_resilience.py: small briefings made at once, queued long ones,
stored articles, reads, metrics); one more client asks /healthz every 50 ms. Prints /healthz
latency (p50, p99, max) alone and under the load, the load's requests by status, and what
/readyz said under it.
"""

from __future__ import annotations

import argparse
import asyncio
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
from tests.test_api import SHORT  # noqa: E402
from tests.test_resilience import _client_loop  # noqa: E402 - the load test's own mix of clients


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
            asyncio.gather(*(_client_loop(http, n, until, seen, []) for n in range(clients))),
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
        settings = make_settings(api_keys="k1", database_url=f"sqlite:///{folder / 'bench.db'}")
        app = create_app(settings, model=build_chat_model(settings.llm, backend.url), inline_jobs=True)
        server = uvicorn.Server(uvicorn.Config(app, port=8766, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.1)
        httpx.post("http://127.0.0.1:8766/v1/briefings", json={"articles": [{"text": SHORT}]},
                   headers={"Authorization": "Bearer k1"}, timeout=120)  # warm up: models loaded
        alone, loaded, seen, ready = asyncio.run(_run("http://127.0.0.1:8766", args.clients, args.seconds))
        server.should_exit = True
    print(f"/healthz alone: {_figures(alone)}")
    print(f"/healthz with {args.clients} clients for {args.seconds:.0f} s: {_figures(loaded)}")
    print(f"load: {sum(seen.values())} requests, by status {dict(sorted(seen.items()))}")
    print(f"/readyz 'load' check under it: {dict(ready)}")


if __name__ == "__main__":
    main()
