"""The schedule, run by Celery beat (one process, never once per worker): request the daily digest
and catch up missed days, retry digests that failed, and resend jobs whose task was lost."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import Task, shared_task

from service.digest.schedule import due_days
from service.settings import Settings
from service.storage import Store
from service.tasks.app import runtime_of
from service.tasks.queue import Queue

log = logging.getLogger(__name__)


def tick_once(store: Store, settings: Settings, queue: Queue, now: datetime) -> dict[str, int]:
    """Do what is due at `now`; return how many digests were requested and jobs resent."""
    requested = 0
    if settings.digest.schedule_enabled:
        for day in due_days(store.digests, now, settings.digest):
            row, queued = store.digests.request(day.isoformat())
            if queued:
                queue.digest(row.date)
                requested += 1
    briefings = store.briefings.stale(settings.queue.resend_after_s, settings.queue.stale_after_s)
    digests = store.digests.stale(settings.queue.resend_after_s, settings.queue.visibility_timeout_s)
    # A job waiting long is usually just behind others; resend only as many as the broker lacks
    # messages for (jobs queued minus messages waiting), oldest first, so a backlog is not doubled.
    in_broker = queue.waiting()
    lacking = None if in_broker is None else max(0, store.queued_count() - in_broker)
    waiting = [(queue.briefing, k) for k in briefings.waiting] + [(queue.digest, k) for k in digests.waiting]
    resend = ([(queue.briefing, k) for k in briefings.abandoned] + [(queue.digest, k) for k in digests.abandoned]
              + waiting[:lacking])
    for send, key in resend:
        send(key)
    if resend:
        log.info("resent %d job(s) whose task was lost", len(resend))
    return {"requested": requested, "resent": len(resend)}


@shared_task(bind=True, name="briefing.tick", ignore_result=True)
def tick(self: Task) -> dict[str, int]:
    """The periodic task beat sends every queue.tick_s."""
    runtime = runtime_of(self.app)
    now = datetime.now(ZoneInfo(runtime.settings.digest.timezone))
    return tick_once(runtime.store, runtime.settings, Queue(self.app), now)

