"""The fidelity checker: how well each summary sentence is supported by its sources.

    checker = FidelityChecker()
    result = checker.score(["source text", ...], "summary text")
    result.score, result.supported, result.sentences[0].evidence

Scores are calibrated probabilities of support (see `briefing fidelity calibrate`). The
briefing pipeline's verify step, the evals and the tests all use this one checker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
from pydantic import BaseModel, Field

from service.embeddings import Embedder, get_embedder
from service.fidelity.model import SupportModel
from service.fidelity.signals import FEATURES, ClaimSignals, claim_signals
from service.fidelity.sources import SourceIndex
from service.models import Evidence
from service.settings import FidelitySettings
from service.text import sentences

Sources = Sequence[str] | Mapping[str, str]
_MISQUOTED = 0.05


class SentenceScore(BaseModel):
    """One summary sentence: its support score, verdict, best evidence and raw signals."""

    text: str
    score: float
    supported: bool
    evidence: Evidence | None = None
    signals: dict[str, float] = Field(default_factory=dict)


class FidelityResult(BaseModel):
    """A whole summary: overall score and verdict, and every sentence."""

    id: str | int | None = None
    score: float
    supported: bool
    sentences: list[SentenceScore]


class FidelityChecker:
    """Scores claims against sources with calibrated semantic and lexical signals."""

    def __init__(
        self,
        settings: FidelitySettings | None = None,
        *,
        embedder: Embedder | None = None,
        model: SupportModel | None = None,
    ) -> None:
        self.settings = settings or FidelitySettings()
        self.model = model or SupportModel.load()
        self.threshold = self.settings.threshold if self.settings.threshold is not None else self.model.threshold
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """Return the sentence embedder, loading it on first use."""
        if self._embedder is None:
            self._embedder = get_embedder()
        return self._embedder

    def score(self, sources: Sources, summary: str) -> FidelityResult:
        """Score one summary against its source texts."""
        return next(self.score_many([(None, sources, summary)]))

    def score_many(self, items: Iterable[tuple[str | int | None, Sources, str]]) -> Iterator[FidelityResult]:
        """Score (id, sources, summary) items, embedding a block of items in one batch."""
        for item in embedded_items(items, self.embedder, self.settings.block_size):
            rows = np.arange(len(item.index.sentences))
            scored = [
                self.score_claim(claim, item.claim_vectors[i], item.index, rows) for i, claim in enumerate(item.claims)
            ]
            yield self._summarise(item.id, scored)

    def score_claim(self, claim: str, vector: np.ndarray, index: SourceIndex, rows: np.ndarray) -> SentenceScore:
        """Score one claim against chosen sentences of an already embedded index."""
        return self.judge(claim, claim_signals(claim, vector, index, rows), index)

    def judge(self, claim: str, signals: ClaimSignals, index: SourceIndex) -> SentenceScore:
        """Score a claim from signals already computed."""
        probability = float(self.model.probability(_row(signals))[0])
        if signals.misquoted:
            probability = min(probability, _MISQUOTED)  # why: a quote must be verbatim, whatever else holds
        return SentenceScore(
            text=claim,
            score=round(probability, 4),
            supported=probability >= self.threshold,
            evidence=_evidence(index, signals),
            signals={k: round(v, 4) for k, v in signals.values.items()},
        )

    def _summarise(self, item_id: str | int | None, scored: list[SentenceScore]) -> FidelityResult:
        # why: the model was fitted on each summary's worst value of every signal, so the
        # overall score is that of the worst case, and is never above the weakest sentence's.
        worst = worst_signals([s.signals for s in scored])
        overall = float(self.model.probability(np.array([[worst[f] for f in FEATURES]]))[0])
        overall = min([overall, *[s.score for s in scored]])
        return FidelityResult(
            id=item_id, score=round(overall, 4), supported=overall >= self.threshold, sentences=scored
        )


class EmbeddedItem(BaseModel):
    """One item to score, its sources indexed and embedded, its claims embedded."""

    model_config = {"arbitrary_types_allowed": True}

    id: str | int | None
    index: SourceIndex
    claims: list[str]
    claim_vectors: np.ndarray


def embedded_items(
    items: Iterable[tuple[str | int | None, Sources, str]], embedder: Embedder, block_size: int
) -> Iterator[EmbeddedItem]:
    """Index and embed items a block at a time: one encode call per block is much faster."""
    block: list[tuple[str | int | None, SourceIndex, list[str]]] = []

    def flush() -> Iterator[EmbeddedItem]:
        texts = [s.text for _, index, _ in block for s in index.sentences]
        claims = [c for _, _, item_claims in block for c in item_claims]
        vectors = embedder.encode(texts + claims)
        start, claim_start = 0, len(texts)
        for item_id, index, item_claims in block:
            index.vectors = vectors[start : start + len(index.sentences)]
            start += len(index.sentences)
            claim_vectors = vectors[claim_start : claim_start + len(item_claims)]
            claim_start += len(item_claims)
            yield EmbeddedItem(id=item_id, index=index, claims=item_claims, claim_vectors=claim_vectors)

    for item_id, sources, summary in items:
        texts = dict(sources) if isinstance(sources, Mapping) else {f"s{i}": t for i, t in enumerate(sources)}
        block.append((item_id, SourceIndex.from_texts(texts), sentences(summary) or [summary]))
        if len(block) >= block_size:
            yield from flush()
            block = []
    if block:
        yield from flush()


def worst_signals(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each signal's least supportive value over a summary's sentences."""
    return {name: (min if name.startswith("sim") else max)(r[name] for r in rows) for name in FEATURES}


def _row(signals: ClaimSignals) -> np.ndarray:
    return np.array([[signals.values[f] for f in FEATURES]])


def _evidence(index: SourceIndex, signals: ClaimSignals) -> Evidence | None:
    if not signals.evidence_rows:
        return None
    sentence = index.sentences[signals.evidence_rows[0]]
    return Evidence(article_id=sentence.article_id, text=sentence.text, similarity=round(signals.best_similarity, 3))
