"""The FastAPI app: routers, one error shape, body limit, metrics, the job workers and the digest worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api import errors, openapi
from service.api.cache import DoneCache
from service.api.limits import BodySizeLimit
from service.api.metrics import Metrics
from service.api.routers import articles, briefings, digests, health
from service.digest.schedule import DigestWorker
from service.jobs import JobWorkers
from service.llm import open_chat_model
from service.settings import Settings, get_settings
from service.store import Store

log = logging.getLogger(__name__)


class _Metered:
    """Pure ASGI middleware (BaseHTTPMiddleware costs a large share of a fast request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = metrics.middleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def create_app(
    settings: Settings | None = None, *, model: BaseChatModel | None = None, run_jobs: bool = True
) -> FastAPI:
    """Build the app; with no model given, the configured backend (or embedded server) is opened."""
    settings = settings or get_settings()
    store = Store(settings.database_url)
    metrics = Metrics(store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store.migrate()
        requeued = store.requeue_unfinished()  # jobs a killed process left running
        if requeued:
            log.warning("requeued %d unfinished job(s)", requeued)
        with ExitStack() as stack:
            chat = model or stack.enter_context(open_chat_model(settings))
            app.state.model = chat
            app.state.llm_url = str(getattr(chat, "openai_api_base", "") or settings.llm.base_url or "")
            workers = JobWorkers(store, settings, chat, metrics.count_briefing)
            digest_worker = DigestWorker(store, settings, chat)
            if run_jobs:
                workers.start()
                digest_worker.start()
            app.state.workers, app.state.digest_worker = workers, digest_worker
            try:
                yield
            finally:
                digest_worker.stop()
                workers.stop()

    app = FastAPI(
        title="briefing", version="0.1.0", lifespan=lifespan,
        description="Short, neutral news briefings whose every sentence cites its sources.",
    )
    app.state.settings, app.state.store, app.state.metrics = settings, store, metrics
    app.state.done_cache = DoneCache(settings.api.cache_briefings)
    errors.install(app)
    openapi.install(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(_Metered, metrics=metrics)
    for module in (briefings, articles, digests, health):
        app.include_router(module.router)
    return app
