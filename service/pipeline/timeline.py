"""When: a briefing's date span and its timeline of dated events, each cited.

Dates are resolved against the publication date of the article that states them (its own, or the one
its text gives itself: service/dates.py); what cannot be resolved is kept as written, after the dated
events, never guessed, and a reader is shown the timeline only when two or more events are placed.
"""

from __future__ import annotations

from datetime import datetime

from service.dates import find_dates
from service.fidelity.sources import SourceIndex
from service.models import CleanArticle, DateSpan, KeyPoint, TimelineEntry
from service.pipeline.extract import as_shipped
from service.pipeline.salience import salience
from service.text import content_words

_SAME_EVENT = 0.6  # share of content words two entries share when they restate one event
# why: "since December 2022" bounds a period ("the first call since ..."); the event is not then
_PERIOD_BOUNDS = frozenset({"since", "until"})


def date_span(articles: list[CleanArticle]) -> DateSpan | None:
    """From the articles' publication dates (a dateline's among them); None without any. Dates inside the
    story's sentences are not used: they are as often background ("since February 2022") as the event."""
    published = sorted(a.published.date().isoformat() for a in articles if a.published)
    return DateSpan(start=published[0], end=published[-1]) if published else None


def timeline(
    points: list[KeyPoint], index: SourceIndex, published: dict[str, datetime | None], limit: int
) -> list[TimelineEntry]:
    """Up to `limit` dated events: the briefing's own dated sentences first, then the most salient dated
    source sentences; in date order, those whose date cannot be resolved last."""
    entries: list[TimelineEntry] = []
    seen: list[set[str]] = []

    def new(text: str) -> bool:  # why: a point rewritten from a source sentence restates it
        words = content_words(text)
        if any(len(words & other) >= _SAME_EVENT * len(words | other) for other in seen):
            return False
        seen.append(words)
        return True

    for point in points:
        entry = _entry(point.text, point.sources, published)
        if entry and new(point.text):
            entries.append(entry)
    scores = salience(index)
    for n in sorted(range(len(index.sentences)), key=lambda i: -scores[i]):
        if len(entries) >= limit:
            break
        sentence = index.sentences[n]
        text = as_shipped(index, sentence.text)  # why: a source sentence listed as an event is held to what a point is
        if text is None:
            continue
        entry = _entry(text, [sentence.article_id], published)
        if entry and new(text):
            entries.append(entry)
    entries = entries[:limit]
    dated = sorted((e for e in entries if e.date.when), key=lambda e: e.date.when or "")
    return dated + [e for e in entries if not e.date.when]


def _entry(text: str, sources: list[str], published: dict[str, datetime | None]) -> TimelineEntry | None:
    mentions = [m for m in find_dates(text, published.get(sources[0]) if sources else None)
                if m.said.split()[0].lower() not in _PERIOD_BOUNDS]
    if not mentions:
        return None
    best = next((m for m in mentions if m.when), mentions[0])
    return TimelineEntry(date=best, text=text, sources=sources)
