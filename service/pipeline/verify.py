"""Check briefing sentences against the sources they cite; unsupported ones never ship.

`SupportChecker` is the seam: the pipeline only needs `check(text, cited)`. `Verifier`
asks the fidelity checker (its trained judge and hard rules: verbatim quotes, no flipped
copy of a source sentence) and adds rules of its own: no instruction or request to an AI or
the reader ships (the address model), every number, date and proper name must occur in the
cited sentences closest to the claim, and no word a spinner substituted may be copied.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from service.addressed import get_address_model
from service.fidelity.checker import FidelityChecker, Statement, close_passage
from service.fidelity.rules import missing_specifics
from service.fidelity.sources import SourceIndex
from service.models import Evidence
from service.settings import VerifySettings


class Support(BaseModel):
    """How well a sentence is supported, by which articles, and why not if not."""

    supported: bool
    score: float
    sources: list[str]
    evidence: Evidence | None = None
    reason: str = ""
    addressed: bool = Field(False, description="Refused as an instruction or request, not for lack of support.")


class SupportChecker(Protocol):
    """Anything that can say whether source articles support a sentence."""

    def check(self, text: str, cited: list[str]) -> Support:
        """Check text against the cited article ids (all articles when none are cited)."""
        ...


class Verifier:
    """The default SupportChecker: the calibrated fidelity checker plus hard lexical rules."""

    def __init__(self, index: SourceIndex, checker: FidelityChecker, settings: VerifySettings) -> None:
        index.embed(checker.embedder)
        self.index = index
        self.checker = checker
        self.settings = settings
        self.address_model = get_address_model()
        assert index.vectors is not None
        # why: a source sentence proposed as a point (the extractive fallback) is already embedded.
        self._vectors: dict[str, np.ndarray] = dict(
            zip((s.text for s in index.sentences), index.vectors, strict=True)
        )

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
        if self.address_model.refused(text, vector):
            # why: the last line against injection: whoever proposed it, and however well a
            # source supports it, an instruction or a request to the reader is not news
            return Support(supported=False, score=0.0, sources=known, addressed=True,
                           reason="addressed to an AI or the reader, not news")
        if known:
            return self._against(text, vector, known)
        return self._attribute(text, vector)

    def _against(self, text: str, vector: np.ndarray, article_ids: list[str]) -> Support:
        return self._assess(text, vector, article_ids)[0]

    def _assess(self, text: str, vector: np.ndarray, article_ids: list[str]) -> tuple[Support, float]:
        claim = Statement(text, vector, self.index, self.index.rows_of(article_ids))
        assessed = self.checker.assess([claim])[0]
        scored = assessed.score
        problems = [p.detail for p in scored.problems]
        # why: specifics must occur where the meaning matches, not anywhere in the article.
        problems += missing_specifics(text, " ".join(close_passage(self.index, assessed.retrieved)), None)
        problems += [f"garbled wording from a word-spun source ('{w}')" for w in self.index.spun_words(text)]
        if not scored.supported and not scored.problems:
            problems.append(f"support {scored.score:.2f} below {self.checker.threshold:.2f}")
        support = Support(
            supported=not problems,
            score=scored.score,
            sources=article_ids,
            evidence=scored.evidence,
            reason="; ".join(problems),
        )
        return support, assessed.retrieved.best_similarity

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
