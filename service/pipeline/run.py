"""Brief a prepared corpus (or one story of it): chunk -> map -> collapse -> reduce -> verify -> title."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.disagree import disputed
from service.errors import NothingToBriefError
from service.fidelity.checker import FidelityChecker
from service.llm import open_chat_model
from service.models import (
    Briefing,
    Chunk,
    CleanArticle,
    DateSpan,
    Dropped,
    Fact,
    Rejected,
    RunRecord,
    SourceInfo,
    Story,
)
from service.pipeline.assemble import assemble
from service.pipeline.calls import CallStats, LLMCaller
from service.pipeline.collapse import collapse_facts
from service.pipeline.corroborate import count_sources
from service.pipeline.map import MAP_STRATEGIES, MapStrategy, merge_duplicates
from service.pipeline.prepare import Corpus
from service.pipeline.reduce import REDUCE_STRATEGIES, Draft
from service.pipeline.summary import summarise
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
    if not corpus.briefed(stories):
        why = "; ".join(f"{s.origin}: {s.reason}" for s in corpus.skipped[:3])
        raise NothingToBriefError(f"no article has any text left to brief after cleaning ({why})")
    llm = LLMCaller(model, settings.llm)
    if len(stories) == 1:
        briefing = await _brief_story(corpus, stories[0], settings, prompts, llm, settings.pipeline.read_tokens,
                                      progress, label="")
        return briefing.model_copy(update={"skipped": corpus.skipped if story is None else []})
    budgets = _split_budget(corpus, stories, settings)
    # why: stories share the bound on calls in flight, so one story's reduce overlaps another's map
    sections = await asyncio.gather(*(
        _brief_story(corpus, s, settings, prompts, llm.for_story(), budget, progress, label=f" (story {n})")
        for n, (s, budget) in enumerate(zip(stories, budgets, strict=True), 1)
    ))
    return _overview(list(sections), corpus, llm.stats, time.perf_counter() - started,
                     settings.pipeline.dropped_listed)


def _split_budget(corpus: Corpus, stories: list[Story], settings: Settings) -> list[int]:
    """Share the reading budget among stories by how much text each has, so a batch of several
    stories costs the map stage what one story of the same text would."""
    budget = settings.pipeline.read_tokens
    if budget <= 0:
        return [0] * len(stories)
    sizes = [sum(len(p.text) for a in corpus.briefed([story]) for p in a.paragraphs) for story in stories]
    total = sum(sizes) or 1
    return [max(1, budget * size // total) for size in sizes]


async def _brief_story(
    corpus: Corpus,
    story: Story,
    settings: Settings,
    prompts: dict[str, Prompt],
    llm: LLMCaller,
    read_tokens: int,
    progress: Progress,
    *,
    label: str,
) -> Briefing:
    """Brief one story: read, map, collapse, reduce, verify, count, title, summarise, date; it cites only its own
    articles, since everything it reads and checks against is the story's slice of the index."""
    started = time.perf_counter()
    cleaned = corpus.briefed([story])
    index = corpus.index.subset([c.article.id for c in cleaned])
    disagreements = corpus.disagreements[story.id]
    stats = llm.stats
    rejected: list[Rejected] = []
    mapping = MAP_STRATEGIES[prompts["map"].output]
    chunks = mapping.chunks(cleaned, index, read_tokens, settings)
    facts = await _map(chunks, mapping, prompts["map"], llm, settings, rejected, progress, f"map chunks{label}")
    proposed = len(facts) + sum(1 for r in rejected if r.stage == "map")
    facts = merge_duplicates(facts)
    progress.note(f"collapse{label}: {len(facts)} facts")
    facts, rounds = await collapse_facts(facts, prompts["collapse"], llm, settings)
    sources = [_source_info(c) for c in cleaned]
    progress.note(f"reduce{label}: {len(facts)} facts from {len(sources)} sources")
    reducing = REDUCE_STRATEGIES[prompts["reduce"].output]
    draft = await reducing.draft(facts, sources, prompts["reduce"], llm, settings.verify.rewrite_in_order) \
        if facts else Draft()
    progress.note(f"verify{label}")
    verifier = Verifier(index, FidelityChecker(settings.fidelity, embedder=corpus.embedder), settings.verify)
    # why: verification is CPU work; on a thread it does not hold up other briefings on the shared loop.
    result = await asyncio.to_thread(assemble, draft, index, verifier, settings.verify)
    await asyncio.to_thread(count_sources, result.summary + result.points, index, verifier)
    for point in result.summary + result.points:
        point.disputed = disputed(point.text, disagreements)
    progress.note(f"title{label}")
    title, title_rejected = await write_title(
        result.summary + result.points[:3], index, verifier, prompts["title"], llm
    )
    summary, points = summarise(result.summary, result.points)
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
    dropped = [d for c in corpus.articles if c.article.id in briefed for d in c.dropped]
    published = {c.article.id: c.published for c in cleaned}
    events = timeline(summary + points, index, published, settings.pipeline.timeline_events)
    return Briefing(
        title=title,
        summary=" ".join(p.text for p in summary),
        summary_sentences=summary,
        key_points=points,
        disagreements=disagreements,
        stories=[story],
        date_span=date_span(cleaned),
        timeline=events,
        sources=sources,
        dropped=dropped[: settings.pipeline.dropped_listed],
        dropped_counts=_by_reason(dropped),
        run=run,
    )


