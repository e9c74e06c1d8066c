"""The numbers decisions read: model outputs and what is computed from them, rounded to a stated
precision, so that float residue cannot decide anything.

The ONNX models compute in float32 (service/fidelity/weights.py); across CPUs their outputs
agree to float rounding (benchmarks/portability.py), not bit for bit, and so do the BLAS
products numpy computes from them. Every threshold, sort, de-duplication and clustering decision
reads values rounded here, and ties are broken by stable keys (a sentence's row, which is its
article, paragraph and sentence order; an article id), never by float order or set order.

A value can still land on either side of a rounding boundary; for that to change a decision, it
must lie within the residue (about 1e-6, docs/portability.md) of the one boundary
that matters, which tests/test_numerics.py exercises with seeded noise ten times larger.
"""

from __future__ import annotations

import numpy as np

# The judge's logit: its calibrated probability then moves by at most 0.0025 per step.
LOGIT_DECIMALS = 2
# A cosine similarity, and whatever is blended from similarities (salience, grouping).
SIMILARITY_DECIMALS = 3
# A probability or a score compared with a threshold.
SCORE_DECIMALS = 4


def logits(values: np.ndarray) -> np.ndarray:
    """The judge's logits as the decisions read them."""
    return np.round(np.asarray(values, dtype=np.float64), LOGIT_DECIMALS)


def similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities of unit vectors: rows of `a` against rows of `b` (or one vector)."""
    product = np.asarray(a, dtype=np.float64) @ np.asarray(b, dtype=np.float64).T
    return np.round(product, SIMILARITY_DECIMALS)


def blended(values: np.ndarray) -> np.ndarray:
    """A value computed from similarities, rounded like them."""
    return np.round(np.asarray(values, dtype=np.float64), SIMILARITY_DECIMALS)


def score(values: np.ndarray) -> np.ndarray:
    """Probabilities and scores that meet a threshold."""
    return np.round(np.asarray(values, dtype=np.float64), SCORE_DECIMALS)
