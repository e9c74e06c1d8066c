"""Title: a headline from the verified sentences, checked like every other sentence."""

from __future__ import annotations

import re

from service.fidelity.sources import SourceIndex
from service.models import KeyPoint, Rejected
from service.pipeline.calls import LLMCaller
from service.pipeline.extract import names_title
from service.pipeline.verify import SupportChecker
from service.prompts import Prompt
from service.text import refers_to_document

_MAX_WORDS = 16


async def write_title(
    sentences: list[KeyPoint],
    index: SourceIndex,
    checker: SupportChecker,
    prompt: Prompt,
    llm: LLMCaller,
) -> tuple[str, list[Rejected]]:
    """Ask for a headline over verified sentences; fall back to a names title if it fails the check."""
    fallback = names_title(index)
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


def clean_headline(reply: str) -> str:
    """Take the first non-empty line, without labels, quotes or markdown."""
    for line in reply.splitlines():
        line = re.sub(r"^\s*(headline|title)\s*:\s*", "", line.strip(), flags=re.IGNORECASE)
        line = line.strip(" #*\"“”'")
        if line:
            return line
    return ""


def _title_problem(title: str, checker: SupportChecker) -> tuple[str, bool]:
    if len(title.split()) > _MAX_WORDS:
        return "too long for a headline", False
    if refers_to_document(title):
        return "talks about the document, not the news", False
    support = checker.check(title, [])
    return ("", False) if support.supported else (support.reason or "unsupported", not support.addressed)
