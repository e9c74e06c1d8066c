"""Turn a verified draft into a Briefing: keep supported, neutral sentences; fill from sources."""

from __future__ import annotations

import numpy as np

from service.clean import judge_paragraph
from service.fidelity.sources import SourceIndex
from service.models import KeyPoint, Rejected
from service.pipeline.extract import best_sentences
from service.pipeline.reduce import Draft, DraftPoint
from service.pipeline.verify import Verifier
from service.settings import VerifySettings
from service.text import refers_to_document

_DUPLICATE = 0.85
_SUMMARY_SENTENCES = 2


class Assembled:
    """Verified summary sentences and key points, plus what was rejected."""

    def __init__(self) -> None:
        self.summary: list[KeyPoint] = []
        self.points: list[KeyPoint] = []
        self.rejected: list[Rejected] = []
        self.fallback_used = False


def assemble(draft: Draft, index: SourceIndex, verifier: Verifier, settings: VerifySettings) -> Assembled:
    """Verify every drafted sentence, then fill with source sentences when too little survives."""
    out = Assembled()
    vectors: list[np.ndarray] = []
    out.summary = _verified(draft.summary, verifier, vectors, out.rejected, "summary", _SUMMARY_SENTENCES)
    out.points = _verified(draft.points, verifier, vectors, out.rejected, "key point", settings.max_key_points)
    if not out.summary:
        out.summary = best_sentences(index, verifier, _SUMMARY_SENTENCES, vectors)
        vectors += [verifier.vector(p.text) for p in out.summary]
        out.fallback_used = True
    if len(out.points) < settings.min_key_points:
        missing = settings.min_key_points - len(out.points)
        out.points += best_sentences(index, verifier, missing, vectors)
        out.fallback_used = True
    return out


def _verified(
    drafts: list[DraftPoint],
    verifier: Verifier,
    vectors: list[np.ndarray],
    rejected: list[Rejected],
    stage: str,
    limit: int,
) -> list[KeyPoint]:
    kept: list[KeyPoint] = []
    for draft in drafts:
        if len(kept) >= limit:
            break
        reason = _neutrality_problem(draft.text)
        if reason:
            rejected.append(Rejected(text=draft.text, reason=reason, stage=stage))
            continue
        support = verifier.check(draft.text, draft.cited)
        if not support.supported and draft.cited:
            # why: a tiny model often cites the wrong number; re-attribute, then check again.
            support = verifier.check(draft.text, [])
        if not support.supported:
            rejected.append(Rejected(
                text=draft.text, reason=support.reason or "unsupported", stage=stage, unsupported=not support.addressed
            ))
            continue
        vector = verifier.vector(draft.text)
        if vectors and max(float(vector @ v) for v in vectors) >= _DUPLICATE:
            rejected.append(Rejected(text=draft.text, reason="repeats an earlier sentence", stage=stage))
            continue
        vectors.append(vector)
        kept.append(
            KeyPoint(text=draft.text, sources=support.sources, support=support.score, evidence=support.evidence)
        )
    return kept


def _neutrality_problem(text: str) -> str | None:
    if refers_to_document(text):
        return "talks about the document, not the news"
    verdict = judge_paragraph(text)
    return f"not neutral: {verdict.reason}" if verdict.reason else None
