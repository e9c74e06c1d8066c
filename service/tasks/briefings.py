"""The briefing task: take the job by its row, brief it, store the result once."""

from __future__ import annotations

import logging
from functools import partial

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from service.errors import BriefingError
from service.jobs import brief_request
from service.models import ErrorKind
from service.tasks.app import runtime_of
from service.tasks.heartbeat import heartbeat

log = logging.getLogger(__name__)


def backoff_s(base_s: float, retries: int) -> float:
    """Delay before retry number `retries` + 1: doubling from the base."""
    return float(base_s * 2**retries)


@shared_task(bind=True, name="briefing.run_briefing", ignore_result=True)
def run_briefing(self: Task, briefing_id: str) -> str:
    """Run a queued briefing; a copy of the task for a job another task holds, or one finished, does nothing."""
    runtime = runtime_of(self.app)
    store, settings = runtime.store, runtime.settings
    claim = store.briefings.claim(briefing_id, lease_s=settings.queue.stale_after_s)
    if claim.outcome != "claimed":
        log.info("briefing %s: %s, nothing to do", briefing_id, claim.outcome)
        return claim.outcome
    job = claim.record
    assert job is not None
    retries = self.request.retries or 0
    try:
        with heartbeat(partial(store.briefings.beat, briefing_id, claim.attempt), settings.queue.heartbeat_s):
            briefing = brief_request(job.request, settings, runtime.model())
    except SoftTimeLimitExceeded:
        store.briefings.finish(briefing_id, attempt=claim.attempt, kind=ErrorKind.TIME_LIMIT,
                               error=f"took longer than queue.soft_time_limit_s ({settings.queue.soft_time_limit_s} s)")
    except BriefingError as err:
        if err.retryable and retries < settings.queue.max_retries:
            delay = backoff_s(settings.queue.retry_backoff_s, retries)
            store.briefings.release(briefing_id, claim.attempt, f"{err}; retrying in {delay:.0f} s", due_in_s=delay)
            raise self.retry(countdown=delay, max_retries=settings.queue.max_retries) from None
        tried = f" (after {retries} retries)" if err.retryable else ""
        store.briefings.finish(briefing_id, attempt=claim.attempt, error=f"{err}{tried}", kind=err.kind)
    except Exception as err:  # noqa: BLE001 - a job must end failed, never stay running
        log.exception("briefing %s failed", briefing_id)
        store.briefings.finish(briefing_id, attempt=claim.attempt, error=f"internal error: {type(err).__name__}",
                               kind=ErrorKind.INTERNAL)
    else:
        if not store.briefings.finish(briefing_id, attempt=claim.attempt, briefing=briefing):
            log.warning("briefing %s: another attempt holds it now; this result is dropped", briefing_id)
    return "claimed"
