"""Fallback: the best-supported source sentences, so even a weak model yields a true briefing."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from service.clean import EDITORIAL as _EDITORIAL
from service.fidelity.sources import SourceIndex
from service.models import FlagKind, KeyPoint
from service.pipeline.verify import SupportChecker
from service.text import has_attribution, numbers, proper_names

_MIN_WORDS, _MAX_WORDS = 8, 45
_DEMONYM = re.compile(r"(ian|ean|ese|ish)$")
_REDUNDANT = 0.8
_FLAG_WEIGHT: dict[FlagKind, float] = {"word-spun": 0.4, "machine-translated": 0.85}


def best_sentences(
    index: SourceIndex,
    checker: SupportChecker,
    count: int,
    taken: list[np.ndarray] | None = None,
) -> list[KeyPoint]:
    """Pick up to `count` central, diverse, readable source sentences with their corroborating sources."""
    assert index.vectors is not None
    candidates = [i for i, s in enumerate(index.sentences) if _readable(s.text)]
    if not candidates:
        return []
    scores = {i: _score(i, index) for i in candidates}
    chosen_vectors = list(taken or [])
    points: list[KeyPoint] = []
    while candidates and len(points) < count:
        def mmr(i: int) -> float:
            if not chosen_vectors:
                return scores[i]
            return 0.65 * scores[i] - 0.35 * max(float(index.vectors[i] @ v) for v in chosen_vectors)  # type: ignore[index]

        best = max(candidates, key=mmr)
        candidates.remove(best)
        vector = index.vectors[best]
        if chosen_vectors and max(float(vector @ v) for v in chosen_vectors) >= _REDUNDANT:
            continue
        sentence = index.sentences[best]
        support = checker.check(sentence.text, [sentence.article_id])
        if not support.supported:
            continue
        corroborating = [
            a for a in index.article_ids
            if a != sentence.article_id and checker.check(sentence.text, [a]).supported
        ]
        chosen_vectors.append(vector)
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


def _score(i: int, index: SourceIndex) -> float:
    assert index.vectors is not None
    sentence = index.sentences[i]
    others = index.rows_of([a for a in index.article_ids if a != sentence.article_id])
    pool = others if others.size else index.rows_of([sentence.article_id])
    sims = np.sort(index.vectors[pool] @ index.vectors[i])[::-1]
    centrality = float(np.mean(sims[1:4] if not others.size else sims[:3])) if sims.size else 0.0
    lead = 1.0 / (1.0 + sentence.position / 4)
    specific = min(1.0, (len(numbers(sentence.text)) + len(proper_names(sentence.text))) / 4)
    weight = 0.6 if _EDITORIAL.search(sentence.text) and not has_attribution(sentence.text) else 1.0
    for flag in index.flags.get(sentence.article_id, []):
        weight *= _FLAG_WEIGHT[flag.kind]
    return weight * (0.55 * centrality + 0.3 * lead + 0.15 * specific)
