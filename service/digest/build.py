"""Build one date's digest: inputs -> one prepared corpus -> a briefing per story -> stored and written.

A story's briefing is stored as soon as it is done, keyed by its articles and the settings, so a run
that was killed resumes after the stories it finished, and a rerun of the date replaces the digest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime

from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.digest.inputs import DigestInputs, collect
from service.digest.outputs import write_outputs
from service.errors import BackendError, BriefingError
from service.llm import open_chat_model
from service.models import Briefing, Digest, DigestStory, DigestTotals, Skipped, Status, Story
from service.pipeline.prepare import Corpus, prepare
from service.pipeline.run import abrief
from service.progress import Logged, Progress
from service.settings import Settings
from service.store import Store

log = logging.getLogger(__name__)


def run_digest(
    day: date,
    *,
    store: Store,
    settings: Settings,
    model: BaseChatModel | None = None,
    fresh: bool = False,
    claimed: bool = False,
    progress: Progress | None = None,
) -> Digest:
    """Build, store and write the digest of a date; with no model given, open the backend if needed."""
    key = day.isoformat()
    progress = progress or Logged(log)
    if not claimed:
        store.start_digest(key)
    try:
        with _model_source(settings, model) as get_model:
            digest = _build(day, store, settings, get_model, fresh, progress)
    except BaseException as err:
        store.finish_digest(key, status=Status.FAILED, error=_failure(err))
        raise
    store.finish_digest(key, status=digest.status, digest=digest.model_dump(mode="json"))
    for path in write_outputs(digest, store, settings.digest):
        progress.note(f"wrote {path}")
    return digest


def _failure(err: BaseException) -> str:
    if isinstance(err, BriefingError):
        return str(err)
    if isinstance(err, KeyboardInterrupt):
        return "interrupted; a rerun resumes after the stories already done"
    return f"internal error: {type(err).__name__}"


@contextmanager
def _model_source(settings: Settings, model: BaseChatModel | None) -> Iterator[Callable[[], BaseChatModel]]:
    """Yield a getter that opens the backend only when a story needs briefing (a resumed run may not)."""
    with ExitStack() as stack:
        opened: list[BaseChatModel] = [model] if model is not None else []

        def get() -> BaseChatModel:
            if not opened:
                opened.append(stack.enter_context(open_chat_model(settings)))
            return opened[0]

        yield get


def _build(
    day: date,
    store: Store,
    settings: Settings,
    get_model: Callable[[], BaseChatModel],
    fresh: bool,
    progress: Progress,
) -> Digest:
    started = time.perf_counter()
    key = day.isoformat()
    inputs = collect(day, store, settings.digest)
    progress.note(f"{key}: {len(inputs.articles)} articles ({_counts(inputs)})")
    corpus = prepare(inputs.articles, settings, progress=progress)
    limit = settings.digest.max_stories
    stories = corpus.stories[:limit]
    skipped = corpus.skipped + [
        Skipped(origin=f"story {story.id}", reason=f"ranked below the top {limit} stories")
        for story in corpus.stories[limit:]
    ]
    for skip in inputs.skipped + skipped:
        progress.note(f"warning: skipped {skip.origin}: {skip.reason}")
    if fresh:
        store.drop_story_briefings(key)
    totals = DigestTotals()
    results = []
    for rank, story in enumerate(stories, 1):
        results.append(_story(rank, story, key, corpus, store, settings, get_model, totals, progress))
        progress.step("digest stories", rank, len(stories))
    store.drop_story_briefings(key, keep={_story_key(s, settings) for s in stories})
    totals.seconds = round(time.perf_counter() - started, 3)
    return Digest(
        date=key, timezone=settings.digest.timezone,
        status=Status.DONE if all(r.briefing for r in results) else Status.PARTIAL,
        generated_at=datetime.now(UTC), articles=len(corpus.articles), inputs=inputs.counts, stories=results,
        skipped=inputs.skipped + skipped, totals=totals,
    )


def _story(
    rank: int,
    story: Story,
    day: str,
    corpus: Corpus,
    store: Store,
    settings: Settings,
    get_model: Callable[[], BaseChatModel],
    totals: DigestTotals,
    progress: Progress,
) -> DigestStory:
    """Return one story of the digest: its stored briefing if a run already made it, else a new one."""
    result = DigestStory(
        id=story.id, rank=rank, article_ids=story.article_ids, independent_sources=story.independent_sources,
        duplicates=[group for group in story.independent if len(group) > 1],
    )
    key = _story_key(story, settings)
    stored = store.story_briefing(day, key)
    if stored is not None:
        result.briefing = Briefing.model_validate(stored)
        totals.stories_reused += 1
    else:
        try:
            result.briefing = _brief_story(story, corpus, settings, get_model(), progress)
        except BackendError:
            raise  # why: every later story would fail too; the rerun resumes from here
        except BriefingError as err:
            result.error = str(err)
            progress.note(f"warning: story {rank} has no briefing: {err}")
            return result
        store.save_story_briefing(day, key, result.briefing.model_dump(mode="json"))
        _add_cost(totals, result.briefing)
    result.disagreements = result.briefing.disagreements
    return result


def _story_key(story: Story, settings: Settings) -> str:
    """Return what a story's briefing depends on: its articles and the settings that shape a briefing."""
    return f"{story.id}-{settings.fingerprint()}"


def _brief_story(
    story: Story, corpus: Corpus, settings: Settings, model: BaseChatModel, progress: Progress
) -> Briefing:
    """Brief one story of the day's prepared corpus."""
    return run_sync(abrief(corpus, story, settings=settings, model=model, progress=progress))


def _add_cost(totals: DigestTotals, briefing: Briefing) -> None:
    totals.llm_calls += briefing.run.llm_calls
    totals.prompt_tokens += briefing.run.prompt_tokens
    totals.completion_tokens += briefing.run.completion_tokens


def _counts(inputs: DigestInputs) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in inputs.counts.items()) or "no inputs"
