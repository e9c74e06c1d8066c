"""Render a digest as Markdown, self-contained HTML and JSON; write them and the Atom feed of digests."""

from __future__ import annotations

import html
import json
import os
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from service.errors import ConfigError
from service.models import Digest, DigestStory, KeyPoint
from service.render import (
    cited,
    evidence_note,
    md,
    placed_timeline,
    refs,
    source_line,
    source_name,
    source_numbers,
    story_lines,
    timeline_date,
    when_line,
)
from service.settings import DigestSettings
from service.storage.digests import DigestRepository

FORMATS = ("md", "html", "json")
_ATOM = "http://www.w3.org/2005/Atom"
_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}"
    "h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em}sup{color:#666}.meta{color:#666;font-size:.85em}"
    ".dispute{background:#fff6e0;border-left:4px solid #e0a000;padding:.4em .8em}.error{color:#a00}"
)


def render_digest(digest: Digest, fmt: str) -> str:
    """Render in 'md', 'html' or 'json'."""
    if fmt == "json":
        return json.dumps(digest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    if fmt == "md":
        return to_markdown(digest)
    if fmt == "html":
        return to_html(digest)
    raise ValueError(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})")


def to_markdown(digest: Digest) -> str:
    """Return the digest as Markdown: one section per story, each sentence citing its sources."""
    lines = [f"# Digest for {digest.date}", "", _summary_line(digest), ""]
    for story in digest.stories:
        lines += _story_markdown(story)
    if digest.further:
        lines += ["## Further stories", ""]
        lines += [f"{s.rank}. {md(s.title)} — {md(', '.join(s.sources))}" for s in digest.further] + [""]
    if digest.skipped:
        lines += ["## Skipped", ""] + [f"- {md(s.origin)}: {md(s.reason)}" for s in digest.skipped] + [""]
    return "\n".join(lines)


def _story_markdown(story: DigestStory) -> list[str]:
    brief = story.briefing
    if brief is None:
        return [f"## {story.rank}. Story {md(story.id)}", "", f"No briefing: {md(story.error or '')}", ""]
    number = source_numbers(brief)
    when = f" · {when_line(brief)}" if brief.date_span else ""
    lines = [f"## {story.rank}. {md(brief.title)}", "", f"_{_sources_line(story)}{when}_", ""]
    if (was := story.continues) is not None:
        lines += [f"_Continues “{md(was.title)}” from [the digest for {was.date}]({was.date}.md)._", ""]
        lines += [f"**New since {was.date}:**", ""]
        lines += [f"- {cited(p, number)}" for p in was.new] or ["- nothing the earlier briefing did not say"]
        lines.append("")
    lines += story_lines(brief, number, "###")
    lines += ["### Sources", ""]
    lines += [source_line(s, number) for s in brief.sources]
    return lines + [""]


