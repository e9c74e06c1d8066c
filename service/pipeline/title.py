"""Title: a headline from the verified sentences, checked like every other sentence; failing that,
the lead verified sentence (or the most salient source sentence) cut down to a headline. Never a
list of names."""

from __future__ import annotations

import re

from service.fidelity.sources import SourceIndex
from service.models import KeyPoint, Rejected
from service.neutral import neutrality_problem
from service.pipeline.calls import LLMCaller
from service.pipeline.salience import salience
from service.pipeline.verify import SupportChecker
from service.prompts import Prompt

_MAX_WORDS = 16


async def write_title(
    sentences: list[KeyPoint],
    index: SourceIndex,
    checker: SupportChecker,
    prompt: Prompt,
    llm: LLMCaller,
) -> tuple[str, list[Rejected]]:
    """Ask for a headline over verified sentences; fall back to the lead sentence as a headline."""
    fallback = lead_headline(_lead(sentences, index) if sentences else _most_salient(index), checker)
    if not sentences:
        return fallback, []
    reply = await llm.ask(prompt, {"briefing": "\n".join(s.text for s in sentences)})
    title = clean_headline(reply)
    if not title:
        return fallback, []
    problem, unsupported = _title_problem(title, checker)
    if problem:
        return fallback, [Rejected(text=title, reason=problem, stage="title", unsupported=unsupported)]
    return title, []


_ATTRIBUTION_END = re.compile(
    r",?\s+(?:(?:according to|as reported by)\s+[^,.]+|(?:the\s+)?[\w'’.\- ]{1,40}?\s+(?:said|says|reported|"
    r"reports|announced|told [\w ]+))\s*[.!]?$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^(?:according to|as reported by)\s+[^,]+,\s*", re.IGNORECASE)
_CLAUSE = re.compile(r",\s|;\s|\s[-–—]\s|\s(?:which|who|while|after|as)\s")


def lead_headline(sentence: str, checker: SupportChecker) -> str:
    """Cut a verified sentence down to a headline: no attribution tail, no parentheses, and when it
    is long the shortest run of its first clauses that is still supported on its own ("Biden has made
    a decision" says nothing; "..., authorizing Ukraine to use the missiles" does), else its first
    _MAX_WORDS words; the whole sentence when no cut is supported."""
    text = _ATTRIBUTION_START.sub("", _ATTRIBUTION_END.sub("", sentence.strip()))
    text = re.sub(r"\s*\([^()]*\)", "", text).rstrip(" .!")  # no parentheticals in a headline
    text = text[:1].upper() + text[1:]
    words = text.split()
    if len(words) <= _MAX_WORDS:
        candidates = [text]
    else:
        cuts = [text[: m.start()] for m in _CLAUSE.finditer(text) if len(text[: m.start()].split()) >= 6]
        candidates = [c for c in cuts if len(c.split()) <= _MAX_WORDS] or cuts[:1]
        candidates.append(" ".join(words[:_MAX_WORDS]) + "…")
    for candidate in candidates:
        if candidate == sentence or checker.check(candidate.rstrip("…"), []).supported:
            return candidate
    return sentence.strip().rstrip(".")


def _lead(sentences: list[KeyPoint], index: SourceIndex) -> str:
    """The first sentence that cites no flagged source (garbled or spun wording makes a poor headline)."""
    clean = [s for s in sentences if not any(index.flags.get(a) for a in s.sources)]
    return (clean or sentences)[0].text


def _most_salient(index: SourceIndex) -> str:
    scores = salience(index)
    return index.sentences[int(scores.argmax())].text if len(scores) else "News"


def clean_headline(reply: str) -> str:
    """Take the first non-empty line, without labels, quotes or markdown."""
    for line in reply.splitlines():
        line = re.sub(r"^\s*(headline|title)\s*:\s*", "", line.strip(), flags=re.IGNORECASE)
        line = line.strip(" #*\"“”'").rstrip(".")
        if line:
            return line
    return ""


def _title_problem(title: str, checker: SupportChecker) -> tuple[str, bool]:
    if len(title.split()) > _MAX_WORDS:
        return "too long for a headline", False
    if problem := neutrality_problem(title):
        return problem, False
    support = checker.check(title, [])
    return ("", False) if support.supported else (support.reason or "unsupported", not support.addressed)
