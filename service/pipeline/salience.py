"""How much a source sentence matters to its batch: central to what the sources report, early in its
article, specific (names, numbers), not editorial, from a clean source. The reading selection and the
extractive fallback rank sentences by it."""

from __future__ import annotations

import numpy as np

from service.clean import EDITORIAL
from service.fidelity.sources import SourceIndex
from service.models import FlagKind
from service.text import has_attribution, numbers, proper_names

# Two sentences this similar state one fact: the second adds nothing.
REDUNDANT = 0.8
_FLAG_WEIGHT: dict[FlagKind, float] = {"word-spun": 0.4, "machine-translated": 0.85}


def salience(i: int, index: SourceIndex) -> float:
    """Score sentence row i of an embedded index in [0, 1]."""
    assert index.vectors is not None
    sentence = index.sentences[i]
    others = index.rows_of([a for a in index.article_ids if a != sentence.article_id])
    pool = others if others.size else index.rows_of([sentence.article_id])
    sims = np.sort(index.vectors[pool] @ index.vectors[i])[::-1]
    # why: alone, a sentence's best match is itself; with other sources, agreement across them counts.
    centrality = float(np.mean(sims[1:4] if not others.size else sims[:3])) if sims.size else 0.0
    lead = 1.0 / (1.0 + sentence.position / 4)
    specific = min(1.0, (len(numbers(sentence.text)) + len(proper_names(sentence.text))) / 4)
    weight = 0.6 if EDITORIAL.search(sentence.text) and not has_attribution(sentence.text) else 1.0
    for flag in index.flags.get(sentence.article_id, []):
        weight *= _FLAG_WEIGHT[flag.kind]
    return weight * (0.55 * centrality + 0.3 * lead + 0.15 * specific)


def novelty_ranked(index: SourceIndex, candidates: list[int], scores: dict[int, float],
                   chosen: list[np.ndarray]) -> int:
    """Return the candidate that best balances salience against repeating what is already chosen."""
    assert index.vectors is not None
    if not chosen:
        return max(candidates, key=lambda i: scores[i])
    taken = np.stack(chosen)
    return max(candidates, key=lambda i: 0.65 * scores[i] - 0.35 * float(np.max(taken @ index.vectors[i])))  # type: ignore[index]


def redundant(vector: np.ndarray, chosen: list[np.ndarray]) -> bool:
    """Tell whether a sentence restates one already chosen."""
    return bool(chosen) and float(np.max(np.stack(chosen) @ vector)) >= REDUNDANT
