"""Fallback: the best-supported source sentences, so even a weak model yields a true briefing."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from service.fidelity.sources import SourceIndex
from service.models import KeyPoint
from service.pipeline.salience import NoveltyPicker, salience
from service.pipeline.verify import SupportChecker
from service.text import proper_names

_MIN_WORDS, _MAX_WORDS = 8, 45
_DEMONYM = re.compile(r"(ian|ean|ese|ish)$")


def best_sentences(
    index: SourceIndex,
    checker: SupportChecker,
    count: int,
    taken: list[np.ndarray] | None = None,
) -> list[KeyPoint]:
    """Pick up to `count` salient, diverse, readable source sentences with their corroborating sources."""
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
        corroborating = [
            a for a in index.article_ids
            if a != sentence.article_id and checker.check(sentence.text, [a]).supported
        ]
        picker.take(vector)
        points.append(
            KeyPoint(
                text=sentence.text,
                sources=[sentence.article_id, *corroborating],
                support=support.score,
                evidence=support.evidence,
                origin="extract",
            )
        )
    return points


def names_title(index: SourceIndex, count: int = 3) -> str:
    """Build a neutral title from the names most sources mention."""
    per_article: Counter[str] = Counter()
    for aid in index.article_ids:
        text = " ".join(s.text for s in index.sentences if s.article_id == aid)
        per_article.update(set(proper_names(text)))
    ranked = sorted(per_article.items(), key=lambda item: (-item[1], item[0]))
    names = [n for n, _ in ranked if len(n) > 2 and not _DEMONYM.search(n)]
    chosen: list[str] = []
    for name in names:
        if not any(_same_name(name, c) for c in chosen):
            chosen.append(name)
        if len(chosen) == count:
            break
    sources = len(index.article_ids)
    label = f"{sources} source{'s' if sources != 1 else ''}"
    return f"{', '.join(chosen) or 'News'}: briefing from {label}"


def _same_name(a: str, b: str) -> bool:
    return a in b or b in a or a[:5].lower() == b[:5].lower()


def _readable(text: str) -> bool:
    n = len(text.split())
    balanced = text.count("“") == text.count("”") and text.count('"') % 2 == 0
    return _MIN_WORDS <= n <= _MAX_WORDS and not text.endswith("?") and text[0].isupper() and balanced
