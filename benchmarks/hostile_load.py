"""Benchmark: does one hostile article slow everyone else down?

    python benchmarks/hostile_load.py

Serves the API (uvicorn, SQLite in a temporary folder, with the worker process `briefing serve`
starts) against a fake OpenAI-compatible backend that answers at once, so only this service's
own CPU work counts. Measures a small briefing made at once and /healthz alone, then again while
a 100,000-character article of templated sentences is being briefed by the worker. Prints the
latencies and their ratios.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_backend import FakeBackend  # noqa: E402 - after the path is set

SMALL = (
    "The city council of Springfield approved a budget of 40 million dollars on Monday, the mayor said.\n"
    "The budget funds two new schools and repairs to the harbour bridge, officials said."
)
KEY = {"Authorization": "Bearer bench"}
def _hostile() -> str:
    rng = random.Random(1)
    names = ["Alice Moreno", "the council", "Bob Smith", "the ministry", "Acme Corp"]
    paragraphs: list[str] = []
    while sum(len(p) for p in paragraphs) < 100_000:
        paragraphs.append(" ".join(
            f"{rng.choice(names)} said on Monday that {rng.randint(1, 999)} people attended the meeting in "
            f"{rng.choice(['Paris', 'Lyon', 'Nice'])}." for _ in range(4)
        ))
    return "\n\n".join(paragraphs)


def _timed(call: Any) -> float:
    started = time.perf_counter()
    response = call()
    assert response.status_code < 500, response.text
    return time.perf_counter() - started


def main() -> None:
    import uvicorn

    from service.api.app import create_app
    from service.llm import build_chat_model
    from service.settings import get_settings

    backend = FakeBackend()
    folder = Path(tempfile.mkdtemp())
    # through the environment, so the worker process the server starts has the same settings
    os.environ.update({"BRIEFING_API_KEYS": "bench", "BRIEFING_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
                       "BRIEFING_API__MAX_ARTICLE_CHARS": "200000", "BRIEFING_LLM__BASE_URL": backend.url,
                       "BRIEFING_DIGEST__SCHEDULE_ENABLED": "false"})
    settings = get_settings()
    model = build_chat_model(settings.llm, backend.url)
    app = create_app(settings, model=model, start_worker=True)
    server = uvicorn.Server(uvicorn.Config(app, port=8765, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.1)
    base = "http://127.0.0.1:8765"
    with httpx.Client(base_url=base, timeout=600) as client:
        def small() -> httpx.Response:
            return client.post("/v1/briefings", json={"articles": [{"text": SMALL}]}, headers=KEY)

        def health() -> httpx.Response:
            return client.get("/healthz")

        small()  # warm up: models loaded
        solo = [_timed(small) for _ in range(5)]
        solo_health = [_timed(health) for _ in range(20)]
        job = client.post("/v1/briefings", json={"articles": [{"text": _hostile()}]}, headers=KEY).json()
        during, during_health = [], []
        started = time.perf_counter()
        while client.get(f"/v1/briefings/{job['id']}").json()["status"] in ("queued", "running"):
            during.append(_timed(small))
            during_health += [_timed(health) for _ in range(5)]
        hostile_s = time.perf_counter() - started
    server.should_exit = True
    backend.stop()
    print(f"hostile article briefed in {hostile_s:.1f} s; {len(during)} small briefings meanwhile")
    alone, meanwhile = statistics.median(solo), statistics.median(during or [0])
    print(f"small briefing, median: alone {alone:.3f} s, during {meanwhile:.3f} s ({meanwhile / alone:.2f}x)")
    print(f"/healthz, max: alone {max(solo_health) * 1000:.0f} ms, during {max(during_health or [0]) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
