"""A digest run fanned out: one task plans the date, one task per story briefs it, and a chord
callback assembles the digest when every story is done, so N workers brief N stories at once."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from celery import Task, chord, group, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from pydantic import TypeAdapter

from service.digest.build import (
    CollectedDay,
    DigestPlan,
    PlannedStory,
    StoryResult,
    assemble,
    brief_planned,
    embed_stored,
    failure,
    plan_collected,
    stored_story_corpus,
    unembedded,
)
from service.digest.inputs import DigestInputs, collect
from service.models import DigestStory, ErrorKind, Status
from service.pipeline.prepare import PreparedStory
from service.progress import Logged
from service.storage import Store
from service.tasks.app import Runtime, runtime_of
from service.tasks.briefings import backoff_s

log = logging.getLogger(__name__)
_STORY_RESULTS = TypeAdapter(list[StoryResult])


def _lease_s(runtime: Runtime) -> float:
    # why: a digest's stories may wait behind other tasks; each finished story renews the lease
    return float(runtime.settings.queue.visibility_timeout_s)


@contextmanager
def _ends_failed(store: Store, day: str, run: int, step: str) -> Iterator[None]:
    """Whatever a step raises ends the run failed with its reason: a digest never stays running."""
    try:
        yield
    except Exception as err:  # noqa: BLE001 - the run's status carries the reason
        log.exception("digest %s: %s failed", day, step)
        store.digests.finish(day, status=Status.FAILED, error=f"{step}: {failure(err)}", kind=ErrorKind.INTERNAL,
                            run=run)


@shared_task(bind=True, name="briefing.run_digest", ignore_result=True)
def run_digest(self: Task, day: str) -> str:
    """Collect a requested digest run's articles, have the workers embed them in chunks when there are
    many, then plan and fan the stories out; a copy for a run another task holds does nothing."""
    runtime = runtime_of(self.app)
    store = runtime.store
    claim = store.digests.claim(day, lease_s=_lease_s(runtime))
    if claim.outcome != "claimed":
        log.info("digest %s: %s, nothing to do", day, claim.outcome)
        return claim.outcome
    run = claim.record
    assert run is not None
    started = datetime.now(UTC)
    inputs, missing = None, []
    with _ends_failed(store, day, claim.attempt, "collecting"):
        inputs = collect(date.fromisoformat(day), store.articles, runtime.settings.digest)
        missing = unembedded(inputs.articles, store)
    if inputs is None:
        return "failed"
    collected = CollectedDay.of(day, inputs, fresh=run.fresh, started_at=started)
    size = runtime.settings.queue.embed_chunk_articles
    if len(missing) <= size:
        return _plan_and_send(self, runtime, collected, inputs, claim.attempt)
    with _ends_failed(store, day, claim.attempt, "sending its articles to embed"):
        embed, resume = self.app.tasks["briefing.embed_articles"], self.app.tasks["briefing.resume_digest"]
        chunks = [embed.s(missing[k:k + size], day, claim.attempt) for k in range(0, len(missing), size)]
        log.info("digest %s: %d articles to embed, in %d chunks", day, len(missing), len(chunks))
        chord(group(chunks, app=self.app), app=self.app)(resume.s(collected.model_dump(mode="json"), claim.attempt))
    return "claimed"


@shared_task(bind=True, name="briefing.embed_articles")
def embed_articles(self: Task, ids: list[str], day: str, run: int) -> int:
    """Embed a chunk of a digest run's articles and keep their vectors. Never raises: the run's
    planning embeds whatever a failed chunk left."""
    runtime = runtime_of(self.app)
    try:
        kept = embed_stored(ids, runtime.store, runtime.settings)
    except Exception:  # noqa: BLE001
        log.exception("digest %s: embedding %d articles failed; the planning embeds them", day, len(ids))
        kept = 0
    runtime.store.digests.touch(day, run)
    return kept


@shared_task(bind=True, name="briefing.resume_digest", ignore_result=True, pydantic=True)
def resume_digest(self: Task, kept: list[object], collected: CollectedDay, run: int) -> str:
    """Plan a digest run once the workers embedded its articles (`kept`: how many each chunk kept)."""
    runtime = runtime_of(self.app)
    inputs = None
    with _ends_failed(runtime.store, collected.date, run, "planning"):
        inputs = collected.inputs(runtime.store)
    if inputs is None:
        return "failed"
    return _plan_and_send(self, runtime, collected, inputs, run)


def _plan_and_send(self: Task, runtime: Runtime, collected: CollectedDay, inputs: DigestInputs, run: int) -> str:
    store, day = runtime.store, collected.date
    planned = None
    with _ends_failed(store, day, run, "planning"):
        planned = plan_collected(date.fromisoformat(day), inputs, store, runtime.settings, fresh=collected.fresh,
                                 started=collected.started_at, progress=Logged(log))
    if planned is None:
        return "failed"
    plan, corpus = planned
    with _ends_failed(store, day, run, "assembling" if not plan.stories else "sending its stories"):
        if not plan.stories:
            assemble(plan, [], store, runtime.settings, run=run)
        else:
            # why: by name from this app, not the module-level proxies (which belong to Celery's default app)
            brief, assemble_task = self.app.tasks["briefing.brief_story"], self.app.tasks["briefing.assemble_digest"]
            # why: each story carries what its briefing reads, so no worker prepares the day again
            stories = group([brief.s(day, p.model_dump(mode="json"), corpus.prepared(p.story).model_dump(mode="json"),
                                     run) for p in plan.stories], app=self.app)
            chord(stories, app=self.app)(assemble_task.s(plan.model_dump(mode="json"), run))
    return "claimed"


# why: pydantic=True validates the plan sent as JSON back into its model, and dumps the result
@shared_task(bind=True, name="briefing.brief_story", pydantic=True)
def brief_story(self: Task, day: str, story: PlannedStory, prepared: PreparedStory, run: int) -> StoryResult:
    """Brief one story of a planned digest (or keep the one an earlier run stored). Never raises:
    the chord's callback must run whatever happens to one story."""
    runtime = runtime_of(self.app)
    try:
        result = brief_planned(story, day, lambda: stored_story_corpus(prepared, runtime.store, runtime.settings),
                               runtime.store, runtime.settings, runtime.model, Logged(log))
    except SoftTimeLimitExceeded:
        limit = runtime.settings.queue.soft_time_limit_s
        result = _unbriefed(story, f"took longer than queue.soft_time_limit_s ({limit} s)")
    except Exception as err:  # noqa: BLE001
        log.exception("digest %s story %d failed", day, story.rank)
        result = _unbriefed(story, f"internal error: {type(err).__name__}")
    retries = self.request.retries or 0
    if result.backend_error and retries < runtime.settings.queue.max_retries:
        raise self.retry(countdown=backoff_s(runtime.settings.queue.retry_backoff_s, retries),
                         max_retries=runtime.settings.queue.max_retries)
    runtime.store.digests.touch(day, run)
    return result


def _unbriefed(planned: PlannedStory, error: str) -> StoryResult:
    story = planned.story
    return StoryResult(story=DigestStory(id=story.id, rank=planned.rank, article_ids=story.article_ids,
                                         independent_sources=story.independent_sources, error=error))


@shared_task(bind=True, name="briefing.assemble_digest", ignore_result=True, pydantic=True)
def assemble_digest(self: Task, results: list[object], planned: DigestPlan, run: int) -> str:
    """Write the digest once every story is done (`results`: each story task's StoryResult, as the
    chord collected them); a backend that stayed down fails the run, which a rerun resumes after the
    stories already stored."""
    runtime = runtime_of(self.app)
    stories = _STORY_RESULTS.validate_python(results)
    down = next((r.backend_error for r in stories if r.backend_error), None)
    if down:
        runtime.store.digests.finish(planned.date, status=Status.FAILED, error=down,
                                    kind=ErrorKind.BACKEND_UNAVAILABLE, run=run)
        return "failed"
    with _ends_failed(runtime.store, planned.date, run, "assembling"):
        assemble(planned, stories, runtime.store, runtime.settings, run=run)
        return "done"
    return "failed"
