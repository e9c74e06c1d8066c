"""Map: one chunk to atomic facts, each tied to its article and paragraph."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

from service.chunk import chunk_article
from service.fidelity.rules import missing_specifics
from service.fidelity.sources import SourceIndex
from service.models import Chunk, CleanArticle, Fact, Provenance, Rejected
from service.neutral import neutral_form, point_form, source_origin
from service.pipeline.calls import LLMCaller, strip_bullet
from service.pipeline.read import passages, reading
from service.prompts import Output, Prompt
from service.settings import Settings
from service.text import (
    changes_who_did_what,
    content_words,
    drops_a_condition,
    kept_in_order,
    reattaches_a_word,
    refers_to_document,
    sentences,
)

_PARA_TAG = re.compile(r"\[\s*P\s*(\d+)\s*\]", re.IGNORECASE)
_LEAD_TAG = re.compile(r"^\s*\[?\s*P\s*(\d+)\s*\]?\s*(?::|$|(?=\s))", re.IGNORECASE)
_COMPLETE_LINE = re.compile(r"[.!?\"”’)\]]\s*$")
_MIN_WORDS = 4
_LABEL = re.compile(r"^\s*(?:sentence|rewrite|rewritten)\s*:\s*", re.IGNORECASE)


def render_chunk(chunk: Chunk) -> str:
    """Show a chunk's paragraphs to the model, each behind its [Pn] tag."""
    return "\n".join(f"[P{p.index}] {p.text}" for p in chunk.paragraphs)


class MapStrategy(ABC):
    """What the map stage reads of a story and asks of each piece; the map prompt's output names it."""

    @abstractmethod
    def chunks(self, cleaned: list[CleanArticle], index: SourceIndex, read_tokens: int,
               settings: Settings) -> list[Chunk]:
        """The pieces of the story the model is shown, one call each."""

    @abstractmethod
    async def facts(self, chunk: Chunk, prompt: Prompt, llm: LLMCaller,
                    settings: Settings) -> tuple[list[Fact], list[Rejected]]:
        """Ask the model about one piece; keep what is grounded in it, reject the rest."""


class ListFacts(MapStrategy):
    """The most salient sentences within the read budget, in chunks; the model lists their facts."""

    def chunks(self, cleaned: list[CleanArticle], index: SourceIndex, read_tokens: int,
               settings: Settings) -> list[Chunk]:
        read = reading(cleaned, index, read_tokens, settings.chunk.encoding)
        return [chunk for article in read for chunk in chunk_article(article, settings.chunk)]

    async def facts(self, chunk: Chunk, prompt: Prompt, llm: LLMCaller,
                    settings: Settings) -> tuple[list[Fact], list[Rejected]]:
        reply = await llm.ask(prompt, {"paragraphs": render_chunk(chunk)})
        return ground_facts(parse_fact_lines(reply, chunk), chunk, settings)


class RewritePassages(MapStrategy):
    """A few passages of 1-3 source sentences; the model rewrites each as one sentence."""

    def chunks(self, cleaned: list[CleanArticle], index: SourceIndex, read_tokens: int,
               settings: Settings) -> list[Chunk]:
        return passages(index, settings.chunk.encoding, settings.pipeline.rewrite_passages)

    async def facts(self, chunk: Chunk, prompt: Prompt, llm: LLMCaller,
                    settings: Settings) -> tuple[list[Fact], list[Rejected]]:
        said = " ".join(neutral_form(s) for p in chunk.paragraphs for s in p.sentences)
        reply = await llm.ask(prompt, {"sentences": said})
        kept, rejected = ground_facts(parse_rewrite(reply, chunk), chunk, settings,
                                      in_order=settings.verify.rewrite_in_order)
        # why: the passage was chosen for what it adds to the story; when its rewrite fails, its
        # picked sentence itself keeps that place
        picked = chunk.paragraphs[0].sentences[0]
        edited = point_form(picked)
        return kept or [Fact(text=edited, provenance=_provenance(chunk),
                             origin=source_origin(edited, picked))], rejected


MAP_STRATEGIES: dict[Output, MapStrategy] = {"fact_lines": ListFacts(), "rewritten_sentence": RewritePassages()}


