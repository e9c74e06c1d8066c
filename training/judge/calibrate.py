"""Calibrate the judge on human labels and report on what it was neither trained nor fitted on.

The judge's logit is mapped to a probability by Platt scaling fitted on the fit parts (the
same parts whose labels and documents the judge was trained on); the threshold maximises
balanced accuracy there. Reported separately: the held-out parts (documents never trained
on), synthetic contrast pairs built from held-out documents, by kind, and an ablation of the
rules kept beside the judge.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from service.fidelity.checker import FidelityChecker, Item, embed_block
from service.fidelity.judge import Judge, JudgeCalibration
from service.fidelity.rules import RULES, Rule, capped, problems
from service.text import sentences
from training.judge.contrast import NEGATIVE_KINDS, POSITIVE_KINDS, Pair, pairs_from_documents

DATA_DIR = Path(__file__).resolve().parents[2] / "evals" / "data" / "faithfulness"
# why: fit on both domains (SummEdits' larger split and half of QAGS), so neither held-out
# part is scored by a calibration that only ever saw the other domain.
FIT_PARTS = ("summedits/test", "qags/a")
CONTRAST_SEED = 424242


class Example(BaseModel):
    """One labelled (sources, summary) pair."""

    id: str
    part: str
    sources: list[str]
    summary: str
    consistent: bool


class Judged(BaseModel):
    """An example as the checker sees it: its weakest sentence's logit, and the hard rules any of
    its sentences breaks."""

    logit: float
    broken: set[Rule] = set()


class PartMetrics(BaseModel):
    """How the checker does on one part of the data."""

    part: str
    n: int
    consistent: int
    balanced_accuracy: float
    roc_auc: float


class KindMetrics(BaseModel):
    """Share of synthetic pairs of one kind judged right (supported for positives, not for negatives),
    by the judge alone and with the hard rules."""

    kind: str
    n: int
    judge_alone: float
    accuracy: float


class RuleFirings(BaseModel):
    """How many consistent and inconsistent summaries one hard rule refuses, on the fitted and on
    the held-out parts: what a rule costs (consistent) beside what it catches (inconsistent)."""

    rule: Rule
    fitted: tuple[int, int]
    held_out: tuple[int, int]


class Calibration(BaseModel):
    """The fitted calibration, and its metrics on the fitted, held-out and synthetic data."""

    calibration: JudgeCalibration
    fitted: PartMetrics
    held_out: list[PartMetrics]
    kinds: list[KindMetrics]
    ablation: dict[str, float]
    firings: list[RuleFirings] = []


def load_examples(folder: Path = DATA_DIR) -> list[Example]:
    """Read SummEdits (news) and QAGS-CNNDM into one list, each example tagged with its part."""
    examples = [
        Example(
            id=str(item["id"]), part=f"summedits/{item['split']}", sources=[item["doc"]],
            summary=item["summary"], consistent=str(item["label"]) == "1",
        )
        for item in json.loads((folder / "summedits_news.json").read_text(encoding="utf-8"))
    ]
    for n, item in enumerate(json.loads((folder / "qags_cnndm.json").read_text(encoding="utf-8"))):
        scores = item["scores"] if isinstance(item["scores"], dict) else json.loads(item["scores"].replace("'", '"'))
        examples.append(
            Example(
                id=f"qags-{n}", part=f"qags/{'ab'[n % 2]}", sources=[item["source"]], summary=item["system_output"],
                consistent=float(scores["consistency"]) >= 1.0,
            )
        )
    return examples


def held_out_documents(examples: list[Example]) -> set[str]:
    """Every source document of a part that is not fitted on."""
    return {s for e in examples if e.part not in FIT_PARTS for s in e.sources}


def raw_checker(checker: FidelityChecker) -> FidelityChecker:
    """The same checker with the judge's calibration removed: its probabilities are sigmoid(logit)."""
    raw = Judge(checker.judge.model, JudgeCalibration())
    return FidelityChecker(checker.settings, embedder=checker.embedder, judge=raw)


def judge_examples(
    examples: list[Example], checker: FidelityChecker, progress: Callable[[int], None] = lambda n: None
) -> list[Judged]:
    """Judge every example with the uncalibrated judge; a summary is its weakest sentence."""
    raw = raw_checker(checker)
    out: list[Judged] = []
    size = checker.settings.block_size
    for start in range(0, len(examples), size):
        block: list[Item] = [(e.id, e.sources, e.summary) for e in examples[start : start + size]]
        for _, claims in embed_block(block, raw.embedder):
            assessed = raw.assess(claims)
            weakest = min(a.judged for a in assessed)
            broken = {p.rule for a in assessed for p in a.score.problems}
            out.append(Judged(logit=_logit(weakest), broken=broken))
        progress(len(out))
    return out


