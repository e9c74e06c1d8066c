"""Render a Briefing as Markdown for people or JSON for tools."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import PurePath

from service.models import Briefing, Disagreement, KeyPoint, KeyPointOrigin, SourceInfo, TimelineEntry


class Format(StrEnum):
    """The formats a briefing renders to."""

    MD = "md"
    JSON = "json"


# why: no maintained Markdown text escaper fits (mistune's and markdown-it's escape HTML only, mdformat
# keeps its own private). CommonMark lets a backslash escape any ASCII punctuation; these are the ones
# that open markup inside a line: code, emphasis, links and images, GFM strikethrough and tables.
_MARKUP = re.compile(r"([\\`*_\[\]~|])")


def md(text: str) -> str:
    """Plain text made inert in Markdown: markup characters escaped, '<' written as an entity (raw HTML
    needs one, and not every renderer honours '\\<'), '&' before an entity's name too, lines folded
    (a line may open a heading, list or quote)."""
    text = _MARKUP.sub(r"\\\1", " ".join(text.split()))
    return re.sub(r"&(?=#?\w+;)", "&amp;", text).replace("<", "&lt;")


def render(briefing: Briefing, fmt: Format) -> str:
    """Render as Markdown or JSON."""
    return to_json(briefing) if fmt == Format.JSON else to_markdown(briefing)


def to_json(briefing: Briefing) -> str:
    """Return the briefing as indented JSON."""
    return json.dumps(briefing.model_dump(mode="json"), indent=2, ensure_ascii=False)


def to_markdown(briefing: Briefing) -> str:
    """Return the briefing as Markdown: title, date span, then its story (summary, cited points,
    disagreements, timeline) or one numbered section per story; then the sources, once, and what
    was dropped or skipped."""
    number = source_numbers(briefing)
    lines = [f"# {md(briefing.title)}", ""]
    if briefing.date_span:
        lines += [f"_{when_line(briefing)}_", ""]
    if briefing.sections:
        lines += [f"These articles report {len(briefing.sections)} separate stories; each section cites only "
                  "its own sources, and figures are compared within each.", ""]
        for n, section in enumerate(briefing.sections, 1):
            lines += [f"## {n}. {md(section.title)}", ""]
            about = [when_line(section), f"{count(section.stories[0].independent_sources, 'source')} "
                     f"{refs([s.id for s in section.sources], number)}" if section.stories else ""]
            lines += [f"_{'; '.join(a for a in about if a)}_", ""]
            lines += story_lines(section, number, "###")
    else:
        lines += story_lines(briefing, number, "##")
    lines += ["## Sources", ""]
    lines += [source_line(s, number) for s in briefing.sources]
    if briefing.dropped or briefing.dropped_counts:
        lines += ["", "## Dropped before summarising", ""]
        for d in briefing.dropped:
            where = f"¶{d.paragraph}" + (f"–{d.paragraph + d.paragraphs - 1}" if d.paragraphs > 1 else "")
            lines.append(f"- [{number.get(d.source, '?')}] {where}, {md(d.reason)}: “{md(_clip(d.text))}”")
        if (listed := sum(d.paragraphs for d in briefing.dropped)) < sum(briefing.dropped_counts.values()):
            counts = "; ".join(f"{md(reason)}: {n}" for reason, n in briefing.dropped_counts.items())
            lines.append(f"- {count(sum(briefing.dropped_counts.values()) - listed, 'more paragraph')} "
                         f"not listed; all dropped paragraphs by reason: {counts}")
    if briefing.skipped:
        lines += ["", "## Skipped inputs", ""]
        lines += [f"- {md(s.origin)}: {md(s.reason)}" for s in briefing.skipped]
    run = briefing.run
    lines += [
        "",
        f"<sub>{md(run.model)}, prompts {md(', '.join(f'{k}/{v}' for k, v in run.prompts.items()))}; "
        f"{run.llm_calls} LLM calls, {run.prompt_tokens}+{run.completion_tokens} tokens, "
        f"{run.seconds:.1f}s; {run.unsupported_dropped} sentences dropped as unsupported, "
        f"{len(run.rejected)} rejected in all"
        f"{'; filled from source sentences' if run.fallback_used else ''}.</sub>",
    ]
    return "\n".join(lines) + "\n"


def story_lines(briefing: Briefing, number: dict[str, int], heading: str) -> list[str]:
    """One story's summary, key points, disagreements and timeline, under headings of this level."""
    lines = [summary_cited(briefing, number), ""]
    lines += [f"{heading} Key points", ""]
    lines += [f"- {cited(p, number)} _({evidence_note(p)})_" for p in briefing.key_points]
    lines.append("")
    if briefing.disagreements:
        lines += [f"{heading} Where sources disagree", ""]
        lines += [f"- {md(dispute.about)}: {claims_cited(dispute, number)}" for dispute in briefing.disagreements]
        lines.append("")
    if placed := placed_timeline(briefing):
        lines += [f"{heading} Timeline", ""]
        lines += [timeline_line(entry, number) for entry in placed]
        lines.append("")
    return lines