def _by_reason(dropped: list[Dropped]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for drop in dropped:
        counts[drop.reason] += drop.paragraphs
    return dict(counts)


def _batch_title(sections: list[Briefing]) -> str:
    """A batch's title reads as one headline: its lead story's, and how many stories follow it."""
    more = len(sections) - 1
    return f"{sections[0].title}, and {more} more stor{'ies' if more > 1 else 'y'}" if more else sections[0].title


def _overview(sections: list[Briefing], corpus: Corpus, stats: CallStats, seconds: float, listed: int) -> Briefing:
    """A batch of several stories: one section per story, in rank order, under an overview that
    holds what is the batch's own (every source once, what was dropped or skipped, the run's
    totals); each story's points, timeline and disagreements stay in its section."""
    runs = [s.run for s in sections]
    spans = [s.date_span for s in sections if s.date_span]
    lead_sentences = [s.summary_sentences[0] for s in sections if s.summary_sentences]
    run = runs[0].model_copy(update={
        "llm_calls": stats.calls,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "seconds": round(seconds, 3),
        "llm_seconds": round(stats.busy_seconds, 3),
        "facts_proposed": sum(r.facts_proposed for r in runs),
        "facts_kept": sum(r.facts_kept for r in runs),
        "collapse_rounds": max(r.collapse_rounds for r in runs),
        "rejected": [rejected for r in runs for rejected in r.rejected],
        "unsupported_dropped": sum(r.unsupported_dropped for r in runs),
        "fallback_used": any(r.fallback_used for r in runs),
    })
    return Briefing(
        title=_batch_title(sections),
        summary=" ".join(p.text for p in lead_sentences),
        summary_sentences=lead_sentences,
        key_points=[],
        stories=[story for s in sections for story in s.stories],
        date_span=DateSpan(start=min(s.start for s in spans), end=max(s.end for s in spans)) if spans else None,
        sources=[source for s in sections for source in s.sources],
        dropped=[d for s in sections for d in s.dropped][:listed],
        dropped_counts=dict(sum((Counter(s.dropped_counts) for s in sections), Counter())),
        skipped=corpus.skipped,
        run=run,
        sections=[s.model_copy(update={"dropped": [], "dropped_counts": {}}) for s in sections],
    )


async def _map(
    chunks: list[Chunk],
    mapping: MapStrategy,
    prompt: Prompt,
    llm: LLMCaller,
    settings: Settings,
    rejected: list[Rejected],
    progress: Progress,
    step: str,
) -> list[Fact]:
    done = 0

    async def one(chunk_index: int) -> tuple[list[Fact], list[Rejected]]:
        nonlocal done
        result = await mapping.facts(chunks[chunk_index], prompt, llm, settings)
        done += 1
        progress.step(step, done, len(chunks))
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
                      published=article.published, flags=article.flags)
