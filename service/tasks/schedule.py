"""The schedule, run by Celery beat (one process, never once per worker): request the daily digest
and catch up missed days, retry digests that failed, and resend jobs whose task was lost."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from celery import Task, shared_task

from service.digest.schedule import due_days
from service.settings import Settings
from service.store import Store
from service.tasks.app import runtime_of
from service.tasks.briefings import lease_s
from service.tasks.queue import Queue

log = logging.getLogger(__name__)


def tick_once(store: Store, settings: Settings, queue: Queue, now: datetime) -> dict[str, int]:
    """Do what is due at `now`; return how many digests were requested and jobs resent."""
    requested = 0
    if settings.digest.schedule_enabled:
        for day in due_days(store, now, settings.digest):
            row, queued = store.request_digest(day.isoformat())
            if queued:
                queue.digest(row.date)
                requested += 1
    lost = store.stale_briefings(settings.queue.resend_after_s, lease_s(settings))
    for briefing_id in lost:
        queue.briefing(briefing_id)
    lost_digests = store.stale_digests(settings.queue.resend_after_s, settings.queue.visibility_timeout_s)
    for day_text in lost_digests:
        queue.digest(day_text)
    if lost or lost_digests:
        log.info("resent %d briefing(s) and %d digest run(s) whose task was lost", len(lost), len(lost_digests))
    return {"requested": requested, "resent": len(lost) + len(lost_digests)}


@shared_task(bind=True, name="briefing.tick", ignore_result=True)
def tick(self: Task) -> dict[str, int]:
    """The periodic task beat sends every queue.tick_s."""
    runtime = runtime_of(self.app)
    now = datetime.now(ZoneInfo(runtime.settings.digest.timezone))
    return tick_once(runtime.store, runtime.settings, Queue(self.app), now)

