"""Check briefing sentences against the sources they cite; unsupported ones never ship.

`SupportChecker` is the seam: the pipeline only needs `check(text, cited)`. This
implementation combines lexical grounding (every number and proper name must occur in a
cited source, most content words too) with semantic alignment (all-MiniLM-L6-v2 cosine
to the closest cited source sentence).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import BaseModel

from service.embeddings import Embedder
from service.models import Evidence
from service.pipeline.sources import SourceIndex
from service.settings import VerifySettings
from service.text import content_words, dates, name_occurs, numbers, proper_names

_CLOSE_MARGIN = 0.15


class Support(BaseModel):
    """How well a sentence is supported, by which articles, and why not if not."""

    supported: bool
    score: float
    sources: list[str]
    evidence: Evidence | None = None
    reason: str = ""


class SupportChecker(Protocol):
    """Anything that can say whether source articles support a sentence."""

    def check(self, text: str, cited: list[str]) -> Support:
        """Check text against the cited article ids (all articles when none are cited)."""
        ...


def lexical_problems(text: str, passage: str, min_overlap: float, context: str | None = None) -> list[str]:
    """List what in text is absent from a source passage: numbers, dates, names, content words.

    Specifics are looked up in `passage`; content words in the wider `context` when given.
    """
    haystack = passage.lower().replace("’", "'")
    problems = [f"number {n} not in the cited passage" for n in sorted(numbers(text) - numbers(passage))]
    problems += [f"date '{d}' not in the cited passage" for d in sorted(dates(text) - dates(passage))]
    problems += [
        f"name '{name}' not in the cited passage"
        for name in sorted(proper_names(text))
        if not name_occurs(name, haystack)
    ]
    words = content_words(text)
    if words:
        overlap = len(words & content_words(context or passage)) / len(words)
        if overlap < min_overlap:
            problems.append(f"only {overlap:.0%} of its words occur in the cited passage")
    return problems


class Verifier:
    """The default SupportChecker: lexical grounding plus embedding similarity."""

    def __init__(self, index: SourceIndex, embedder: Embedder, settings: VerifySettings) -> None:
        index.embed(embedder)
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def check(self, text: str, cited: list[str]) -> Support:
        """Check text against its cited articles; uncited text is attributed to its best sources."""
        known = [a for a in cited if a in self.index.texts]
        if cited and len(known) < len(cited):
            return Support(supported=False, score=0.0, sources=known, reason="cites an unknown source")
        vector = self.embedder.encode([text])[0]
        if known:
            return self._against(text, vector, known)
        return self._attribute(text, vector)

    def _against(self, text: str, vector: np.ndarray, article_ids: list[str]) -> Support:
        rows, sims = self._closest(vector, article_ids)
        best_row, similarity = (rows[0], sims[0]) if rows else (-1, 0.0)
        evidence = self._evidence(best_row, similarity)
        # why: specifics must occur where the meaning matches, not anywhere in the article.
        close = [r for r, sim in zip(rows, sims, strict=True) if sim >= similarity - _CLOSE_MARGIN]
        passage = " ".join(self.index.sentences[r].text for r in close)
        problems = lexical_problems(
            text, passage, self.settings.min_content_overlap, context=self.index.window(rows)
        )
        problems += [f"garbled wording from a word-spun source ('{w}')" for w in self.index.spun_words(text)]
        if similarity < self.settings.min_similarity:
            problems.append(f"closest cited sentence only {similarity:.2f} similar")
        score = max(0.0, min(1.0, similarity)) * (0.5 if problems else 1.0)
        return Support(
            supported=not problems,
            score=round(score, 3),
            sources=article_ids,
            evidence=evidence,
            reason="; ".join(problems),
        )

    def _attribute(self, text: str, vector: np.ndarray) -> Support:
        ranked = sorted(
            ((self._closest(vector, [a])[1][:1] or [0.0])[0], a) for a in self.index.article_ids
        )[::-1]
        supporting = [
            a for sim, a in ranked
            if sim >= self.settings.min_similarity and self._against(text, vector, [a]).supported
        ]
        if not supporting:
            return self._against(text, vector, [ranked[0][1]]) if ranked else Support(
                supported=False, score=0.0, sources=[], reason="no sources"
            )
        return self._against(text, vector, supporting)

    def _closest(self, vector: np.ndarray, article_ids: list[str]) -> tuple[list[int], list[float]]:
        assert self.index.vectors is not None
        rows = self.index.rows_of(article_ids)
        if rows.size == 0:
            return [], []
        sims = self.index.vectors[rows] @ vector
        order = np.argsort(-sims)[: self.settings.evidence_sentences]
        return [int(rows[i]) for i in order], [float(sims[i]) for i in order]

    def _evidence(self, row: int, similarity: float) -> Evidence | None:
        if row < 0:
            return None
        sentence = self.index.sentences[row]
        return Evidence(article_id=sentence.article_id, text=sentence.text, similarity=round(similarity, 3))
