"""Check briefing sentences against the sources they cite; unsupported ones never ship.

`SupportChecker` is the seam: the pipeline only needs `check(text, cited)`. `Verifier`
judges meaning with the fidelity checker's trained judge and adds hard rules: every number,
date and proper name must occur in the cited sentences closest to the claim, and no word
a spinner substituted may be copied.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import BaseModel

from service.fidelity.checker import Claim, FidelityChecker
from service.fidelity.sources import SourceIndex
from service.models import Evidence
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


def lexical_problems(text: str, passage: str, min_overlap: float | None) -> list[str]:
    """List what in text is absent from a source passage: numbers, dates, names (and content words
    when min_overlap is given)."""
    haystack = passage.lower().replace("’", "'")
    problems = [f"number {n} not in the cited passage" for n in sorted(numbers(text) - numbers(passage))]
    problems += [f"date '{d}' not in the cited passage" for d in sorted(dates(text) - dates(passage))]
    problems += [
        f"name '{name}' not in the cited passage"
        for name in sorted(proper_names(text))
        if not name_occurs(name, haystack)
    ]
    words = content_words(text)
    if words and min_overlap is not None:
        overlap = len(words & content_words(passage)) / len(words)
        if overlap < min_overlap:
            problems.append(f"only {overlap:.0%} of its words occur in the cited passage")
    return problems


class Verifier:
    """The default SupportChecker: the calibrated fidelity checker plus hard lexical rules."""

    def __init__(self, index: SourceIndex, checker: FidelityChecker, settings: VerifySettings) -> None:
        index.embed(checker.embedder)
        self.index = index
        self.checker = checker
        self.settings = settings
        self._vectors: dict[str, np.ndarray] = {}

    def vector(self, text: str) -> np.ndarray:
        """Return the embedding of text, computed once however often it is checked."""
        if text not in self._vectors:
            self._vectors[text] = self.checker.embedder.encode([text])[0]
        return self._vectors[text]

    def check(self, text: str, cited: list[str]) -> Support:
        """Check text against its cited articles; uncited text is attributed to its best sources."""
        known = [a for a in cited if a in self.index.texts]
        if cited and len(known) < len(cited):
            return Support(supported=False, score=0.0, sources=known, reason="cites an unknown source")
        vector = self.vector(text)
        if known:
            return self._against(text, vector, known)
        return self._attribute(text, vector)

    def _against(self, text: str, vector: np.ndarray, article_ids: list[str]) -> Support:
        return self._assess(text, vector, article_ids)[0]

    def _assess(self, text: str, vector: np.ndarray, article_ids: list[str]) -> tuple[Support, float]:
        claim = Claim(text, vector, self.index, self.index.rows_of(article_ids))
        assessed = self.checker.assess([claim])[0]
        retrieved, scored = assessed.retrieved, assessed.score
        best = retrieved.best_similarity
        # why: specifics must occur where the meaning matches, not anywhere in the article.
        nearest = zip(retrieved.rows, retrieved.similarities, strict=True)
        close = [r for r, sim in nearest if sim >= best - _CLOSE_MARGIN]
        passage = " ".join(self.index.sentences[r].text for r in close)
        problems = lexical_problems(text, passage, None)
        problems += [f"garbled wording from a word-spun source ('{w}')" for w in self.index.spun_words(text)]
        if not scored.supported:
            problems.append(f"support {scored.score:.2f} below {self.checker.threshold:.2f}")
        support = Support(
            supported=not problems,
            score=scored.score,
            sources=article_ids,
            evidence=scored.evidence,
            reason="; ".join(problems),
        )
        return support, best

    def _attribute(self, text: str, vector: np.ndarray) -> Support:
        ranked = sorted(
            ((self._assess(text, vector, [a]), a) for a in self.index.article_ids),
            key=lambda item: (item[0][1], item[1]),
            reverse=True,
        )
        if not ranked:
            return Support(supported=False, score=0.0, sources=[], reason="no sources")
        supporting = [a for (support, _), a in ranked if support.supported]
        if not supporting:
            return ranked[0][0][0]
        return self._against(text, vector, supporting)
