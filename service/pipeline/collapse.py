"""Collapse: merge facts while they exceed the token budget, keeping provenance as data.

LangChain's own collapse joins documents into strings and loses where each fact came
from; here every merged line names the input facts it merges, and its provenance is the
union of theirs.
"""

from __future__ import annotations

import re

from service.chunk import count_tokens
from service.models import Fact
from service.pipeline.calls import LLMCaller, strip_bullet
from service.prompts import Prompt
from service.settings import Settings
from service.text import content_words

_REFS = re.compile(r"\(?\s*((?:F\d+\s*,?\s*)+)\)?\s*$")
_LEAD_REFS = re.compile(r"^\(?\s*((?:F\d+[\s,]*)+)\)?\s*[:.-]?\s*")


def facts_tokens(facts: list[Fact], encoding: str) -> int:
    """Count the tokens the facts take when listed for the model."""
    return count_tokens("\n".join(f.text for f in facts), encoding)


async def collapse_facts(
    facts: list[Fact],
    prompt: Prompt,
    llm: LLMCaller,
    settings: Settings,
) -> tuple[list[Fact], int]:
    """Merge facts in budget-sized groups until they fit; return the facts and rounds run."""
    budget = settings.pipeline.facts_token_budget
    encoding = settings.chunk.encoding
    rounds = 0
    while facts_tokens(facts, encoding) > budget and rounds < settings.pipeline.max_collapse_rounds:
        merged: list[Fact] = []
        for group in _groups(facts, budget, encoding):
            merged += await _collapse_group(group, prompt, llm)
        rounds += 1
        if facts_tokens(merged, encoding) >= facts_tokens(facts, encoding):
            break  # why: a round that does not shrink the facts will not converge
        facts = merged
    return _fit_budget(facts, budget, encoding), rounds


async def _collapse_group(group: list[Fact], prompt: Prompt, llm: LLMCaller) -> list[Fact]:
    listing = "\n".join(f"F{i} {fact.text}" for i, fact in enumerate(group, 1))
    reply = await llm.ask(prompt, {"facts": listing})
    return parse_merged_lines(reply, group)


def parse_merged_lines(reply: str, group: list[Fact]) -> list[Fact]:
    """Parse '- fact (F1, F4)' lines into facts carrying the union of the named facts' provenance."""
    out: list[Fact] = []
    for line in reply.splitlines():
        body = strip_bullet(line).strip()
        lead = _LEAD_REFS.match(body)
        if lead:
            body = body[lead.end():]
        tail = _REFS.search(body)
        found = (lead.group(1) if lead else "") + " " + (tail.group(1) if tail else "")
        refs = [int(n) for n in re.findall(r"\d+", found)]
        text = (body[: tail.start()] if tail else body).strip(" -:;")
        if len(text.split()) < 4:
            continue
        sources = [group[n - 1] for n in refs if 0 < n <= len(group)] or [_closest(text, group)]
        provenance = list(dict.fromkeys(p for f in sources for p in f.provenance))
        out.append(Fact(text=text, provenance=provenance))
    return out


def _groups(facts: list[Fact], budget: int, encoding: str) -> list[list[Fact]]:
    groups: list[list[Fact]] = [[]]
    used = 0
    for fact in facts:
        tokens = count_tokens(fact.text, encoding) + 2
        if groups[-1] and used + tokens > budget:
            groups.append([])
            used = 0
        groups[-1].append(fact)
        used += tokens
    return groups


def _fit_budget(facts: list[Fact], budget: int, encoding: str) -> list[Fact]:
    # why: if collapsing could not get under budget, keep the best-corroborated facts.
    if facts_tokens(facts, encoding) <= budget:
        return facts
    ranked = sorted(facts, key=lambda f: -len(f.article_ids))
    kept: list[Fact] = []
    for fact in ranked:
        if facts_tokens([*kept, fact], encoding) > budget:
            break
        kept.append(fact)
    return [f for f in facts if f in kept]


def _closest(text: str, group: list[Fact]) -> Fact:
    words = content_words(text)
    return max(group, key=lambda f: len(words & content_words(f.text)))
