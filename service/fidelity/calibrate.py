"""Calibrate the checker on human-labelled data: fit on one part, report on parts not fitted on."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from service.embeddings import Embedder
from service.fidelity.checker import embedded_items, worst_signals
from service.fidelity.model import SupportModel, balanced_accuracy, fit, roc_auc
from service.fidelity.signals import FEATURES, claim_signals

DATA_DIR = Path(__file__).resolve().parents[2] / "evals" / "data" / "faithfulness"
# why: fit on both domains (SummEdits' larger split and half of QAGS), so neither held-out
# part is scored by weights that only ever saw the other domain.
FIT_PARTS = ("summedits/test", "qags/a")


class Example(BaseModel):
    """One labelled (sources, summary) pair."""

    id: str
    part: str
    sources: list[str]
    summary: str
    consistent: bool


class PartMetrics(BaseModel):
    """How the checker does on one part of the data."""

    part: str
    n: int
    consistent: int
    balanced_accuracy: float
    roc_auc: float


class Calibration(BaseModel):
    """The fitted model and its metrics on the fitted and held-out parts."""

    model: SupportModel
    fitted: PartMetrics
    held_out: list[PartMetrics]


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


def signal_matrix(
    examples: list[Example], embedder: Embedder, *, block_size: int = 16,
    progress: Callable[[int], None] = lambda n: None,
) -> np.ndarray:
    """Return each example's worst-sentence signals, one row per example."""
    items: Iterable[tuple[str, list[str], str]] = ((e.id, e.sources, e.summary) for e in examples)
    rows = []
    for item in embedded_items(items, embedder, block_size):
        everything = np.arange(len(item.index.sentences))
        claims = [
            claim_signals(c, item.claim_vectors[i], item.index, everything).values for i, c in enumerate(item.claims)
        ]
        worst = worst_signals(claims)
        rows.append([worst[f] for f in FEATURES])
        progress(len(rows))
    return np.array(rows, dtype=float)


def calibrate(
    examples: list[Example], signals: np.ndarray, fit_parts: tuple[str, ...] = FIT_PARTS
) -> Calibration:
    """Fit on `fit_parts`; report balanced accuracy and ROC AUC on every other part and all of them."""
    labels = np.array([e.consistent for e in examples], dtype=float)
    parts = np.array([e.part for e in examples])
    on_fit = np.isin(parts, fit_parts)
    if not on_fit.any():
        raise ValueError(f"no examples in parts {fit_parts} (parts: {sorted(set(parts))})")
    model = fit(signals[on_fit], labels[on_fit])
    model.fitted_on = " + ".join(fit_parts)
    scores = model.probability(signals)

    def metrics(name: str, mask: np.ndarray) -> PartMetrics:
        return PartMetrics(
            part=name, n=int(mask.sum()), consistent=int(labels[mask].sum()),
            balanced_accuracy=round(balanced_accuracy(scores[mask] >= model.threshold, labels[mask]), 4),
            roc_auc=round(roc_auc(scores[mask], labels[mask]), 4),
        )

    held = [metrics(p, parts == p) for p in sorted(set(parts)) if p not in fit_parts]
    if len(held) > 1:
        held.append(metrics("all held-out", ~on_fit))
    model.metrics = {m.part: {"balanced_accuracy": m.balanced_accuracy, "roc_auc": m.roc_auc} for m in held}
    return Calibration(model=model, fitted=metrics(model.fitted_on, on_fit), held_out=held)
