"""Orchestrate clean -> chunk -> map -> collapse -> reduce -> verify for one batch of articles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.chunk import chunk_article
from service.clean import clean_article
from service.disagree import disputed, find_disagreements
from service.embeddings import Embedder, load_in_background
from service.errors import NothingToBriefError
from service.fidelity.checker import FidelityChecker
from service.fidelity.sources import SourceIndex
from service.group import group_stories
from service.llm import open_chat_model
from service.models import (
    Article,
    Briefing,
    CleanArticle,
    Disagreement,
    Fact,
    Rejected,
    RunRecord,
    Skipped,
    SourceInfo,
    Story,
)
from service.pipeline.assemble import assemble
from service.pipeline.calls import LLMCaller
from service.pipeline.collapse import collapse_facts
from service.pipeline.map import map_chunk, merge_duplicates
from service.pipeline.reduce import Draft, reduce_facts
from service.pipeline.title import write_title
from service.pipeline.verify import Verifier
from service.prompts import Prompt, load_prompt_set
from service.settings import Settings, get_settings

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def brief(
    articles: list[Article],
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    skipped: list[Skipped] | None = None,
    progress: Progress = _quiet,
) -> Briefing:
    """Brief a batch of articles; with no model given, open the configured backend for the call."""
    return run_sync(abrief(articles, settings=settings, model=model, skipped=skipped, progress=progress))


async def abrief(
    articles: list[Article],
    *,
    settings: Settings | None = None,
    model: BaseChatModel | None = None,
    skipped: list[Skipped] | None = None,
    progress: Progress = _quiet,
    stories: list[Story] | None = None,
) -> Briefing:
    """Async form of brief(): the HTTP API and the digest call this; `stories` skips grouping the batch."""
    settings = settings or get_settings()
    prompts = load_prompt_set(settings.pipeline.prompts)
    if model is not None:
        return await _run(articles, settings, prompts, model, list(skipped or []), progress, stories)
    progress("starting the LLM backend")
    with open_chat_model(settings) as opened:
        return await _run(articles, settings, prompts, opened, list(skipped or []), progress, stories)


async def _run(
    articles: list[Article],
    settings: Settings,
    prompts: dict[str, Prompt],
    model: BaseChatModel,
    skipped: list[Skipped],
    progress: Progress,
    stories: list[Story] | None,
) -> Briefing:
    started = time.perf_counter()
    embedder = load_in_background()
    cleaned = _clean(articles, skipped, progress)
    index = SourceIndex.build(cleaned)
    # why: embedding the sources overlaps the LLM calls instead of adding to wall time.
    embedded = asyncio.ensure_future(asyncio.to_thread(lambda: index.embed(embedder.result())))
    llm = LLMCaller(model, settings.llm)
    stats = llm.stats
    rejected: list[Rejected] = []
    try:
        facts = await _map(cleaned, prompts["map"], llm, settings, rejected, progress)
        proposed = len(facts) + sum(1 for r in rejected if r.stage == "map")
        facts = merge_duplicates(facts)
        progress(f"collapse: {len(facts)} facts")
        facts, rounds = await collapse_facts(facts, prompts["collapse"], llm, settings)
        sources = [_source_info(c) for c in cleaned]
        progress(f"reduce: {len(facts)} facts from {len(sources)} sources")
        draft = await reduce_facts(facts, sources, prompts["reduce"], llm) if facts else Draft()
    finally:
        await embedded
    progress("stories and disagreements")
    stories, disagreements = _stories(cleaned, index, embedder.result(), settings, stories)
    progress("verify")
    verifier = Verifier(index, FidelityChecker(settings.fidelity, embedder=embedder.result()), settings.verify)
    result = assemble(draft, index, verifier, settings.verify)
    for point in result.summary + result.points:
        point.disputed = disputed(point.text, disagreements)
    progress("title")
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
    return Briefing(
        title=title,
        summary=" ".join(p.text for p in result.summary),
        summary_sentences=result.summary,
        key_points=result.points,
        disagreements=disagreements,
        stories=stories,
        sources=sources,
        dropped=[d for c in cleaned for d in c.dropped],
        skipped=skipped,
        run=run,
    )


def _stories(
    cleaned: list[CleanArticle], index: SourceIndex, embedder: Embedder, settings: Settings,
    given: list[Story] | None,
) -> tuple[list[Story], list[Disagreement]]:
    """Group the batch into stories (unless given); figures are compared only within a story."""
    by_id = {c.article.id: c for c in cleaned}
    if given is not None:
        stories = [s.model_copy(update={"article_ids": [i for i in s.article_ids if i in by_id]}) for s in given]
    else:
        vectors = {c.article.id: index.vectors[index.rows_of([c.article.id])] for c in cleaned} \
            if index.vectors is not None else None
        stories = group_stories(cleaned, embedder, settings.group, vectors=vectors)
    disagreements = [d for s in stories for d in find_disagreements([by_id[i] for i in s.article_ids])]
    return stories, disagreements


def _clean(articles: list[Article], skipped: list[Skipped], progress: Progress) -> list[CleanArticle]:
    cleaned = []
    for article in articles:
        result = clean_article(article)
        if result.paragraphs:
            cleaned.append(result)
        else:
            reason = f"nothing left after cleaning ({len(result.dropped)} paragraphs dropped)"
            skipped.append(Skipped(origin=article.origin, reason=reason))
            progress(f"skipped {article.origin}: {reason}")
    if not cleaned:
        raise NothingToBriefError("no article has any text left to brief after cleaning")
    return cleaned


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
        progress(f"map: {done}/{len(chunks)} chunks")
        return result

    results = await asyncio.gather(*(one(i) for i in range(len(chunks))))
    for _, bad in results:
        rejected.extend(bad)
    return [fact for good, _ in results for fact in good]


def _source_info(article: CleanArticle) -> SourceInfo:
    a = article.article
    return SourceInfo(id=a.id, title=a.title, origin=a.origin, flags=article.flags)