def parse_rewrite(reply: str, chunk: Chunk) -> list[Fact]:
    """The first complete sentence of a rewrite; the passage it rewrote is its provenance."""
    text = _LABEL.sub("", strip_bullet(next((line for line in reply.splitlines() if line.strip()), "")))
    first = (sentences(text) or [""])[0].strip(" \"“”")
    if len(first.split()) < _MIN_WORDS or not _COMPLETE_LINE.search(first) or refers_to_document(first):
        return []
    return [Fact(text=first, provenance=_provenance(chunk))]


def _provenance(chunk: Chunk) -> list[Provenance]:
    return [Provenance(article_id=chunk.article_id, paragraph=p.index) for p in chunk.paragraphs]


def parse_fact_lines(reply: str, chunk: Chunk) -> list[Fact]:
    """Parse '- fact [Pn]' lines; a missing or wrong tag is replaced by the best-matching paragraph."""
    valid = {p.index for p in chunk.paragraphs}
    facts: list[Fact] = []
    lines = reply.strip().splitlines()
    if lines and not _COMPLETE_LINE.search(lines[-1]):
        lines.pop()  # why: the completion cap cut this fact mid-sentence
    pending: list[int] = []
    for line in lines:
        line = strip_bullet(line)
        lead = _LEAD_TAG.match(line)
        tags = [int(lead.group(1))] if lead else []
        line = line[lead.end():] if lead else line
        tags += [int(t) for t in _PARA_TAG.findall(line)]
        text = _PARA_TAG.sub("", line).strip(" -:;")
        if not text:
            pending = tags  # why: models often put the tag alone on the line before the fact
            continue
        tags = tags or pending
        pending = []
        for sentence in sentences(text) or [text]:  # why: prose answers carry several facts a line
            if len(sentence.split()) < _MIN_WORDS or refers_to_document(sentence):
                continue
            paragraphs = [t for t in tags if t in valid] or [_closest_paragraph(sentence, chunk)]
            provenance = [Provenance(article_id=chunk.article_id, paragraph=p) for p in dict.fromkeys(paragraphs)]
            facts.append(Fact(text=sentence, provenance=provenance))
    return facts


def ground_facts(
    facts: list[Fact], chunk: Chunk, settings: Settings, *, in_order: float | None = None
) -> tuple[list[Fact], list[Rejected]]:
    """Keep facts whose numbers, names and words occur in their chunk (and, for a rewrite, at least
    `in_order` of its words in the passage's order); reject the rest early."""
    kept: list[Fact] = []
    rejected: list[Rejected] = []
    passage = " ".join(p.text for p in chunk.paragraphs)
    for fact in facts:
        problems = missing_specifics(fact.text, passage, settings.verify.min_content_overlap)
        if in_order is not None and (share := kept_in_order(fact.text, passage)) < in_order:
            problems.append(f"recombines its passage ({share:.0%} of its words in the passage's order)")
        elif in_order is not None and changes_who_did_what(fact.text, passage):
            problems.append("puts a word after another name than its passage does (who did what)")
        elif in_order is not None and drops_a_condition(fact.text, passage):
            problems.append("leaves out a negation or condition of its passage")
        elif in_order is not None and reattaches_a_word(fact.text, passage):
            problems.append("cuts out the words a preposition tied to what follows (what refers to what)")
        if problems:
            rejected.append(Rejected(text=fact.text, reason="; ".join(problems), stage="map"))
        else:
            kept.append(fact)
    return kept, rejected


def merge_duplicates(facts: list[Fact], threshold: float = 0.8) -> list[Fact]:
    """Merge facts whose content words mostly coincide, uniting their provenance."""
    merged: list[tuple[set[str], Fact]] = []
    for fact in facts:
        words = content_words(fact.text)
        for i, (other_words, other) in enumerate(merged):
            union = words | other_words
            if union and len(words & other_words) / len(union) >= threshold:
                provenance = list(dict.fromkeys([*other.provenance, *fact.provenance]))
                merged[i] = (other_words, other.model_copy(update={"provenance": provenance}))
                break
        else:
            merged.append((words, fact))
    return [fact for _, fact in merged]


def _closest_paragraph(text: str, chunk: Chunk) -> int:
    words = content_words(text)
    return max(chunk.paragraphs, key=lambda p: len(words & content_words(p.text))).index