def calibrate(
    examples: list[Example], judged: list[Judged], contrast: list[Pair], judge: Judge,
    fit_parts: tuple[str, ...] = FIT_PARTS,
) -> Calibration:
    """Fit Platt scaling and the threshold on `fit_parts`; report everything else."""
    labels = np.array([e.consistent for e in examples], dtype=float)
    parts = np.array([e.part for e in examples])
    logits = np.array([j.logit for j in judged])
    on_fit = np.isin(parts, fit_parts)
    if not on_fit.any():
        raise ValueError(f"no examples in parts {fit_parts} (parts: {sorted(set(parts))})")
    scale, bias = platt(logits[on_fit], labels[on_fit])
    calibration = JudgeCalibration(scale=scale, bias=bias, fitted_on=" + ".join(fit_parts))
    alone = calibration.probability(logits)

    def with_rules(*rules: Rule) -> np.ndarray:
        return capped(alone, np.array([bool(j.broken & set(rules)) for j in judged]))

    scores = with_rules(*RULES)
    calibration.threshold = best_threshold(scores[on_fit], labels[on_fit])

    def metrics(name: str, mask: np.ndarray, s: np.ndarray = scores) -> PartMetrics:
        return PartMetrics(
            part=name, n=int(mask.sum()), consistent=int(labels[mask].sum()),
            balanced_accuracy=round(balanced_accuracy(s[mask] >= calibration.threshold, labels[mask]), 4),
            roc_auc=round(roc_auc(s[mask], labels[mask]), 4),
        )

    held = [metrics(p, parts == p) for p in sorted(set(parts)) if p not in fit_parts]
    if len(held) > 1:
        held.append(metrics("all held-out", ~on_fit))
    calibration.metrics = {m.part: {"balanced_accuracy": m.balanced_accuracy, "roc_auc": m.roc_auc} for m in held}
    ablation = {
        "judge alone": metrics("", ~on_fit, alone).balanced_accuracy,
        "judge + quote rule": metrics("", ~on_fit, with_rules("quote")).balanced_accuracy,
        "judge + quote and flip rules": metrics("", ~on_fit, with_rules("quote", "flip")).balanced_accuracy,
        "judge + every rule (shipped)": metrics("", ~on_fit).balanced_accuracy,
    }
    fired = {rule: np.array([rule in j.broken for j in judged]) for rule in RULES}
    consistent = labels == 1

    def counts(rule: Rule, mask: np.ndarray) -> tuple[int, int]:
        return int((fired[rule] & mask & consistent).sum()), int((fired[rule] & mask & ~consistent).sum())

    return Calibration(
        calibration=calibration, fitted=metrics(calibration.fitted_on, on_fit), held_out=held,
        kinds=kind_metrics(contrast, judge, calibration), ablation=ablation,
        firings=[RuleFirings(rule=r, fitted=counts(r, on_fit), held_out=counts(r, ~on_fit)) for r in RULES],
    )


def held_out_contrast(examples: list[Example]) -> list[Pair]:
    """Synthetic contrast pairs from the held-out documents only (never trained on)."""
    return pairs_from_documents(sorted(held_out_documents(examples)), CONTRAST_SEED, 1)


def kind_metrics(pairs: list[Pair], judge: Judge, calibration: JudgeCalibration) -> list[KindMetrics]:
    """Accuracy of the calibrated judge and the hard rules on each kind of contrast pair, read
    against its own evidence."""
    if not pairs:
        return []
    alone = calibration.probability(judge.logits([(p.evidence, p.claim) for p in pairs]))
    scores = capped(alone, np.array([bool(problems(p.claim, sentences(p.evidence), p.evidence)) for p in pairs]))
    supported = np.array([p.supported for p in pairs])
    out = []
    for kind in (*POSITIVE_KINDS, *NEGATIVE_KINDS):
        mask = np.array([p.kind == kind for p in pairs])
        if mask.any():
            def right(s: np.ndarray, mask: np.ndarray = mask) -> float:
                return round(float(((s[mask] >= calibration.threshold) == supported[mask]).mean()), 4)

            out.append(KindMetrics(kind=kind, n=int(mask.sum()), judge_alone=right(alone), accuracy=right(scores)))
    return out


def platt(logits: np.ndarray, labels: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """Fit P(consistent) = sigmoid(a * logit + b) by damped Newton steps from a = b = 0."""
    x = np.stack([logits, np.ones_like(logits)], axis=1)
    w = np.zeros(2)
    penalty = np.diag([1e-3, 0.0])

    def loss(v: np.ndarray) -> float:
        z = x @ v
        return float(np.sum(np.logaddexp(0, z) - labels * z) + 0.5 * v @ penalty @ v)

    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (p - labels) + penalty @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while loss(w - size * step) > loss(w) and size > 1e-4:  # why: undamped Newton can overshoot
            size /= 2
        w -= size * step
        if np.abs(size * step).max() < 1e-8:
            break
    return round(float(w[0]), 5), round(float(w[1]), 5)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """Return the cut that maximises balanced accuracy (midpoint between neighbouring scores)."""
    candidates = np.unique(scores)
    cuts = np.concatenate([[0.0], (candidates[:-1] + candidates[1:]) / 2, [1.0]])
    accuracies = [balanced_accuracy(scores >= c, labels) for c in cuts]
    return round(float(cuts[int(np.argmax(accuracies))]), 4)


def balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Mean of the recall on each class."""
    labels = labels.astype(bool)
    predicted = np.asarray(predicted).astype(bool)
    recalls = [np.mean(predicted[labels == c] == c) for c in (True, False) if np.any(labels == c)]
    return float(np.mean(recalls))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half)."""
    labels = labels.astype(bool)
    positives, negatives = scores[labels], scores[~labels]
    if not len(positives) or not len(negatives):
        return float("nan")
    greater = (positives[:, None] > negatives[None, :]).sum()
    ties = (positives[:, None] == negatives[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(positives) * len(negatives)))


def _logit(p: float) -> float:
    p = min(max(p, 1e-7), 1 - 1e-7)
    return float(np.log(p / (1 - p)))
