"""The eval report as a page a prompt engineer works from: variants side by side per case with the
briefing each shipped, filters (all, differing, failing) that work without JavaScript, each
metric's mean against the gate, tokens, LLM calls and seconds per cell, and the change from an
earlier run. Rendered from a template (service/pages/templates/eval_report.html), self-contained."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from service.evals.dataset import Dataset
from service.evals.metrics import METRICS, briefing_sentences
from service.evals.report import means
from service.evals.runner import CaseResult, EvalRun
from service.pages.render import environment

_COST = ("tokens", "llm_calls", "seconds")


@dataclass(frozen=True)
class MetricRow:
    """One metric's mean per variant, whether each meets the gate, and the change from an earlier run."""

    name: str
    values: list[float | None]
    passes: list[bool | None]
    gate: str
    change: list[float | None]


@dataclass(frozen=True)
class CaseRow:
    """One case: each variant's result, and whether the variants shipped different text or any failed."""

    case: str
    cells: list[CaseResult | None]
    differing: bool
    failing: bool


def write_html(run: EvalRun, path: Path, dataset: Dataset | None = None, earlier: EvalRun | None = None) -> None:
    """Write the report page for a run (and its dataset's gate, and an earlier run to compare with)."""
    averages, before = means(run), means(earlier) if earlier else {}
    thresholds = dataset.thresholds if dataset else {}
    rows = []
    for metric in METRICS:
        values = [averages[v].get(metric) for v in run.variants]
        if all(x is None for x in values):
            continue
        gate = thresholds.get(metric)
        rows.append(MetricRow(
            name=metric, values=values,
            passes=[None if gate is None or x is None else not gate.fails(x) for x in values],
            gate=", ".join(f"{k} {v:g}" for k, v in gate.model_dump(exclude_none=True).items()) if gate else "",
            change=[None if x is None or before.get(v, {}).get(metric) is None else round(x - before[v][metric], 4)
                    for v, x in zip(run.variants, values, strict=True)],
        ))
    by = {(r.variant, r.case): r for r in run.results}
    cases = []
    for case in dict.fromkeys(r.case for r in run.results):
        cells = [by.get((v, case)) for v in run.variants]
        texts = {tuple(shipped(c)) for c in cells if c is not None}
        cases.append(CaseRow(case=case, cells=cells, differing=len(texts) > 1,
                             failing=any(c is None or c.error or c.failed for c in cells)))
    page = environment().get_template("eval_report.html").render(
        run=run, rows=rows, cases=cases, earlier=earlier, shipped=shipped, cost=_COST)
    path.write_text(page, encoding="utf-8")


def shipped(result: CaseResult | None) -> list[str]:
    """What a reader of the case's briefing reads: each story's title, then its sentences."""
    if result is None or result.briefing is None:
        return []
    return [text for b in result.briefing.story_briefings() for text in [f"# {b.title}", *briefing_sentences(b)]]
