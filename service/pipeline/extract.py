"""Fallback: the best-supported source sentences, so even a weak model yields a true briefing."""

from __future__ import annotations

import re

import numpy as np

from service.fidelity.sources import SourceIndex
from service.models import KeyPoint
from service.pipeline.salience import NoveltyPicker, salience
from service.pipeline.verify import SupportChecker

_MIN_WORDS, _MAX_WORDS = 8, 45
_DEMONYM = re.compile(r"(ian|ean|ese|ish)$")


def best_sentences(
    index: SourceIndex,
    checker: SupportChecker,
    count: int,
    taken: list[np.ndarray] | None = None,
) -> list[KeyPoint]:
    """Pick up to `count` salient, diverse, readable source sentences (corroborating sources are added
    afterwards, for every point alike)."""
    assert index.vectors is not None
    candidates = [i for i, s in enumerate(index.sentences) if _readable(s.text)]
    picker = NoveltyPicker(index, salience(index), candidates, taken)
    points: list[KeyPoint] = []
    while len(points) < count and (best := picker.next()) is not None:
        if picker.redundant(best):
            continue
        vector = index.vectors[best]
        sentence = index.sentences[best]
        support = checker.check(sentence.text, [sentence.article_id])
        if not support.supported:
            continue
        picker.take(vector)
        points.append(
            KeyPoint(
                text=sentence.text,
                sources=[sentence.article_id],
                support=support.score,
                evidence=support.evidence,
                origin="extract",
            )
        )
    return points


def _readable(text: str) -> bool:
    n = len(text.split())
    balanced = text.count("“") == text.count("”") and text.count('"') % 2 == 0
    return _MIN_WORDS <= n <= _MAX_WORDS and not text.endswith("?") and text[0].isupper() and balanced
