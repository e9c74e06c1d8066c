"""Render a Briefing as Markdown for people or JSON for tools."""

from __future__ import annotations

import json

from service.models import Briefing, KeyPoint

FORMATS = ("md", "json")


def render(briefing: Briefing, fmt: str) -> str:
    """Render in 'md' or 'json'."""
    if fmt == "json":
        return to_json(briefing)
    if fmt == "md":
        return to_markdown(briefing)
    raise ValueError(f"unknown format '{fmt}' (choose from {', '.join(FORMATS)})")


def to_json(briefing: Briefing) -> str:
    """Return the briefing as indented JSON."""
    return json.dumps(briefing.model_dump(mode="json"), indent=2, ensure_ascii=False)


def to_markdown(briefing: Briefing) -> str:
    """Return the briefing as Markdown: title, summary, cited points, sources, what was dropped."""
    number = {s.id: n for n, s in enumerate(briefing.sources, 1)}
    lines = [f"# {briefing.title}", ""]
    lines += [" ".join(_cited(p, number) for p in briefing.summary_sentences) or briefing.summary, ""]
    lines += ["## Key points", ""]
    lines += [f"- {_cited(p, number)} {_support(p)}" for p in briefing.key_points]
    if briefing.disagreements:
        lines += ["", "## Where sources disagree", ""]
        for dispute in briefing.disagreements:
            claims = "; ".join(f"{c.text} {_refs(c.sources, number)}" for c in dispute.claims)
            lines.append(f"- {dispute.about}: {claims}")
    if len(briefing.stories) > 1:
        lines += ["", "## Stories", "", "These articles report separate events; figures are compared within each:", ""]
        lines += [f"- {_refs(story.article_ids, number)}" for story in briefing.stories]
    lines += ["", "## Sources", ""]
    for s in briefing.sources:
        notes = f" — {'; '.join(s.flags)}" if s.flags else ""
        lines.append(f"{number[s.id]}. {s.title or s.origin} (`{s.id}`, {s.origin}){notes}")
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


def _cited(point: KeyPoint, number: dict[str, int]) -> str:
    return f"{point.text} {_refs(point.sources, number)}{disputed_note(point)}"


def disputed_note(point: KeyPoint) -> str:
    """Return a note that a sentence states one of several values sources give, or ''."""
    return f" _(sources disagree on {', '.join(point.disputed)})_" if point.disputed else ""


def _refs(sources: list[str], number: dict[str, int]) -> str:
    return "".join(f"[{number[s]}]" for s in sources if s in number)


def _support(point: KeyPoint) -> str:
    label = "quoted from source" if point.origin == "extract" else "verified"
    return f"_(support {point.support:.2f}, {label})_"


def _clip(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
