"""The FastAPI app: routers, one error shape, body limit, metrics, and the task queue its jobs go to."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from langchain_core.language_models import BaseChatModel
from starlette.types import ASGIApp, Receive, Scope, Send

from service.api import deps, errors, openapi
from service.api.cache import DoneCache
from service.api.limits import BodySizeLimit
from service.api.metrics import Metrics
from service.api.routers import articles, briefings, digests, health, pages
from service.llm import open_chat_model
from service.settings import Settings, get_settings
from service.storage import Store
from service.tasks.app import make_celery
from service.tasks.queue import Queue
from service.tasks.worker import OwnWorker

log = logging.getLogger(__name__)


class _Metered:
    """Pure ASGI middleware (BaseHTTPMiddleware costs a large share of a fast request)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = metrics.middleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def create_app(
    settings: Settings | None = None, *, model: BaseChatModel | None = None, start_worker: bool = False,
    inline_jobs: bool = False,
) -> FastAPI:
    """Build the app; with no model given, the configured backend (or embedded server) is opened.

    `start_worker`: start one worker process (with the schedule) beside the API, sharing its LLM
    backend: zero configuration. `inline_jobs`: run each task at once in the thread that sends it
    (Celery's eager mode), for tests that need no worker.
    """
    settings = settings or get_settings()
    store = Store(settings.database_url)
    metrics = Metrics(store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.api.threads
        store.migrate()
        with ExitStack() as stack:
            chat = model or stack.enter_context(open_chat_model(settings))
            app.state.model = chat
            app.state.llm_url = str(getattr(chat, "openai_api_base", "") or settings.llm.base_url or "")
            app.state.queue = Queue(make_celery(settings, model=chat, store=store, eager=inline_jobs))
            app.state.own_worker = None
            if start_worker:
                worker = OwnWorker({"BRIEFING_LLM__BASE_URL": app.state.llm_url})
                log.info("started a worker process (pid %d) with the schedule", worker.process.pid)
                stack.callback(worker.stop)
                app.state.own_worker = worker
            yield

    app = FastAPI(
        title="briefing", version="0.1.0", lifespan=lifespan,
        description="Short, neutral news briefings whose every sentence cites its sources.",
    )
    app.state.settings, app.state.store, app.state.metrics = settings, store, metrics
    app.state.done_cache = DoneCache(settings.api.cache_briefings)
    app.state.page_cache = DoneCache(settings.api.cache_briefings)
    app.state.page_stamps, app.state.page_locks = {}, {}
    errors.install(app, refused_first=deps.refused_key)
    routers = [module.router for module in (briefings, articles, digests, health)]
    openapi.install(app, routers)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes)
    app.add_middleware(_Metered, metrics=metrics)
    for router in routers:
        app.include_router(router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(packages=[("service.pages", "static")]), name="static")
    return app
