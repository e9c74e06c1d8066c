"""Benchmark: a story's reading page under 50 concurrent clients, beside GET /v1/briefings/{id}.

    python benchmarks/page_latency.py [--clients 50] [--seconds 10] [--requests 4000]

The story is the November story of the four examples (briefed from the test recordings), stored
as a digest with its articles; the API runs alone in its own uvicorn process on loopback, loaded
by wrk (apt-get install wrk) for a bounded time, or by an httpx client for a bounded number of
requests. Prints requests per second and p50/p99 latency of the story page, its first evidence
page, today's page and the JSON briefing. Target: the story page's p99 under 50 ms.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from api_latency import load_arguments, load_tool, measure, serve, stored_briefing_payload  # noqa: E402

DAY = "2024-11-18"


def main() -> None:
    """Store the digest, serve it, and measure each page."""
    args = load_arguments(__doc__ or "", "page")
    from service.ingest import ingest_paths
    from service.local_llm import free_port
    from service.models import Briefing, Digest, DigestStory, Status
    from service.requests import ArticleIn, StoredRequest
    from service.storage import Store

    folder = Path(tempfile.mkdtemp(prefix="briefing-pages-"))
    payload = stored_briefing_payload()
    briefing = Briefing.model_validate(payload)
    store = Store(f"sqlite:///{folder / 'bench.db'}")
    store.migrate()
    store.articles.add(ingest_paths([ROOT / "examples" / "articles"]).articles)
    stories = [DigestStory(id=f"story-{n}", rank=n, article_ids=[s.id for s in section.sources],
                           independent_sources=len(section.sources), briefing=section,
                           disagreements=section.disagreements)
               for n, section in enumerate(briefing.story_briefings(), 1)]
    store.digests.start(DAY)
    store.digests.finish(DAY, status=Status.DONE, digest=Digest(date=DAY, timezone="UTC", status=Status.DONE,
                                                                 generated_at=datetime.now(UTC), stories=stories))
    row = store.briefings.create(StoredRequest(articles=[ArticleIn(text="x")]), Status.RUNNING)
    store.briefings.finish(row.id, attempt=row.attempts, briefing=briefing)
    paths = {"story page": f"/digests/{DAY}/story-1", "evidence page": f"/digests/{DAY}/story-1/points/1",
             "today": "/", "GET /v1/briefings/{id}": f"/v1/briefings/{row.id}"}
    port = free_port()
    process = serve("api", port, folder, folder / "unused.json")
    results = {}
    try:
        for label, path in paths.items():
            results[label] = measure(f"http://127.0.0.1:{port}{path}", args)
    finally:
        process.terminate()
        process.wait()
    print(f"reading pages of the examples' November story, {args.clients} concurrent clients on loopback "
          f"({load_tool(args)})")
    print(f"{'':26}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for label, r in results.items():
        print(f"{label:26}{r['rps']:>12.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}")


if __name__ == "__main__":
    main()
