"""Fallback: the best-supported neutral source sentences, so even a weak model yields a true briefing."""

from __future__ import annotations

import re

import numpy as np

from service.fidelity.sources import SourceIndex
from service.models import KeyPoint
from service.neutral import point_form, point_problem, source_origin
from service.pipeline.salience import NoveltyPicker, new_facts_first, salience
from service.pipeline.verify import SupportChecker

_MIN_WORDS, _MAX_WORDS = 8, 45
_DEMONYM = re.compile(r"(ian|ean|ese|ish)$")


def best_sentences(
    index: SourceIndex,
    checker: SupportChecker,
    count: int,
    taken: list[np.ndarray] | None = None,
    covered: set[str] | None = None,
) -> list[KeyPoint]:
    """Pick up to `count` readable, supported source sentences, none restating another or what is
    `taken`: those stating names, numbers and dates beyond `covered` first, then the most salient
    (corroborating sources are added afterwards, for every point alike)."""
    assert index.vectors is not None
    shipped = {i: form for i, s in enumerate(index.sentences)
               if _readable(s.text) and (form := as_shipped(index, s.text))}
    picker = NoveltyPicker(index, salience(index), list(shipped), taken)
    order: list[int] = []
    while (row := picker.next()) is not None:
        if not picker.redundant(row):
            picker.take(index.vectors[row])
            order.append(row)
    points: list[KeyPoint] = []
    for row in new_facts_first(index, order, covered):
        if len(points) >= count:
            break
        sentence = index.sentences[row]
        text = shipped[row]
        support = checker.check(text, [sentence.article_id])
        if support.supported:
            points.append(KeyPoint(text=text, sources=[sentence.article_id], support=support.score,
                                   evidence=support.evidence, origin=source_origin(text, sentence.text)))
    return points


def as_shipped(index: SourceIndex, text: str) -> str | None:
    """A source sentence as a point may ship it: itself, or itself with its grading words left out
    ("a landmark decision"); None when even so it is not neutral or not readable on its own, or it is
    in a word spinner's wording."""
    form = point_form(text)
    return None if point_problem(form) or index.spun_words(text) else form


def _readable(text: str) -> bool:
    n = len(text.split())
    return _MIN_WORDS <= n <= _MAX_WORDS and not text.endswith("?") and text[0].isupper()
