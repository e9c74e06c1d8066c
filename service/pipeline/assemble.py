"""Turn a verified draft into a Briefing: keep supported, neutral sentences; fill from sources."""

from __future__ import annotations

import numpy as np

from service import numerics
from service.fidelity.damage import mend
from service.fidelity.sources import SourceIndex
from service.models import KeyPoint, Rejected
from service.neutral import point_problem
from service.pipeline.extract import best_sentences
from service.pipeline.reduce import Draft, DraftPoint
from service.pipeline.salience import specifics_of
from service.pipeline.verify import Verifier
from service.settings import VerifySettings

_DUPLICATE = 0.85
_RESTATES = 0.7  # this close, a sentence naming nothing new (no name, number or date) restates one before it
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
    out.rejected += draft.rejected
    vectors: list[np.ndarray] = []
    covered: set[str] = set()
    out.summary = _verified(draft.summary, verifier, vectors, covered, out.rejected, "summary", _SUMMARY_SENTENCES)
    # why: the fact the kept summary restates ships as the summary; drafted again it would only repeat it
    points = [p for n, p in enumerate(draft.points) if not (out.summary and n == draft.restated)]
    # why: with no summary kept, the lead point is to be the summary: its words are not the points' budget
    lead = not out.summary
    out.points = _verified(points, verifier, vectors, covered, out.rejected, "key point",
                           settings.max_key_points + lead, settings.points_words, free_lead=lead)
    if not out.summary and len(out.points) > settings.min_key_points:
        out.summary = [out.points.pop(0)]  # why: the lead point is written and verified; better than a quote
    if not out.summary:
        out.summary = best_sentences(index, verifier, _SUMMARY_SENTENCES, vectors)
        vectors += [verifier.vector(p.text) for p in out.summary]
        out.fallback_used = True
    words = sum(len(p.text.split()) for p in out.points)
    if len(out.points) < settings.min_key_points or (
            len(out.points) < settings.max_key_points and words < settings.points_words):
        # why: what the model's points leave of the coverage budget is spent on verified source sentences
        covered |= {x for p in out.summary for x in specifics_of(p.text)}
        for point in best_sentences(index, verifier, settings.max_key_points - len(out.points), vectors, covered):
            size = len(point.text.split())
            if len(out.points) >= settings.min_key_points and words + size > settings.points_words:
                continue
            words += size
            out.points.append(point)
            out.fallback_used = True
    return out


def _verified(
    drafts: list[DraftPoint],
    verifier: Verifier,
    vectors: list[np.ndarray],
    covered: set[str],
    rejected: list[Rejected],
    stage: str,
    limit: int,
    words: int | None = None,
    *,
    free_lead: bool = False,
) -> list[KeyPoint]:
    """The drafts that are neutral, supported and new (not restating a kept sentence), up to `limit`
    and `words` (beside the first kept, when `free_lead`); `vectors` and `covered` (names, numbers,
    dates) grow with what is kept."""
    kept: list[KeyPoint] = []
    spent = 0
    for draft in drafts:
        if len(kept) >= limit:
            break
        if words is not None and len(kept) > free_lead and spent + len(draft.text.split()) > words:
            continue  # why: over the coverage budget; a shorter point further down may still fit
        if draft.origin == "llm":  # why: a small model copies a spinner's wording; source sentences come mended
            draft = draft.model_copy(update={"text": mend(draft.text).text})
        reason = point_problem(draft.text)
        if reason:
            rejected.append(Rejected(text=draft.text, reason=reason, stage=stage, origin=draft.origin))
            continue
        support = verifier.check(draft.text, draft.cited)
        if not support.supported and draft.cited:
            # why: a tiny model often cites the wrong number; re-attribute, then check again.
            support = verifier.check(draft.text, [])
        if not support.supported:
            rejected.append(Rejected(text=draft.text, reason=support.reason or "unsupported", stage=stage,
                                     unsupported=not support.addressed, origin=draft.origin))
            continue
        vector = verifier.vector(draft.text)
        closest = float(numerics.similarity(np.stack(vectors), vector).max()) if vectors else 0.0
        if closest >= _DUPLICATE or (closest >= _RESTATES and not specifics_of(draft.text) - covered):
            rejected.append(Rejected(text=draft.text, reason="repeats an earlier sentence", stage=stage,
                                     origin=draft.origin))
            continue
        vectors.append(vector)
        covered |= specifics_of(draft.text)
        if kept or not free_lead:
            spent += len(draft.text.split())
        kept.append(
            KeyPoint(text=draft.text, sources=support.sources, support=support.score, evidence=support.evidence,
                     origin=draft.origin)
        )
    return kept
