"""Reduce: numbered facts to a draft briefing whose points cite source numbers."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from service.models import Fact, SourceInfo
from service.pipeline.calls import LLMCaller, strip_bullet
from service.prompts import Prompt
from service.text import sentences

_CITE = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_POINT_START = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)]|\[\s*\d+\s*\])")
_LABEL = re.compile(r"^\s*\**\s*(TITLE|SUMMARY|POINTS|KEY POINTS)\s*\**\s*:\s*", re.IGNORECASE)


class DraftPoint(BaseModel):
    """A sentence proposed by the model and the article ids it cites."""

    text: str
    cited: list[str] = Field(default_factory=list)


class Draft(BaseModel):
    """The model's briefing before verification."""

    title: str = ""
    summary: list[DraftPoint] = Field(default_factory=list)
    points: list[DraftPoint] = Field(default_factory=list)


async def reduce_facts(
    facts: list[Fact],
    sources: list[SourceInfo],
    prompt: Prompt,
    llm: LLMCaller,
) -> Draft:
    """Ask the model for a briefing over the facts and parse it."""
    numbering = {s.id: n for n, s in enumerate(sources, 1)}
    fact_lines = "\n".join(
        f"[{','.join(str(numbering[a]) for a in f.article_ids)}] {f.text}" for f in facts
    )
    reply = await llm.ask(prompt, {"facts": fact_lines})
    return parse_briefing(reply, [s.id for s in sources])


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


def _split_citations(text: str, source_ids: list[str]) -> tuple[str, list[str]]:
    numbers = [int(n) for group in _CITE.findall(text) for n in re.split(r"[,;]", group)]
    cited = [source_ids[n - 1] if 0 < n <= len(source_ids) else f"#{n}" for n in numbers]
    clean = re.sub(r"\s+([.,;])", r"\1", _CITE.sub("", text)).strip(" *")
    return clean, list(dict.fromkeys(cited))
