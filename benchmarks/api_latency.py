"""Benchmark: GET /v1/briefings/{id} on a stored briefing vs a bare FastAPI endpoint, one run.

    python benchmarks/api_latency.py [--clients 50] [--seconds 10]

Each server runs alone in its own uvicorn process on loopback; 50 concurrent connections
from wrk (apt-get install wrk) for a bounded time, or from an httpx client for a bounded
number of requests; prints requests per second and p50/p99 latency for both.
Targets: at least half the bare endpoint's rate, p99 under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stored_briefing_payload() -> dict[str, object]:
    """A realistic briefing: the four example articles, replayed from the test recordings."""
    from service.evals.recording import cassette
    from service.ingest import ingest_paths
    from service.llm import build_chat_model
    from service.pipeline.prepare import prepare
    from service.pipeline.run import brief
    from service.settings import Settings

    settings = Settings()
    settings.llm.max_retries = 0
    model = build_chat_model(settings.llm, "http://127.0.0.1:9/v1")
    with cassette(ROOT / "tests" / "cassettes" / "test_pipeline" / "four_articles.yaml", "none"):
        corpus = prepare(ingest_paths([ROOT / "examples" / "articles"]).articles, settings)
        briefing = brief(corpus, settings=settings, model=model)
    return briefing.model_dump(mode="json")


BARE_APP = '''
import json, os
from fastapi import FastAPI
app = FastAPI()
PAYLOAD = json.load(open(os.environ["BENCH_PAYLOAD"]))
@app.get("/bare/{item_id}")
def bare(item_id: str) -> dict:
    return {"id": item_id, "status": "done", "briefing": PAYLOAD, "error": None}
'''


def serve(kind: str, port: int, folder: Path, payload_file: Path) -> subprocess.Popen[bytes]:
    """Start one server process: the real API ('api') or the bare endpoint ('bare')."""
    env = {**os.environ, "BRIEFING_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
           "BRIEFING_LLM_BASE_URL": "http://127.0.0.1:9/v1", "BRIEFING_API_KEYS": "bench",
           "BENCH_PAYLOAD": str(payload_file)}
    if kind == "api":
        command = [sys.executable, "-m", "uvicorn", "--factory", "service.api.app:create_app"]
    else:
        (folder / "bare_app.py").write_text(BARE_APP)
        command = [sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(folder)]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{kind} server did not start")


def load_wrk(url: str, clients: int, seconds: int) -> dict[str, float]:
    """Measure with wrk (a native load generator): rate and latency percentiles."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", url], capture_output=True, text=True, check=True
    ).stdout
    lines = [line.split() for line in out.splitlines()]
    rate = next(float(parts[-1]) for parts in lines if parts[:1] == ["Requests/sec:"])
    percentile = {parts[0]: _milliseconds(parts[1]) for parts in lines if parts and parts[0] in ("50%", "99%")}
    return {"rps": rate, "p50_ms": percentile["50%"], "p99_ms": percentile["99%"]}


def _milliseconds(duration: str) -> float:
    """Convert wrk's '812.00us', '3.21ms' or '1.02s' to milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if duration.endswith(unit):
            return float(duration[: -len(unit)]) * factor
    raise ValueError(f"unknown duration {duration!r}")


async def load(url: str, requests: int, clients: int) -> dict[str, float]:
    """Send `requests` GETs from `clients` concurrent clients; return rate and latency percentiles."""
    latencies: list[float] = []
    remaining = requests
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        await client.get(url)  # warm up

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def load_arguments(doc: str, per: str) -> argparse.Namespace:
    """The load options of a latency benchmark: requests (httpx), clients, seconds `per` URL (wrk)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10, help=f"with wrk: seconds per {per}")
    parser.add_argument("--python-client", action="store_true", help="use the httpx client even if wrk is installed")
    return parser.parse_args()


def load_tool(args: argparse.Namespace) -> str:
    """Which load generator measures: wrk where installed (unless --python-client), else httpx."""
    return "wrk" if shutil.which("wrk") and not args.python_client else "httpx"


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    """Load one URL with the chosen tool: rate and latency percentiles."""
    if load_tool(args) == "wrk":
        return load_wrk(url, args.clients, args.seconds)
    return asyncio.run(load(url, args.requests, args.clients))


def main() -> None:
    """Measure both servers and print the comparison."""
    args = load_arguments(__doc__ or "", "server")
    from service.local_llm import free_port
    from service.models import Briefing, Status
    from service.requests import ArticleIn, StoredRequest
    from service.storage import Store

    folder = Path(tempfile.mkdtemp(prefix="briefing-bench-"))
    payload = stored_briefing_payload()
    payload_file = folder / "payload.json"
    payload_file.write_text(json.dumps(payload))
    store = Store(f"sqlite:///{folder / 'bench.db'}")
    store.migrate()
    row = store.briefings.create(StoredRequest(articles=[ArticleIn(text="x")]), Status.RUNNING)
    store.briefings.finish(row.id, attempt=row.attempts, briefing=Briefing.model_validate(payload))
    results = {}
    for kind, path in (("bare", f"/bare/{row.id}"), ("api", f"/v1/briefings/{row.id}")):
        port = free_port()
        process = serve(kind, port, folder, payload_file)
        try:
            results[kind] = measure(f"http://127.0.0.1:{port}{path}", args)
        finally:
            process.terminate()
            process.wait()
    size = len(json.dumps(payload))
    print(f"GET a stored briefing ({size:,} bytes of JSON), {args.clients} concurrent clients on loopback "
          f"({load_tool(args)})")
    print(f"{'':28}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, label in (("api", "GET /v1/briefings/{id}"), ("bare", "bare FastAPI endpoint")):
        r = results[kind]
        print(f"{label:28}{r['rps']:>12.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}")
    print(f"ratio api/bare: {results['api']['rps'] / results['bare']['rps']:.2f}x the bare rate")


if __name__ == "__main__":
    main()
