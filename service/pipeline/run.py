"""Brief a prepared corpus (or one story of it): chunk -> map -> collapse -> reduce -> verify -> title."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.chunk import chunk_article
from service.disagree import disputed
from service.errors import NothingToBriefError
from service.fidelity.checker import FidelityChecker
from service.fidelity.sources import SourceIndex
from service.llm import open_chat_model
from service.models import Briefing, CleanArticle, Fact, KeyPoint, Rejected, RunRecord, SourceInfo, Story
from service.pipeline.assemble import assemble
from service.pipeline.calls import LLMCaller
from service.pipeline.collapse import collapse_facts
from service.pipeline.map import map_chunk, merge_duplicates
from service.pipeline.prepare import Corpus
from service.pipeline.read import reading
from service.pipeline.reduce import Draft, reduce_facts
from service.pipeline.timeline import date_span, timeline
from service.pipeline.title import write_title
from service.pipeline.verify import Verifier
from service.progress import QUIET, Progress
from service.prompts import Prompt, load_prompt_set
from service.settings import Settings, get_settings


def brief(
    corpus: Corpus,
    story: Story | None = None,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    progress: Progress = QUIET,
) -> Briefing:
    """Brief a prepared corpus, or one of its stories; with no model given, open the configured backend."""
    return run_sync(abrief(corpus, story, settings=settings, model=model, progress=progress))


async def abrief(
    corpus: Corpus,
    story: Story | None = None,
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    progress: Progress = QUIET,
) -> Briefing:
    """Async form of brief(): the HTTP API and the digest call this on the shared loop."""
    settings = settings or get_settings()
    prompts = load_prompt_set(settings.pipeline.prompts)
    if model is not None:
        return await _run(corpus, story, settings, prompts, model, progress)
    progress.note("starting the LLM backend")
    with open_chat_model(settings) as opened:
        return await _run(corpus, story, settings, prompts, opened, progress)


async def _run(
    corpus: Corpus,
    story: Story | None,
    settings: Settings,
    prompts: dict[str, Prompt],
    model: BaseChatModel,
    progress: Progress,
) -> Briefing:
    started = time.perf_counter()
    stories = [story] if story is not None else corpus.stories
    cleaned = corpus.briefed(stories)
    if not cleaned:
        raise NothingToBriefError("no article has any text left to brief after cleaning")
    index = corpus.index.subset([c.article.id for c in cleaned])
    disagreements = [d for s in stories for d in corpus.disagreements[s.id]]
    llm = LLMCaller(model, settings.llm)
    stats = llm.stats
    rejected: list[Rejected] = []
    read = reading(cleaned, index, settings.pipeline.read_tokens, settings.chunk.encoding)
    facts = await _map(read, prompts["map"], llm, settings, rejected, progress)
    proposed = len(facts) + sum(1 for r in rejected if r.stage == "map")
    facts = merge_duplicates(facts)
    progress.note(f"collapse: {len(facts)} facts")
    facts, rounds = await collapse_facts(facts, prompts["collapse"], llm, settings)
    sources = [_source_info(c) for c in cleaned]
    progress.note(f"reduce: {len(facts)} facts from {len(sources)} sources")
    draft = await reduce_facts(facts, sources, prompts["reduce"], llm) if facts else Draft()
    progress.note("verify")
    verifier = Verifier(index, FidelityChecker(settings.fidelity, embedder=corpus.embedder), settings.verify)
    # why: verification is CPU work; on a thread it does not hold up other briefings on the shared loop.
    result = await asyncio.to_thread(assemble, draft, index, verifier, settings.verify)
    await asyncio.to_thread(_count_sources, result.summary + result.points, index, verifier)
    for point in result.summary + result.points:
        point.disputed = disputed(point.text, disagreements)
    progress.note("title")
    title, title_rejected = await write_title(
        result.summary + result.points[:3], index, verifier, prompts["title"], llm
    )
    run = RunRecord(
        model=settings.llm.model,
        prompts={stage: p.version for stage, p in prompts.items()},
        llm_calls=stats.calls,
        prompt_tokens=stats.prompt_tokens,
        completion_tokens=stats.completion_tokens,
        seconds=round(time.perf_counter() - started, 3),
        llm_seconds=round(stats.busy_seconds, 3),
        settings_hash=settings.fingerprint(),
        facts_proposed=proposed,
        facts_kept=len(facts),
        collapse_rounds=rounds,
        rejected=rejected + result.rejected + title_rejected,
        unsupported_dropped=sum(1 for r in result.rejected + title_rejected if r.unsupported),
        fallback_used=result.fallback_used,
    )
    briefed = {c.article.id for c in cleaned}
    published = {c.article.id: c.article.published for c in cleaned}
    events = timeline(result.summary + result.points, index, published, settings.pipeline.timeline_events)
    return Briefing(
        title=title,
        summary=" ".join(p.text for p in result.summary),
        summary_sentences=result.summary,
        key_points=result.points,
        disagreements=disagreements,
        stories=stories,
        date_span=date_span(cleaned),
        timeline=events,
        sources=sources,
        dropped=[d for c in corpus.articles if c.article.id in briefed for d in c.dropped],
        skipped=corpus.skipped if story is None else [],
        run=run,
    )


async def _map(
    cleaned: list[CleanArticle],
    prompt: Prompt,
    llm: LLMCaller,
    settings: Settings,
    rejected: list[Rejected],
    progress: Progress,
) -> list[Fact]:
    chunks = [chunk for article in cleaned for chunk in chunk_article(article, settings.chunk)]
    limit = asyncio.Semaphore(settings.llm.concurrency)
    done = 0

    async def one(chunk_index: int) -> tuple[list[Fact], list[Rejected]]:
        nonlocal done
        async with limit:
            result = await map_chunk(chunks[chunk_index], prompt, llm, settings)
        done += 1
        progress.step("map chunks", done, len(chunks))
        return result

    results = await asyncio.gather(*(one(i) for i in range(len(chunks))))
    for _, bad in results:
        rejected.extend(bad)
    return [fact for good, _ in results for fact in good]


def _source_info(article: CleanArticle) -> SourceInfo:
    a = article.article
    outlet = a.source or (urlsplit(a.url).hostname if a.url else None)
    words = a.text.split()
    lead = None if a.title else " ".join(words[:10]) + ("…" if len(words) > 10 else "")
    return SourceInfo(id=a.id, title=a.title, origin=a.origin, lead=lead, outlet=outlet, url=a.url,
                      published=a.published, flags=article.flags)


def _count_sources(points: list[KeyPoint], index: SourceIndex, verifier: Verifier) -> None:
    """Add every briefed source that also supports a point, and count them; the corpus briefs one copy
    per independent source, so each supporting article is one independent source."""
    for point in points:
        others = [a for a in index.article_ids if a not in point.sources]
        point.sources += [a for a in others if verifier.check(point.text, [a]).supported]
        point.independent_sources = len(set(point.sources))
