"""Build one date's digest in three steps: plan (inputs -> one prepared corpus -> ranked stories),
brief each story, assemble (stored and written).

The command line runs the steps in one process; the task queue runs the plan as one task, each
story as its own task, and assembles when all are done (service/tasks/digests.py). A story's
briefing is stored as soon as it is done, keyed by its articles and the settings, so a run that
was killed resumes after the stories it finished, and a rerun of the date replaces the digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import PurePath
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from service.aio import run_sync
from service.digest.continuity import link_earlier
from service.digest.inputs import DigestInputs, collect
from service.digest.outputs import write_outputs
from service.embeddings import get_embedder
from service.errors import BackendError, BriefingError
from service.llm import open_chat_model
from service.models import Article, Digest, DigestStory, DigestTotals, FurtherStory, Skipped, Status, Story
from service.pipeline.prepare import Corpus, PreparedStory, prepare, sentence_vectors, story_corpus
from service.pipeline.run import abrief
from service.progress import QUIET, Logged, Progress
from service.settings import Settings
from service.storage import Store

log = logging.getLogger(__name__)


class PlannedStory(BaseModel):
    """A story a digest run will brief: its rank, and the key its briefing is stored under."""

    story: Story
    rank: int
    key: str


class DigestPlan(BaseModel):
    """What a digest run decided before briefing anything; small enough to pass through the queue."""

    date: str
    article_ids: list[str] = Field(description="The prepared corpus's articles, in order.")
    inputs: dict[str, int] = Field(default_factory=dict)
    skipped: list[Skipped] = Field(default_factory=list)
    stories: list[PlannedStory] = Field(default_factory=list)
    further: list[FurtherStory] = Field(default_factory=list)
    started_at: datetime


class CollectedDay(BaseModel):
    """A digest run's collected inputs, its articles by id: small enough to pass through the queue."""

    date: str
    article_ids: list[str]
    counts: dict[str, int] = Field(default_factory=dict)
    skipped: list[Skipped] = Field(default_factory=list)
    fresh: bool = False
    started_at: datetime

    @classmethod
    def of(cls, day: str, inputs: DigestInputs, *, fresh: bool, started_at: datetime) -> CollectedDay:
        """The message form of collected inputs."""
        return cls(date=day, article_ids=[a.id for a in inputs.articles], counts=inputs.counts,
                   skipped=inputs.skipped, fresh=fresh, started_at=started_at)

    def inputs(self, store: Store) -> DigestInputs:
        """The inputs again, their articles read back from the store in the order collected."""
        by_id = {a.id: a for a in store.articles.by_ids(self.article_ids)}
        return DigestInputs(articles=[by_id[i] for i in self.article_ids if i in by_id], counts=self.counts,
                            skipped=self.skipped)


class StoryResult(BaseModel):
    """One story's outcome, and whether its briefing was kept from an earlier run."""

    story: DigestStory
    reused: bool = False
    backend_error: str | None = Field(None, description="The LLM backend failed: the run must be resumed later.")


def run_digest(
    day: date,
    *,
    store: Store,
    settings: Settings,
    model: BaseChatModel | None = None,
    fresh: bool = False,
    progress: Progress | None = None,
) -> Digest:
    """Build, store and write the digest of a date in this process; with no model given, open the
    backend if a story needs it."""
    key = day.isoformat()
    progress = progress or Logged(log)
    store.digests.start(key)
    try:
        plan, corpus = plan_digest(day, store, settings, fresh=fresh, progress=progress)
        results = []
        with _model_source(settings, model) as get_model:
            for planned in plan.stories:
                result = brief_planned(planned, key, lambda: corpus, store, settings, get_model, progress)
                if result.backend_error:
                    raise BackendError(result.backend_error)
                results.append(result)
                progress.step("digest stories", planned.rank, len(plan.stories))
    except BaseException as err:
        store.digests.finish(key, status=Status.FAILED, error=failure(err))
        raise
    return assemble(plan, results, store, settings, progress=progress)


def failure(err: BaseException) -> str:
    """What a digest row says of the error that ended its run."""
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


def plan_digest(
    day: date, store: Store, settings: Settings, *, fresh: bool, progress: Progress
) -> tuple[DigestPlan, Corpus]:
    """Read the date's inputs, prepare them once, and rank the stories to brief."""
    started = datetime.now(UTC)
    inputs = collect(day, store.articles, settings.digest)
    progress.note(f"{day.isoformat()}: {len(inputs.articles)} articles ({_counts(inputs)})")
    return plan_collected(day, inputs, store, settings, fresh=fresh, started=started, progress=progress)


def plan_collected(
    day: date, inputs: DigestInputs, store: Store, settings: Settings, *, fresh: bool, started: datetime,
    progress: Progress,
) -> tuple[DigestPlan, Corpus]:
    """Prepare a date's collected articles once and rank the stories to brief."""
    key = day.isoformat()
    corpus = prepare_kept(inputs.articles, store, settings, progress=progress)
    limit = settings.digest.max_stories
    for skip in inputs.skipped + corpus.skipped:
        progress.note(f"warning: skipped {skip.origin}: {skip.reason}")
    stories = [PlannedStory(story=story, rank=rank, key=_story_key(story, settings))
               for rank, story in enumerate(corpus.stories[:limit], 1)]
    by_id = {a.article.id: a.article for a in corpus.articles}
    further = [_further(story, rank, by_id) for rank, story in enumerate(corpus.stories[limit:], limit + 1)]
    if further:
        progress.note(f"{len(further)} stories ranked below the top {limit} are listed, not briefed")
    if fresh:
        store.stories.drop(key)
    plan = DigestPlan(date=key, article_ids=[a.id for a in inputs.articles], inputs=inputs.counts,
                      skipped=inputs.skipped + corpus.skipped, stories=stories, further=further, started_at=started)
    return plan, corpus


