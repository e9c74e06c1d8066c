"""Render a Briefing as Markdown for people or JSON for tools."""

from __future__ import annotations

import json
from enum import StrEnum

from service.models import Briefing, Disagreement, KeyPoint, SourceInfo


class Format(StrEnum):
    """The formats a briefing renders to."""

    MD = "md"
    JSON = "json"


def render(briefing: Briefing, fmt: Format) -> str:
    """Render as Markdown or JSON."""
    return to_json(briefing) if fmt == Format.JSON else to_markdown(briefing)


def to_json(briefing: Briefing) -> str:
    """Return the briefing as indented JSON."""
    return json.dumps(briefing.model_dump(mode="json"), indent=2, ensure_ascii=False)


def to_markdown(briefing: Briefing) -> str:
    """Return the briefing as Markdown: title, summary, cited points, sources, what was dropped."""
    number = source_numbers(briefing)
    lines = [f"# {briefing.title}", ""]
    lines += [summary_cited(briefing, number), ""]
    lines += ["## Key points", ""]
    lines += [f"- {cited(p, number)} {_support(p)}" for p in briefing.key_points]
    if briefing.disagreements:
        lines += ["", "## Where sources disagree", ""]
        lines += [f"- {dispute.about}: {claims_cited(dispute, number)}" for dispute in briefing.disagreements]
    if len(briefing.stories) > 1:
        lines += ["", "## Stories", "", "These articles report separate events; figures are compared within each:", ""]
        lines += [f"- {refs(story.article_ids, number)}" for story in briefing.stories]
    lines += ["", "## Sources", ""]
    lines += [source_line(s, number, with_origin=True) for s in briefing.sources]
    if briefing.dropped:
        lines += ["", "## Dropped before summarising", ""]
        for d in briefing.dropped:
            lines.append(f"- [{number.get(d.source, '?')}] ¶{d.paragraph}, {d.reason}: “{_clip(d.text)}”")
    if briefing.skipped:
        lines += ["", "## Skipped inputs", ""]
        lines += [f"- {s.origin}: {s.reason}" for s in briefing.skipped]
    run = briefing.run
    lines += [
        "",
        f"<sub>{run.model}, prompts {', '.join(f'{k}/{v}' for k, v in run.prompts.items())}; "
        f"{run.llm_calls} LLM calls, {run.prompt_tokens}+{run.completion_tokens} tokens, "
        f"{run.seconds:.1f}s; {run.unsupported_dropped} sentences dropped as unsupported, "
        f"{len(run.rejected)} rejected in all"
        f"{'; filled from source sentences' if run.fallback_used else ''}.</sub>",
    ]
    return "\n".join(lines) + "\n"


def source_numbers(briefing: Briefing) -> dict[str, int]:
    """Return the number [n] each source is cited by, in the order the briefing lists them."""
    return {s.id: n for n, s in enumerate(briefing.sources, 1)}


def refs(sources: list[str], number: dict[str, int]) -> str:
    """Return citation marks like [1][3]."""
    return "".join(f"[{number[s]}]" for s in sources if s in number)


def cited(point: KeyPoint, number: dict[str, int]) -> str:
    """Return a sentence with its citation marks, and a note when it states one side of a dispute."""
    note = f" _(sources disagree on {', '.join(point.disputed)})_" if point.disputed else ""
    return f"{point.text} {refs(point.sources, number)}{note}"


def summary_cited(briefing: Briefing, number: dict[str, int]) -> str:
    """Return the summary with each sentence's citation marks."""
    return " ".join(cited(p, number) for p in briefing.summary_sentences) or briefing.summary


def claims_cited(dispute: Disagreement, number: dict[str, int]) -> str:
    """Return each value of a dispute with the sources that give it."""
    return "; ".join(f"{c.text} {refs(c.sources, number)}" for c in dispute.claims)


def source_line(source: SourceInfo, number: dict[str, int], *, with_origin: bool = False) -> str:
    """Return a numbered source with its id (and where it was read) and its quality flags."""
    notes = f" — {'; '.join(map(str, source.flags))}" if source.flags else ""
    where = f", {source.origin}" if with_origin else ""
    return f"{number[source.id]}. {source.title or source.origin} (`{source.id}`{where}){notes}"


def _support(point: KeyPoint) -> str:
    label = "quoted from source" if point.origin == "extract" else "verified"
    return f"_(support {point.support:.2f}, {label})_"


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
