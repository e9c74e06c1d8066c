"""Train the address model (service/addressed.py) and write service/data/addressed.npz.

    python -m training.addressed.train

A one-hidden-layer network over sentence embeddings and signs of address (class-balanced). The
cleaning threshold is the lowest probability that keeps at most 0.6 % of the reporting
sentences above it, out of fold (and at least 0.5), so a paragraph of three sentences stays
near 1 %; the output threshold (briefing sentences, which are replaced when refused) allows
3 %. Deterministic.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from service.addressed import WEIGHTS, AddressModel, features
from service.embeddings import get_embedder
from training.addressed.data import train_split

FALSE_DROP = 0.006
FALSE_REFUSAL = 0.03
FOLDS = 5
L2 = 1e-4


def fit(x: np.ndarray, y: np.ndarray, hidden: int = 64, steps: int = 1500, rate: float = 0.003,
        seed: int = 0) -> AddressModel:
    """A one-hidden-layer ReLU network, class-balanced log loss, Adam, full batch; threshold 0.5
    until chosen."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(0, 0.1, (x.shape[1], hidden)), np.zeros(hidden), rng.normal(0, 0.1, hidden), np.zeros(1)]
    balance = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        h = np.maximum(0, x @ params[0] + params[1])
        p = 1 / (1 + np.exp(-(h @ params[2] + params[3][0])))
        g = balance * (p - y) / len(y)
        gh = np.outer(g, params[2]) * (h > 0)
        grads = [x.T @ gh + L2 * params[0], gh.sum(0), h.T @ g + L2 * params[2], np.array([g.sum()])]
        for i, grad in enumerate(grads):
            first[i] = 0.9 * first[i] + 0.1 * grad
            second[i] = 0.999 * second[i] + 0.001 * grad * grad
            params[i] -= rate * (first[i] / (1 - 0.9**t)) / (np.sqrt(second[i] / (1 - 0.999**t)) + 1e-8)
    return AddressModel(params[0], params[1], params[2], float(params[3][0]), 0.5, 0.5)


def main() -> None:
    addressed, reporting = train_split()
    texts = addressed + reporting
    labels = np.array([1] * len(addressed) + [0] * len(reporting), dtype=float)
    vectors = get_embedder().encode(texts)
    x = np.stack([features(t, v) for t, v in zip(texts, vectors, strict=True)])
    # why: out-of-fold scores for every training sentence: the threshold is a high quantile of
    # the reporting scores, too noisy to read off one small validation split
    order = np.array(random.Random(3).sample(range(len(texts)), len(texts)))
    scores = np.zeros(len(texts))
    for fold in np.array_split(order, FOLDS):
        model = fit(x[np.setdiff1d(order, fold)], labels[np.setdiff1d(order, fold)])
        scores[fold] = [model.probability(texts[i], vectors[i]) for i in fold]
    news = np.sort(scores[labels == 0])[::-1]
    threshold = float(max(0.5, news[int(FALSE_DROP * len(news))] + 1e-6))
    output_threshold = float(max(0.5, news[int(FALSE_REFUSAL * len(news))] + 1e-6))
    for name, cut in (("cleaning", threshold), ("output", output_threshold)):
        caught = float((scores[labels == 1] >= cut).mean())
        print(f"{len(texts)} sentences, {FOLDS} folds, {name} threshold {cut:.3f}: addressed caught "
              f"{caught:.3f}, reporting flagged {float((news >= cut).mean()):.4f}")
    final = fit(x, labels)  # the shipped model sees every training sentence
    shipped = AddressModel(final.hidden, final.hidden_bias, final.out, final.out_bias, round(threshold, 4),
                           round(output_threshold, 4))
    shipped.save(Path(str(WEIGHTS)))
    print(f"wrote {WEIGHTS}")


if __name__ == "__main__":
    main()
