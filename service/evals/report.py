"""Eval reports: a side-by-side table, JSONL, comparisons, the gate (the page: report_page.py)."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean

from service.evals.dataset import Dataset
from service.evals.metrics import METRICS
from service.evals.runner import CaseResult, EvalRun


def means(run: EvalRun) -> dict[str, dict[str, float]]:
    """Return each variant's mean of each metric over the cases that ran."""
    out: dict[str, dict[str, float]] = {}
    for variant in run.variants:
        rows = [r.metrics for r in run.results if r.variant == variant and not r.error]
        out[variant] = {m: round(mean(r[m] for r in rows if m in r), 4) for m in METRICS if any(m in r for r in rows)}
    return out


def table(run: EvalRun) -> str:
    """Variants as columns, metrics as rows; '*' marks the best value of a ranked metric."""
    averages = means(run)
    width = max(14, *(len(v) + 2 for v in run.variants))
    lines = [f"{'metric':24}" + "".join(f"{v:>{width}}" for v in run.variants)]
    for metric, better in METRICS.items():
        values = {v: averages[v].get(metric) for v in run.variants}
        known = [x for x in values.values() if x is not None]
        best = (max(known) if better == "higher" else min(known)) if better and len(known) > 1 else None
        cells = [
            f"{'-' if x is None else _fmt(x) + ('*' if best is not None and x == best else ' '):>{width}}"
            for x in values.values()
        ]
        lines.append(f"{metric:24}" + "".join(cells))
    errors = [r for r in run.results if r.error]
    lines.append(f"{'cases':24}" + "".join(
        f"{sum(1 for r in run.results if r.variant == v and not r.error):>{width - 1}} " for v in run.variants
    ))
    lines += [f"error: {r.variant} × {r.case}: {r.error}" for r in errors]
    return "\n".join(lines)


def gate_failures(dataset: Dataset, run: EvalRun) -> list[str]:
    """List every variant mean that breaks one of the dataset's thresholds, and every failed case."""
    failures = []
    for variant, values in means(run).items():
        if not values:
            failures.append(f"{variant}: no case ran")
        for metric, threshold in dataset.thresholds.items():
            if metric in values and threshold.fails(values[metric]):
                limit = threshold.model_dump(exclude_none=True)
                failures.append(f"{variant}: {metric} {values[metric]} breaks {limit}")
    failures += [f"{r.variant} × {r.case}: {r.error}" for r in run.results if r.error]
    return failures


def write_jsonl(run: EvalRun, path: Path) -> None:
    """One line per variant and case, each stamped with the run's fingerprint."""
    with path.open("w", encoding="utf-8") as out:
        for result in run.results:
            line = {"fingerprint": run.fingerprint.model_dump(), **result.model_dump(mode="json")}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> EvalRun:
    """Rebuild a run from its JSONL."""
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: no results")
    results = [CaseResult.model_validate({k: v for k, v in line.items() if k != "fingerprint"}) for line in lines]
    return EvalRun(
        fingerprint=lines[0]["fingerprint"],
        variants=list(dict.fromkeys(r.variant for r in results)),
        results=results,
    )


def compare(a: EvalRun, b: EvalRun) -> str:
    """Compare two runs variant by variant: metric means and the change from A to B."""
    ma, mb = means(a), means(b)
    lines = [
        f"{name}: {f.dataset} {f.date} ({f.mode}), settings {f.settings_hash}"
        for name, f in (("A", a.fingerprint), ("B", b.fingerprint))
    ]
    if a.fingerprint.dataset_hash != b.fingerprint.dataset_hash:
        lines.append("note: the datasets differ")
    for variant in [v for v in a.variants if v in b.variants]:
        lines.append(f"\n{variant}\n{'metric':24}{'A':>12}{'B':>12}{'B-A':>12}")
        for metric in METRICS:
            x, y = ma[variant].get(metric), mb[variant].get(metric)
            if x is None or y is None:
                continue
            lines.append(f"{metric:24}{_fmt(x):>12}{_fmt(y):>12}{_fmt(y - x):>12}")
    only = sorted(set(a.variants) ^ set(b.variants))
    if only:
        lines.append(f"\nin one run only: {', '.join(only)}")
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}" if value != int(value) else f"{value:.0f}"
