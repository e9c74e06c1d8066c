"""Read RSS and Atom feeds (local files or http(s) URLs) into Articles (feedparser)."""

from __future__ import annotations

import logging
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.encoding import decode_feed
from service.errors import InputError
from service.ingest import IngestResult, article_from_record
from service.models import Skipped

log = logging.getLogger(__name__)
_MAX_BYTES = 20_000_000
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|pre|tr)>|<br\s*/?>", re.IGNORECASE)


def read_feed(location: str, *, timeout_s: float) -> IngestResult:
    """Return a feed's entries as articles; entries without text or date are skipped with the reason."""
    import feedparser  # why: only paid when feeds are configured

    result = IngestResult()
    try:
        data, decoded = decode_feed(_fetch(location, timeout_s), location)
    except InputError as err:
        result.skipped.append(Skipped(origin=err.origin, reason=err.reason))
        return result
    if note := decoded.note():
        log.warning("feed %s: %s", location, note)
    parsed: Any = feedparser.parse(data)
    problem = parsed.get("bozo_exception") if parsed.bozo else None
    # why: feedparser's loose parser turns any broken XML into empty entries; those are not a feed.
    if not any(_entry_text(e).strip() for e in parsed.entries):
        reason = f"does not parse as RSS or Atom ({problem})" if problem else "has no entries with text"
        result.skipped.append(Skipped(origin=location, reason=reason))
        return result
    if problem:
        log.warning("feed %s is malformed (%s); reading the entries that parsed", location, problem)
    feed_title = parsed.feed.get("title") or location
    for n, entry in enumerate(parsed.entries, 1):
        origin = f"{location}#{entry.get('id') or entry.get('link') or n}"
        published = _entry_time(entry)
        if published is None:
            result.skipped.append(Skipped(origin=origin, reason="entry has no publication date"))
            continue
        record = {
            "text": _entry_text(entry), "title": entry.get("title"), "url": entry.get("link"),
            "source": feed_title, "published": published,
        }
        try:
            result.articles.append(article_from_record(record, origin))
        except InputError as err:
            result.skipped.append(Skipped(origin=err.origin, reason=err.reason))
    return result


def _fetch(location: str, timeout_s: float) -> bytes:
    if re.match(r"(?i)https?://", location):
        request = urllib.request.Request(location, headers={"User-Agent": "briefing-digest/1"})
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) only
                data: bytes = response.read(_MAX_BYTES + 1)
        except (OSError, ValueError) as err:
            raise InputError(location, f"feed cannot be downloaded ({err})") from None
    else:
        path = Path(location.removeprefix("file://"))
        if not path.is_file():
            raise InputError(location, "feed file does not exist")
        data = path.read_bytes()
    if len(data) > _MAX_BYTES:
        raise InputError(location, f"feed is larger than {_MAX_BYTES} bytes")
    return data


def _entry_time(entry: Any) -> datetime | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
    return datetime(*stamp[:6]).replace(tzinfo=UTC) if stamp else None


def _entry_text(entry: Any) -> str:
    """Return the fullest text an entry carries (content, else summary), as plain paragraphs."""
    bodies = [c.get("value", "") for c in entry.get("content") or []] + [entry.get("summary", "")]
    html = max(bodies, key=len)
    if "<" not in html:
        return html
    from lxml import html as lxml_html

    marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n", html)
    try:
        text: str = lxml_html.fromstring(f"<div>{marked}</div>").text_content()
    except ValueError:
        return ""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