def _further(story: Story, rank: int, by_id: dict[str, Article]) -> FurtherStory:
    """A story left out by the cap, as a reader scans it: its lead article's title and who reports it."""
    lead = by_id[story.independent[0][0]]
    words = lead.text.split()
    title = lead.title or " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    sources = [_outlet(by_id[group[0]]) for group in story.independent]
    return FurtherStory(id=story.id, rank=rank, title=title, sources=sources, article_ids=story.article_ids,
                        independent_sources=story.independent_sources)


def brief_planned(
    planned: PlannedStory,
    day: str,
    corpus_of: Callable[[], Corpus],
    store: Store,
    settings: Settings,
    get_model: Callable[[], BaseChatModel],
    progress: Progress,
) -> StoryResult:
    """One story of the digest: its stored briefing if a run already made it, else a new one (stored)
    from the corpus `corpus_of` gives."""
    story = planned.story
    result = DigestStory(
        id=story.id, rank=planned.rank, article_ids=story.article_ids, independent_sources=story.independent_sources,
        duplicates=[group for group in story.independent if len(group) > 1],
    )
    stored = store.stories.get(day, planned.key)
    if stored is not None:
        result.briefing = stored
        result.disagreements = result.briefing.disagreements
        return StoryResult(story=result, reused=True)
    try:
        result.briefing = run_sync(abrief(corpus_of(), story, settings=settings, model=get_model(), progress=progress))
    except BackendError as err:
        # why: every later story would fail too; the rerun resumes from here
        return StoryResult(story=result, backend_error=str(err))
    except BriefingError as err:
        result.error = str(err)
        progress.note(f"warning: story {planned.rank} has no briefing: {err}")
        return StoryResult(story=result)
    store.stories.save(day, planned.key, result.briefing)
    result.disagreements = result.briefing.disagreements
    return StoryResult(story=result)


def assemble(
    plan: DigestPlan, results: list[StoryResult], store: Store, settings: Settings, *,
    run: int | None = None, progress: Progress | None = None,
) -> Digest:
    """Make the digest from its stories' results, store it (only while `run` holds the date) and write it."""
    totals = DigestTotals(stories_reused=sum(r.reused for r in results))
    for result in results:
        if result.story.briefing is not None and not result.reused:
            totals.llm_calls += result.story.briefing.run.llm_calls
            totals.prompt_tokens += result.story.briefing.run.prompt_tokens
            totals.completion_tokens += result.story.briefing.run.completion_tokens
    store.stories.drop(plan.date, keep={p.key for p in plan.stories})
    totals.seconds = round((datetime.now(UTC) - plan.started_at).total_seconds(), 3)
    stories = sorted((r.story for r in results), key=lambda story: story.rank)
    if days := settings.digest.continues_days:
        earlier = store.digests.earlier(plan.date, days)
        link_earlier(stories, earlier, lambda ids: prepare_kept(store.articles.by_ids(ids), store, settings))
    digest = Digest(
        date=plan.date, timezone=settings.digest.timezone,
        status=Status.DONE if all(story.briefing for story in stories) else Status.PARTIAL,
        generated_at=datetime.now(UTC), articles=len(plan.article_ids), inputs=plan.inputs, stories=stories,
        further=plan.further, skipped=plan.skipped, totals=totals,
    )
    if store.digests.finish(plan.date, status=digest.status, digest=digest, run=run):
        for path in write_outputs(digest, store.digests, settings.digest):
            (progress or Logged(log)).note(f"wrote {path}")
    return digest


def unembedded(articles: list[Article], store: Store) -> list[str]:
    """The ids of the articles with no sentence vectors stored by the current embedding model."""
    ids = [a.id for a in articles]
    kept = store.vectors.kept(ids, get_embedder().fingerprint)
    return [i for i in ids if i not in kept]


def embed_stored(ids: list[str], store: Store, settings: Settings) -> int:
    """Embed stored articles' sentences and keep the vectors with them; return how many were kept."""
    embedder = get_embedder()
    vectors = sentence_vectors(store.articles.by_ids(ids), settings, embedder=embedder)
    return store.vectors.save(vectors, embedder.fingerprint)


def stored_story_corpus(prepared: PreparedStory, store: Store, settings: Settings) -> Corpus:
    """The corpus of a story planned by another task, from its articles' stored vectors."""
    embedder = get_embedder()
    stored = store.vectors.get([c.article.id for c in prepared.articles], embedder.fingerprint)
    return story_corpus(prepared, settings, embedder=embedder, stored=stored)


def prepare_kept(articles: list[Article], store: Store, settings: Settings, *, progress: Progress = QUIET) -> Corpus:
    """Prepare articles, reusing the sentence vectors stored with them and storing the new ones, so
    no stored article is embedded twice (a rerun, a later day, another worker)."""
    embedder = get_embedder()
    stored = store.vectors.get([a.id for a in articles], embedder.fingerprint)
    return prepare(articles, settings, embedder=embedder, stored=stored, progress=progress,
                   keep=lambda new: store.vectors.save(new, embedder.fingerprint))


def _outlet(article: Article) -> str:
    """Who published an article as a reader knows it: its source, its URL's host, else its file's name."""
    host = urlsplit(article.url).hostname if article.url else None
    return article.source or host or PurePath(article.origin).name or article.origin


def _story_key(story: Story, settings: Settings) -> str:
    """Return what a story's briefing depends on: its articles and the settings that shape a briefing."""
    return f"{story.id}-{settings.fingerprint()}"


def _counts(inputs: DigestInputs) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in inputs.counts.items()) or "no inputs"
