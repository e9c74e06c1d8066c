"""A small L2-regularised logistic model over the support signals, and the metrics to judge it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from service.fidelity.signals import FEATURES

MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "fidelity_model.json"


class SupportModel(BaseModel):
    """Standardisation, weights, bias and the decision threshold, with how they were fitted."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    threshold: float
    fitted_on: str = ""
    metrics: dict[str, dict[str, float]] = {}

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """Return P(supported) for each row of signal values (columns in `features` order)."""
        z = (rows - np.asarray(self.mean)) / np.asarray(self.scale)
        return np.asarray(1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias))))

    def save(self, path: Path = MODEL_FILE) -> None:
        """Write the model as JSON."""
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> SupportModel:
        """Read a model written by save()."""
        model = cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        if tuple(model.features) != FEATURES:
            raise ValueError(f"{path}: fitted on other signals; run `briefing fidelity calibrate --save`")
        return model


def fit(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 50) -> SupportModel:
    """Fit weights by Newton's method and the threshold that maximises balanced accuracy."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[-1, -1] = 0.0  # why: never shrink the bias
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    model = SupportModel(
        features=list(FEATURES), mean=mean.tolist(), scale=scale.tolist(),
        weights=w[:-1].tolist(), bias=float(w[-1]), threshold=0.5,
    )
    model.threshold = best_threshold(model.probability(x), y)
    return model


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