def placed_timeline(briefing: Briefing) -> list[TimelineEntry]:
    """The timeline a reader is shown: its events with a date they can place, and only when there
    are two or more (one event is not a timeline; unplaced ones stay in the JSON)."""
    placed = [entry for entry in briefing.timeline if entry.date.when]
    return placed if len(placed) >= 2 else []


def when_line(briefing: Briefing) -> str:
    """The briefing's date span, e.g. 'When: 2024-11-17 to 2024-11-18'; said to be unknown when no
    article carries a publication date (a date in the text is not guessed into one)."""
    span = briefing.date_span
    if span is None:
        return "When: not known (no publication date)"
    return f"When: {span.start}" + (f" to {span.end}" if span.end != span.start else "")


def timeline_date(entry: TimelineEntry) -> tuple[str, str]:
    """A placed event's date as a reader reads it, and how the source wrote it."""
    mention = entry.date
    when = mention.when or mention.said
    when = f"week of {when}" if mention.precision == "week" else when
    return when, f" (“{mention.said}”)" if mention.said.strip() != mention.when else ""


def timeline_line(entry: TimelineEntry, number: dict[str, int]) -> str:
    """One dated event: its date, as the source wrote it, the sentence, its sources."""
    when, said = timeline_date(entry)
    return f"- **{md(when)}**{' ' * bool(said)}{md(said)}: {md(entry.text)} {refs(entry.sources, number)}"


def source_numbers(briefing: Briefing) -> dict[str, int]:
    """Return the number [n] each source is cited by, in the order the briefing lists them."""
    return {s.id: n for n, s in enumerate(briefing.sources, 1)}


def refs(sources: list[str], number: dict[str, int]) -> str:
    """Return citation marks like [1][3]."""
    return "".join(f"[{number[s]}]" for s in sources if s in number)


def cited(point: KeyPoint, number: dict[str, int]) -> str:
    """Return a sentence with its citation marks, the sources that state only its gist, and a note when
    it states one side of a dispute."""
    gist = f" _(its gist also in {refs(point.gist_sources, number)})_" if point.gist_sources else ""
    note = f" _(sources disagree on {md(', '.join(point.disputed))})_" if point.disputed else ""
    return f"{md(point.text)} {refs(point.sources, number)}{gist}{note}"


def summary_cited(briefing: Briefing, number: dict[str, int]) -> str:
    """Return the summary with each sentence's citation marks."""
    return " ".join(cited(p, number) for p in briefing.summary_sentences) or md(briefing.summary)


def claims_cited(dispute: Disagreement, number: dict[str, int]) -> str:
    """Return each value of a dispute with the sources that give it."""
    return "; ".join(f"{md(c.text)} {refs(c.sources, number)}" for c in dispute.claims)


def source_name(source: SourceInfo) -> str:
    """A source as a reader knows it: its title (or its first words), outlet (or the URL's host) and
    date; the file it was read from only when it has no title, and by name, not path."""
    where = None if source.title else PurePath(source.origin).name or source.origin
    about = [source.outlet, source.published.strftime("%-d %b %Y") if source.published else None, where]
    known = ", ".join(part for part in about if part)
    name = source.title or (f"“{source.lead}”" if source.lead else source.origin)
    return f"{name}{f' — {known}' if known and known != name else ''}"


def source_line(source: SourceInfo, number: dict[str, int]) -> str:
    """Return a numbered source, its id (what the JSON cites) and its quality flags."""
    notes = f" — {md('; '.join(map(str, source.flags)))}" if source.flags else ""
    return f"{number[source.id]}. {md(source_name(source))} (`{source.id}`){notes}"


def sourcecount(point: KeyPoint) -> str:
    """How many independent sources support a point, e.g. '3 sources'."""
    return count(point.independent_sources, "source")


# What a reader is told of a point's evidence instead of the judge's raw score (kept in the JSON).
_ORIGIN_LABEL: dict[KeyPointOrigin, str] = {
    "llm": "rewritten, checked against the source", "extract": "quoted", "edited": "edited from the source sentence",
    "repaired": "source sentence with a spinner's or translation's damage undone",
}


def count(n: int, noun: str, nouns: str | None = None) -> str:
    """A number with its noun, e.g. '1 source', '3 sources', '2 stories' (with `nouns`)."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def evidence_note(point: KeyPoint) -> str:
    """How many sources state a point and how it was made from them, e.g. '3 sources; quoted'."""
    return f"{sourcecount(point)}; {_ORIGIN_LABEL[point.origin]}"


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
