"""The project's own test set of the distortions a shortening model makes (`distortions.py`):
each case a source sentence, a distorted shortening of it and a faithful one, so a rule that
refuses everything fails as surely as one that catches nothing.

`evals/data/distortions/cases.jsonl`, written by hand from the project's own data (the example
articles and the fit part of SummEdits, never a held-out document); `briefing fidelity
distortions` reports caught and kept per kind, by the rules, the judge alone, and both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel

from service.fidelity.distortions import Distortion
from service.fidelity.judge import Judge
from service.fidelity.rules import capped, problems
from service.text import sentences

CASES_DIR = Path(__file__).resolve().parents[2] / "evals" / "data" / "distortions"
# Written while the rules were built, and written after they were fixed (never tuned on).
CASES_FILE = CASES_DIR / "cases.jsonl"
UNSEEN_FILE = CASES_DIR / "unseen.jsonl"


class Case(BaseModel):
    """A source sentence with a distorted and a faithful shortening of it."""

    kind: Distortion
    source: str
    distorted: str
    faithful: str


class KindResult(BaseModel):
    """Share of distortions caught and of faithful shortenings kept, for one kind."""

    kind: Distortion
    n: int
    caught: float
    kept: float


class Report(BaseModel):
    """Caught and kept per kind: by the rules alone, by the judge alone and by both."""

    rules: list[KindResult]
    judge: list[KindResult] = []
    both: list[KindResult] = []


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    """Read the cases, one JSON object a line."""
    return [Case.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def refused_by_rules(cases: list[Case]) -> tuple[np.ndarray, np.ndarray]:
    """Whether any hard rule refuses each distorted and each faithful shortening."""
    def refused(claim: str, case: Case) -> bool:
        return bool(problems(claim, sentences(case.source), case.source))

    return (np.array([refused(c.distorted, c) for c in cases]), np.array([refused(c.faithful, c) for c in cases]))


def evaluate(cases: list[Case], judge: Judge | None = None) -> Report:
    """Caught and kept per kind, with the judge (at its calibrated threshold) when given."""
    rules_distorted, rules_faithful = refused_by_rules(cases)
    report = Report(rules=_per_kind(cases, rules_distorted, rules_faithful))
    if judge is not None:
        pairs = [(c.source, c.distorted) for c in cases] + [(c.source, c.faithful) for c in cases]
        alone = judge.probability(pairs)
        both = capped(alone, np.concatenate([rules_distorted, rules_faithful]))
        threshold = judge.calibration.threshold
        n = len(cases)
        report.judge = _per_kind(cases, alone[:n] < threshold, alone[n:] < threshold)
        report.both = _per_kind(cases, both[:n] < threshold, both[n:] < threshold)
    return report


def _per_kind(cases: list[Case], distorted_refused: np.ndarray, faithful_refused: np.ndarray) -> list[KindResult]:
    kinds = np.array([c.kind for c in cases])
    out = []
    for kind in dict.fromkeys(c.kind for c in cases):
        mask = kinds == kind
        out.append(KindResult(
            kind=kind, n=int(mask.sum()), caught=round(float(distorted_refused[mask].mean()), 3),
            kept=round(float((~faithful_refused[mask]).mean()), 3),
        ))
    return out
