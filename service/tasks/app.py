"""The Celery app: broker and result store from the settings, the delivery guarantees every task
relies on, and what a worker process needs at run time (settings, store, chat model)."""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack
from pathlib import Path

from celery import Celery
from langchain_core.language_models import BaseChatModel

from service.llm import open_chat_model
from service.settings import Settings
from service.storage import Store

log = logging.getLogger(__name__)
TASK_MODULES = ["service.tasks.briefings", "service.tasks.digests", "service.tasks.schedule"]


def broker_urls(settings: Settings) -> tuple[str, str]:
    """The broker and result store: BRIEFING_BROKER_URL for both, or else the database itself
    (SQLite: a file beside it, so queue polling never locks the jobs' own file)."""
    if settings.broker_url:
        return settings.broker_url, settings.broker_url
    database = settings.database_url
    if database.startswith("sqlite:///") and len(database) > len("sqlite:///"):
        path = Path(database.removeprefix("sqlite:///"))
        queue_file = path.with_name(f"{path.stem}-queue{path.suffix or '.db'}")
        database = f"sqlite:///{queue_file}"
    return f"sqla+{database}", f"db+{database}"


class Runtime:
    """What tasks use in one worker process: opened once, the chat model only when a task needs it."""

    def __init__(self, settings: Settings, model: BaseChatModel | None = None, store: Store | None = None) -> None:
        self.settings, self.store = settings, store or Store(settings.database_url)
        self._model, self._stack, self._lock = model, ExitStack(), threading.Lock()

    def model(self) -> BaseChatModel:
        """The chat model; the configured backend (or an embedded server) is opened on first use."""
        with self._lock:
            if self._model is None:
                self._model = self._stack.enter_context(open_chat_model(self.settings))
            return self._model

    def close(self) -> None:
        """Stop what the runtime opened (an embedded server)."""
        self._stack.close()


class BriefingCelery(Celery):
    """A Celery app that carries its runtime, so each app (and each test's app) has its own."""

    runtime: Runtime


def make_celery(
    settings: Settings, *, model: BaseChatModel | None = None, store: Store | None = None, eager: bool = False
) -> BriefingCelery:
    """Build the app; a process that has a store and a chat model already (the API) passes them.
    `eager` runs each task at once in the sending thread (Celery's own eager mode, retries included):
    for tests of the API that need no worker."""
    broker, backend = broker_urls(settings)
    queue = settings.queue
    redis = broker.startswith(("redis://", "rediss://"))
    app = BriefingCelery("briefing", broker=broker, backend=backend, include=TASK_MODULES, set_as_current=False)
    app.conf.update(
        # a task is acknowledged when it ends, so one whose worker died is delivered again
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=queue.time_limit_s,
        task_soft_time_limit=queue.soft_time_limit_s,
        # Redis: a task not acknowledged this long is delivered again (the database transport passes
        # its options to SQLAlchemy, and has no such timeout: the schedule's resending covers it)
        broker_transport_options={
            "visibility_timeout": queue.visibility_timeout_s,
            # look for such tasks every few seconds (kombu's default: every 100 s)
            "unacked_restore_interval": max(1.0, min(10.0, queue.visibility_timeout_s / 4)),
            "unacked_restore_throttle": 1,
        } if redis else {},
        result_expires=24 * 3600,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        # why: the API must answer while the broker is away; the row is kept and resent by the schedule
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        broker_connection_timeout=3,
        worker_hijack_root_logger=False,
        worker_send_task_events=True,
        task_send_sent_event=True,
        task_always_eager=eager,
        task_eager_propagates=False,
        # a tick that waited longer than one period is dropped: the next one does its work
        beat_schedule={"tick": {"task": "briefing.tick", "schedule": queue.tick_s,
                                "options": {"expires": queue.tick_s}}},
    )
    app.runtime = Runtime(settings, model, store)
    app.loader.import_default_modules()
    return app


def runtime_of(app: Celery) -> Runtime:
    """The runtime of the app a task runs in."""
    return app.runtime  # type: ignore[attr-defined, no-any-return]
