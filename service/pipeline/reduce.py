"""Reduce: numbered facts to a draft briefing whose points cite source numbers."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

from pydantic import BaseModel, Field

from service.models import Fact, KeyPointOrigin, Rejected, SourceInfo
from service.pipeline.calls import LLMCaller, strip_bullet
from service.prompts import Output, Prompt
from service.text import changes_who_did_what, kept_in_order, sentences

_CITE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_POINT_START = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)]|\[\s*\d+\s*\])")
_LABEL = re.compile(r"^\s*\**\s*(TITLE|SUMMARY|POINTS|KEY POINTS)\s*\**\s*:\s*", re.IGNORECASE)


class DraftPoint(BaseModel):
    """A sentence proposed by the model and the article ids it cites."""

    text: str
    cited: list[str] = Field(default_factory=list)
    origin: KeyPointOrigin = "llm"


class Draft(BaseModel):
    """The model's briefing before verification."""

    title: str = ""
    summary: list[DraftPoint] = Field(default_factory=list)
    points: list[DraftPoint] = Field(default_factory=list)
    restated: int | None = Field(None, description="The point the summary restates: it ships as the summary.")
    rejected: list[Rejected] = Field(default_factory=list, description="Sentences parsing already refused.")


class ReduceStrategy(ABC):
    """What the reduce stage asks over the story's facts; the reduce prompt's output names it."""

    @abstractmethod
    async def draft(self, facts: list[Fact], sources: list[SourceInfo], prompt: Prompt, llm: LLMCaller,
                    in_order: float) -> Draft:
        """The briefing's summary and points, parsed from the model's reply."""


class BriefingSections(ReduceStrategy):
    """A summary and cited points, written over the facts (each shown with its sources' numbers)."""

    async def draft(self, facts: list[Fact], sources: list[SourceInfo], prompt: Prompt, llm: LLMCaller,
                    in_order: float) -> Draft:
        numbering = {s.id: n for n, s in enumerate(sources, 1)}
        fact_lines = "\n".join(
            f"[{','.join(str(numbering[a]) for a in f.article_ids)}] {f.text}" for f in facts
        )
        reply = await llm.ask(prompt, {"facts": fact_lines})
        return parse_briefing(reply, [s.id for s in sources])


class SummarySentence(ReduceStrategy):
    """One summary sentence over the facts, which (in the order given) become the points."""

    async def draft(self, facts: list[Fact], sources: list[SourceInfo], prompt: Prompt, llm: LLMCaller,
                    in_order: float) -> Draft:
        reply = await llm.ask(prompt, {"facts": "\n".join(f"- {f.text}" for f in facts)})
        return summary_over_facts(reply, facts, in_order)


REDUCE_STRATEGIES: dict[Output, ReduceStrategy] = {
    "briefing_sections": BriefingSections(), "summary_sentence": SummarySentence(),
}


def parse_briefing(reply: str, source_ids: list[str]) -> Draft:
    """Parse a summary then cited points; also accept TITLE/SUMMARY/POINTS labels."""
    draft = Draft()
    summary_text: list[str] = []
    section = "summary"
    for raw in reply.splitlines():
        line = raw.strip()
        label = _LABEL.match(line)
        if label:
            kind = label.group(1).upper()
            section = "points" if "POINTS" in kind else kind.lower()
            line = line[label.end():].strip()
        if not line:
            continue
        if section == "title":
            draft.title = _CITE.sub("", line).strip(" #*\"")
            section = "summary"
        elif not _POINT_START.match(line) and (section == "summary" or draft.points):
            summary_text.append(line)  # before the points, or a summing-up line after them
        else:
            section = "points"
            text, cited = _split_citations(strip_bullet(line), source_ids)
            if text:
                draft.points.append(DraftPoint(text=text, cited=cited))
    for sentence in sentences(" ".join(summary_text)):
        text, cited = _split_citations(sentence, source_ids)
        if text:
            draft.summary.append(DraftPoint(text=text, cited=cited))
    return draft


def summary_over_facts(reply: str, facts: list[Fact], in_order: float) -> Draft:
    """The reply's first sentence as the summary, citing every fact's sources, when it restates one
    of the facts in that fact's word order (a small model that recombines facts gets who did what
    wrong); the facts, in the order given, as the points, each citing its own."""
    cited = list(dict.fromkeys(a for f in facts for a in f.article_ids))
    draft = Draft(points=[DraftPoint(text=f.text, cited=f.article_ids, origin=f.origin) for f in facts])
    for sentence in sentences(_first_line(reply))[:1]:
        if (restated := _restated_fact(sentence, facts, in_order)) is not None:
            draft.summary.append(DraftPoint(text=sentence, cited=cited))
            draft.restated = restated
        else:
            draft.rejected.append(Rejected(text=sentence, stage="summary",
                                           reason="recombines the facts rather than restating one (who did what)"))
    return draft


def _restated_fact(sentence: str, facts: list[Fact], in_order: float) -> int | None:
    return next((n for n, f in enumerate(facts) if kept_in_order(sentence, f.text, own_words=True) >= in_order
                 and not changes_who_did_what(sentence, f.text)), None)


def _first_line(reply: str) -> str:
    line = next((line for line in reply.splitlines() if line.strip()), "")
    return _LABEL.sub("", re.sub(r"^\s*sentence\s*:\s*", "", strip_bullet(line), flags=re.IGNORECASE)).strip()


def _split_citations(text: str, source_ids: list[str]) -> tuple[str, list[str]]:
    numbers = [int(n) for group in _CITE.findall(text) for n in re.split(r"[,;]", group)]
    cited = [source_ids[n - 1] if 0 < n <= len(source_ids) else f"#{n}" for n in numbers]
    clean = re.sub(r"\s+([.,;])", r"\1", _CITE.sub("", text)).strip(" *")
    return clean, list(dict.fromkeys(cited))
