"""The fidelity checker: how well each summary sentence is supported by its sources.

    checker = FidelityChecker()
    result = checker.score(["source text", ...], "summary text")
    result.score, result.supported, result.sentences[0].evidence

Each claim is judged by the trained cross-encoder against evidence windows of its sources
(`windows.py`); the best window wins, and the weakest sentence decides a summary. Scores are
calibrated probabilities of support (see `python -m training judge calibrate`). The briefing
pipeline's verify step, the evals and the tests all use this one checker.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from service.embeddings import Embedder, get_embedder
from service.fidelity.judge import Judge, get_judge
from service.fidelity.rules import RULE_BROKEN, Problem, problems
from service.fidelity.sources import SourceIndex
from service.fidelity.windows import Retrieved, Window, retrieve, windows
from service.models import Evidence
from service.settings import FidelitySettings
from service.text import sentences

Sources = Sequence[str] | Mapping[str, str]
Item = tuple[str | int | None, Sources, str]
# Retrieved sentences this close to the best one count as the passage the rules read.
_CLOSE_MARGIN = 0.15


class SentenceScore(BaseModel):
    """One summary sentence: its support score, verdict, the evidence window that decided it, and
    the hard rules it breaks (`rules.py`)."""

    text: str
    score: float
    supported: bool
    evidence: Evidence | None = None
    problems: list[Problem] = []


class FidelityResult(BaseModel):
    """A whole summary: overall score and verdict, and every sentence."""

    id: str | int | None = None
    score: float
    supported: bool
    sentences: list[SentenceScore]


@dataclass(frozen=True)
class Statement:
    """One sentence to judge against chosen rows of an embedded source index."""

    text: str
    vector: np.ndarray
    index: SourceIndex
    rows: np.ndarray
    before: str = ""  # the summary's sentences before this one (what its pronouns may point to)


@dataclass(frozen=True)
class Assessment:
    """A judged claim: its score, the judge's own probability (before the hard rules), the window
    that decided it, and its closest source rows."""

    score: SentenceScore
    judged: float
    retrieved: Retrieved
    window: Window | None


class FidelityChecker:
    """Scores claims against sources with the trained judge over evidence windows."""

    def __init__(
        self, settings: FidelitySettings | None = None, *, embedder: Embedder | None = None, judge: Judge | None = None
    ) -> None:
        self.settings = settings or FidelitySettings()
        self.judge = judge or get_judge()
        calibrated = self.judge.calibration.threshold
        self.threshold = self.settings.threshold if self.settings.threshold is not None else calibrated
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

    def score_many(self, items: Iterable[Item]) -> Iterator[FidelityResult]:
        """Score (id, sources, summary) items; a block of items is embedded and judged in one batch."""
        for block in _blocks(items, self.settings.block_size):
            embedded = embed_block(block, self.embedder)
            claims = [c for _, item_claims in embedded for c in item_claims]
            assessed = iter(self.assess(claims))
            for item_id, item_claims in embedded:
                scored = [next(assessed).score for _ in item_claims]
                yield summarise(item_id, scored, self.threshold)

    def assess(self, claims: list[Statement]) -> list[Assessment]:
        """Judge every claim against its evidence windows, all windows in one batch; best window wins."""
        found = []
        for claim in claims:
            retrieved = retrieve(claim.vector, claim.index, claim.rows, self.settings.evidence_sentences)
            found.append((retrieved, windows(claim.index, retrieved, claim.rows)))
        pairs = [(w.text, c.text) for c, (_, ws) in zip(claims, found, strict=True) for w in ws]
        probabilities = iter(self.judge.probability(pairs).tolist())
        out = []
        for claim, (retrieved, ws) in zip(claims, found, strict=True):
            scores = [next(probabilities) for _ in ws]
            best = int(np.argmax(scores)) if scores else -1
            out.append(self._verdict(claim, retrieved, ws[best] if scores else None, max(scores, default=0.0)))
        return out

    def _verdict(self, claim: Statement, retrieved: Retrieved, window: Window | None, judged: float) -> Assessment:
        broken = problems(
            claim.text, close_passage(claim.index, retrieved), _quotable(claim.index, claim.rows), claim.before
        )
        probability = min(judged, RULE_BROKEN) if broken else judged
        evidence = None
        if window is not None:
            article = claim.index.sentences[window.centre].article_id
            evidence = Evidence(article_id=article, text=window.text, similarity=round(window.similarity, 3))
        score = SentenceScore(
            text=claim.text, score=round(probability, 4), supported=probability >= self.threshold,
            evidence=evidence, problems=broken,
        )
        return Assessment(score, judged, retrieved, window)


def summarise(item_id: str | int | None, scored: list[SentenceScore], threshold: float) -> FidelityResult:
    """A summary is as supported as its weakest sentence."""
    overall = min((s.score for s in scored), default=0.0)
    return FidelityResult(id=item_id, score=overall, supported=overall >= threshold, sentences=scored)


def embed_block(block: list[Item], embedder: Embedder) -> list[tuple[str | int | None, list[Statement]]]:
    """Index every item's sources and embed them with its claims, in one encode call."""
    indexed = []
    for item_id, sources, summary in block:
        texts = dict(sources) if isinstance(sources, Mapping) else {f"s{i}": t for i, t in enumerate(sources)}
        indexed.append((item_id, SourceIndex.from_texts(texts), sentences(summary) or [summary]))
    source_texts = [s.text for _, index, _ in indexed for s in index.sentences]
    claim_texts = [c for _, _, claims in indexed for c in claims]
    vectors = embedder.encode(source_texts + claim_texts)
    start, claim_start = 0, len(source_texts)
    out = []
    for item_id, index, claims in indexed:
        index.vectors = vectors[start : start + len(index.sentences)]
        start += len(index.sentences)
        rows = np.arange(len(index.sentences))
        item_claims = [
            Statement(text, vectors[claim_start + i], index, rows, " ".join(claims[:i]))
            for i, text in enumerate(claims)
        ]
        claim_start += len(claims)
        out.append((item_id, item_claims))
    return out


def close_passage(index: SourceIndex, retrieved: Retrieved) -> list[str]:
    """The retrieved sentences nearly as close to the claim as the best one: where its specifics
    must occur (not anywhere in the article)."""
    best = retrieved.best_similarity
    return [
        index.sentences[row].text
        for row, similarity in zip(retrieved.rows, retrieved.similarities, strict=True)
        if similarity >= best - _CLOSE_MARGIN
    ]


def _quotable(index: SourceIndex, rows: np.ndarray) -> str:
    articles = dict.fromkeys(index.sentences[r].article_id for r in rows)
    return " ".join(index.texts[a] for a in articles)


def _blocks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    block: list[Item] = []
    for item in items:
        block.append(item)
        if len(block) >= size:
            yield block
            block = []
    if block:
        yield block
