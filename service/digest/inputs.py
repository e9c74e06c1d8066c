"""A date's articles: those stored for it, plus the watched folder's and the feeds' articles of that date."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from service.dates import as_utc
from service.digest.feeds import read_feed
from service.ingest import ingest_paths
from service.models import Article, Skipped
from service.settings import DigestSettings
from service.storage.articles import ArticleRepository


class DigestInputs(BaseModel):
    """The articles of one date, how many came from each input, and what was skipped."""

    articles: list[Article] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    skipped: list[Skipped] = Field(default_factory=list)


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Return the start and end of a date in a time zone, as aware datetimes."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)


def collect(day: date, articles: ArticleRepository, settings: DigestSettings) -> DigestInputs:
    """Read every input for a date; new folder and feed articles are stored, so a rerun sees the same set."""
    start, end = day_bounds(day, settings.timezone)
    inputs = DigestInputs()
    fresh: list[Article] = []
    if settings.folder:
        fresh += _from_folder(Path(settings.folder), start, end, inputs)
    for feed in settings.feeds:
        read = read_feed(feed, timeout_s=settings.feed_timeout_s)
        inputs.skipped += read.skipped
        fresh += _on_date(read.articles, start, end, inputs, kind="feeds")
    articles.add(fresh)
    stored = articles.between(start, end)
    inputs.counts["stored"] = len(stored) - len({a.id for a in fresh})
    inputs.articles = stored
    return inputs


def _from_folder(folder: Path, start: datetime, end: datetime, inputs: DigestInputs) -> list[Article]:
    if not folder.is_dir():
        inputs.skipped.append(Skipped(origin=str(folder), reason="watched folder does not exist"))
        return []
    read = ingest_paths([folder])
    inputs.skipped += [s for s in read.skipped if s.reason != "folder has no article files"]
    return _on_date(read.articles, start, end, inputs, kind="folder")


def _on_date(
    articles: list[Article], start: datetime, end: datetime, inputs: DigestInputs, *, kind: str
) -> list[Article]:
    kept = []
    for article in articles:
        if article.published is None:
            inputs.skipped.append(Skipped(origin=article.origin, reason="article has no publication date"))
        elif start <= as_utc(article.published) < end:
            kept.append(article)
    inputs.counts[kind] = inputs.counts.get(kind, 0) + len(kept)
    return kept
