"""Queued briefings: worker threads claim jobs from the database, so no accepted job is lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.errors import BriefingError
from service.models import Article, Briefing
from service.pipeline.prepare import prepare
from service.pipeline.run import abrief
from service.settings import Settings
from service.store import Store

log = logging.getLogger(__name__)
OnBriefing = Callable[[Briefing], None]


def request_articles(request: dict[str, Any]) -> list[Article]:
    """Turn a stored request's articles into Articles with content ids."""
    return [
        Article(id=Article.make_id(a["text"]), origin=f"request[{n}]", **{k: v for k, v in a.items() if v is not None})
        for n, a in enumerate(request["articles"])
    ]


def request_settings(request: dict[str, Any], settings: Settings) -> Settings:
    """Apply a request's options (prompt versions) to a copy of the settings."""
    return settings.with_overrides(prompts=(request.get("options") or {}).get("prompts"))


def brief_request(request: dict[str, Any], settings: Settings, model: BaseChatModel) -> Briefing:
    """Brief a stored request: prepared on the calling thread, briefed on the shared event loop."""
    settings = request_settings(request, settings)
    corpus = prepare(request_articles(request), settings)
    return run_sync(abrief(corpus, settings=settings, model=model))


class JobWorkers:
    """Threads that run queued briefings until stopped."""

    def __init__(self, store: Store, settings: Settings, model: BaseChatModel, on_briefing: OnBriefing) -> None:
        self.store, self.settings, self.model, self.on_briefing = store, settings, model, on_briefing
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the worker threads."""
        for n in range(self.settings.api.job_workers):
            thread = threading.Thread(target=self._loop, name=f"briefing-job-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking jobs; a job in progress finishes or is requeued at the next start."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def run_one(self) -> bool:
        """Claim and run one queued job; return False when the queue is empty."""
        row = self.store.claim_next()
        if row is None:
            return False
        try:
            briefing = brief_request(row.request, self.settings, self.model)
        except BriefingError as err:
            self.store.finish(row.id, error=str(err))
        except Exception as err:  # noqa: BLE001 - a job must end failed, never stay running
            log.exception("job %s failed", row.id)
            self.store.finish(row.id, error=f"internal error: {type(err).__name__}")
        else:
            self.store.finish(row.id, briefing=briefing.model_dump(mode="json"))
            self.on_briefing(briefing)
        return True

    def _loop(self) -> None:
        poll(self.run_one, self._stop, self.settings.api.job_poll_s)


def poll(work: Callable[[], bool], stop: threading.Event, idle_s: float) -> None:
    """Call `work` until stopped, waiting `idle_s` whenever it finds nothing to do or fails."""
    while not stop.is_set():
        try:
            worked = work()
        except Exception:  # noqa: BLE001 - e.g. the database is briefly away; keep serving
            log.exception("worker loop error")
            worked = False
        if not worked:
            stop.wait(idle_s)
