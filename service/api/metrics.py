"""Prometheus metrics: requests, latencies, jobs by state, queue depth, task run time and failures by
kind (read from the database, so they cover every worker), and the LLM use of briefings made at once."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.models import Briefing
from service.storage import Store

# why: a label takes its values from a closed set; any method a client invents ("ZZPROBE") would
# otherwise add a series per name, and /metrics would grow without bound
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


class _JobsCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily("briefing_jobs", "Briefing jobs by state.", labels=["state"])
        for state, count in self.store.briefings.count_by_status().items():
            gauge.add_metric([state], count)
        yield gauge
        depth = GaugeMetricFamily("briefing_queue_depth", "Jobs waiting for a worker.", labels=["task"])
        running = GaugeMetricFamily("briefing_tasks_running", "Jobs a worker holds now.", labels=["task"])
        latency = SummaryMetricFamily("briefing_task_seconds", "Run time of finished task attempts.",
                                      labels=["task"])
        failures = CounterMetricFamily("briefing_task_failures", "Failed jobs by why.", labels=["task", "kind"])
        for stats in self.store.task_stats():
            depth.add_metric([stats.kind], stats.queued)
            running.add_metric([stats.kind], stats.running)
            latency.add_metric([stats.kind], count_value=stats.finished, sum_value=stats.seconds)
            for kind, count in stats.failures.items():
                failures.add_metric([stats.kind, kind], count)
        yield from (depth, running, latency, failures)


class Metrics:
    """One registry per app, so tests and several apps never share counters."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "briefing_http_requests", "HTTP requests.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "briefing_http_request_seconds", "HTTP request latency.", ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
        )
        self.llm_calls = Counter("briefing_llm_calls", "LLM calls made.", registry=self.registry)
        self.llm_tokens = Counter("briefing_llm_tokens", "LLM tokens.", ["kind"], registry=self.registry)
        self.registry.register(_JobsCollector(store))

    def count_briefing(self, briefing: Briefing) -> None:
        """Add a finished briefing's LLM usage."""
        self.llm_calls.inc(briefing.run.llm_calls)
        self.llm_tokens.labels("prompt").inc(briefing.run.prompt_tokens)
        self.llm_tokens.labels("completion").inc(briefing.run.completion_tokens)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Wrap an ASGI app to count and time every request by its route template."""
        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                method = scope["method"] if scope["method"] in METHODS else OTHER
                self.requests.labels(method, route, str(status)).inc()
                self.latency.labels(route).observe(time.perf_counter() - started)

        return counted

    def render(self) -> Response:
        """Return the text exposition."""
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")