def to_html(digest: Digest) -> str:
    """Return the digest as one self-contained HTML page (inline style, no scripts, all text escaped)."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'>",
        f"<title>Digest for {e(digest.date)}</title><style>{_CSS}</style><body>",
        f"<h1>Digest for {e(digest.date)}</h1><p class='meta'>{e(_summary_line(digest))}</p>",
    ]
    for story in digest.stories:
        parts += _story_html(story)
    if digest.further:
        parts.append(f"<h2>Further stories</h2><ol start='{digest.further[0].rank}'>")
        parts += [f"<li>{e(s.title)} <span class='meta'>— {e(', '.join(s.sources))}</span></li>"
                  for s in digest.further]
        parts.append("</ol>")
    if digest.skipped:
        parts.append("<h2>Skipped</h2><ul class='meta'>")
        parts += [f"<li>{e(s.origin)}: {e(s.reason)}</li>" for s in digest.skipped]
        parts.append("</ul>")
    return "".join(parts) + "</body></html>\n"


def _story_html(story: DigestStory) -> list[str]:
    e = html.escape
    brief = story.briefing
    if brief is None:
        return [f"<h2>{story.rank}. Story {e(story.id)}</h2>",
                f"<p class='error'>No briefing: {e(story.error or '')}</p>"]
    number = source_numbers(brief)
    summary = " ".join(f"{e(p.text)}<sup>{refs(p.sources, number)}</sup>{_gist_html(p, number)}{_disputed_html(p)}"
                       for p in brief.summary_sentences)
    parts = [
        f"<h2 id='{e(story.id)}'>{story.rank}. {e(brief.title)}</h2>",
        f"<p class='meta'>{e(_sources_line(story))}{e(f' · {when_line(brief)}' if brief.date_span else '')}</p>",
        *_continues_html(story, number),
        f"<p>{summary or e(brief.summary)}</p><ul>",
        *(f"<li>{e(p.text)}<sup>{refs(p.sources, number)}</sup>{_gist_html(p, number)}{_disputed_html(p)} "
          f"<span class='meta'>({e(evidence_note(p))})</span></li>" for p in brief.key_points),
        "</ul>",
    ]
    if placed := placed_timeline(brief):
        parts.append("<ol class='timeline'>")
        for entry in placed:
            when, said = timeline_date(entry)
            parts.append(f"<li><b>{e(when)}</b>{e(said)}: {e(entry.text)}<sup>{refs(entry.sources, number)}</sup></li>")
        parts.append("</ol>")
    for dispute in story.disagreements:
        claims = "; ".join(f"{e(c.text)}<sup>{refs(c.sources, number)}</sup>" for c in dispute.claims)
        parts.append(f"<p class='dispute'><b>Sources disagree on {e(dispute.about)}:</b> {claims}</p>")
    parts.append("<ol class='meta'>")
    for s in brief.sources:
        name = e(source_name(s))
        flags = f" — {e('; '.join(map(str, s.flags)))}" if s.flags else ""
        parts.append(f"<li>{name} <code>{e(s.id)}</code>{flags}</li>")
    return [*parts, "</ol>"]


def atom_feed(digests: list[Digest], *, updated: datetime | None = None) -> str:
    """Return an Atom feed with one entry per digest, newest first."""
    ET.register_namespace("", _ATOM)
    feed = ET.Element(f"{{{_ATOM}}}feed")
    ET.SubElement(feed, f"{{{_ATOM}}}title").text = "briefing: daily digests"
    ET.SubElement(feed, f"{{{_ATOM}}}id").text = "urn:briefing:digests"
    stamps = [d.generated_at for d in digests if d.generated_at]
    ET.SubElement(feed, f"{{{_ATOM}}}updated").text = _stamp(updated or max(stamps, default=datetime.now(UTC)))
    for digest in digests:
        entry = ET.SubElement(feed, f"{{{_ATOM}}}entry")
        ET.SubElement(entry, f"{{{_ATOM}}}title").text = f"Digest for {digest.date}: {len(digest.stories)} stories"
        ET.SubElement(entry, f"{{{_ATOM}}}id").text = f"urn:briefing:digest:{digest.date}"
        ET.SubElement(entry, f"{{{_ATOM}}}updated").text = _stamp(digest.generated_at or datetime.now(UTC))
        ET.SubElement(entry, f"{{{_ATOM}}}link", href=f"{digest.date}.html", type="text/html")
        headlines = "".join(f"<li>{html.escape(s.briefing.title)}</li>" for s in digest.stories if s.briefing)
        ET.SubElement(entry, f"{{{_ATOM}}}content", type="html").text = f"<ol>{headlines}</ol>"
    ET.SubElement(feed, f"{{{_ATOM}}}author").append(_named("briefing"))
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def write_outputs(digest: Digest, digests: DigestRepository, settings: DigestSettings) -> list[Path]:
    """Write the digest in every format and refresh the Atom feed; each file is replaced whole."""
    folder = Path(settings.output_dir)
    rows, _ = digests.page(limit=settings.feed_entries)
    recent = [r.digest for r in rows if r.digest]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = [_write(folder / f"{digest.date}.{fmt}", render_digest(digest, fmt)) for fmt in FORMATS]
        written.append(_write(folder / "feed.atom", atom_feed(recent)))
    except OSError as err:
        raise ConfigError(f"digest.output_dir: cannot write the digest of {digest.date} there "
                          f"(it is stored in the database): {err}") from None
    return written


def _write(path: Path, text: str) -> Path:
    # why: a name of its own for each writer: two digests writing feed.atom at once had shared
    # one temporary file, and the second rename found it gone
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp", delete=False) as partial:
        partial.write(text)
    os.replace(partial.name, path)  # why: a reader never sees half a file
    return path


def _named(name: str) -> ET.Element:
    element = ET.Element(f"{{{_ATOM}}}name")
    element.text = name
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _continues_html(story: DigestStory, number: dict[str, int]) -> list[str]:
    if (was := story.continues) is None:
        return []
    e = html.escape
    new = [f"<li>{e(p.text)}<sup>{refs(p.sources, number)}</sup></li>" for p in was.new]
    return [f"<p class='meta'>Continues <a href='{e(was.date)}.html#{e(was.story_id)}'>{e(was.title)}</a> "
            f"({e(was.date)}).</p><h3>New since {e(was.date)}</h3>",
            f"<ul>{''.join(new) or '<li>nothing the earlier briefing did not say</li>'}</ul>"]


def _gist_html(point: KeyPoint, number: dict[str, int]) -> str:
    if not point.gist_sources:
        return ""
    return f" <em class='meta'>(its gist also in {refs(point.gist_sources, number)})</em>"


def _disputed_html(point: KeyPoint) -> str:
    if not point.disputed:
        return ""
    return f" <em class='meta'>(sources disagree on {html.escape(', '.join(point.disputed))})</em>"


def _sources_line(story: DigestStory) -> str:
    copies = sum(len(group) - 1 for group in story.duplicates)
    line = f"{story.independent_sources} independent source{'s' * (story.independent_sources != 1)}"
    return line + (f" ({copies} more copies folded in)" if copies else "")


def _summary_line(digest: Digest) -> str:
    further = f"{len(digest.further)} more listed below; " if digest.further else ""
    return (f"{len(digest.stories)} stories from {digest.articles} articles ({digest.timezone}); "
            f"{further}{len(digest.skipped)} inputs skipped.")
