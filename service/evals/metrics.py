"""Metrics of one briefing against its case: fidelity, leakage, coverage, neutrality, cost."""

from __future__ import annotations

import re

from service.dates import stated_date
from service.evals.dataset import Case
from service.fidelity.checker import FidelityChecker
from service.models import Article, Briefing, KeyPoint
from service.neutral import damage_problem, neutrality_problem
from service.text import numbers, words

# Which way is better, for marking the best variant; None: shown, never ranked.
METRICS: dict[str, str | None] = {
    "fidelity": "higher",
    "unsupported_share": "lower",
    "model_sentences_kept": "higher",
    "boilerplate_leakage": "lower",
    "coverage": "higher",
    "numbers_traceable": "higher",
    "neutrality": "higher",
    "disagreements_found": "higher",
    "stories_correct": "higher",
    "damaged_shipped": "lower",
    "headline_words": "lower",
    "long_points": "lower",
    "corroborated_points": "higher",
    "placed_timeline": "higher",
    "length_words": None,
    "compression": None,
    "llm_calls": "lower",
    "tokens": "lower",
    "seconds": "lower",
}
_LONG_POINT = 30  # words: a point a reader scans (issue 27)


def briefing_sentences(briefing: Briefing) -> list[str]:
    """Every sentence a reader sees: each story's summary and key points."""
    return [p.text for b in briefing.story_briefings() for p in _written(b)]


def _written(briefing: Briefing) -> list[KeyPoint]:
    return [*briefing.summary_sentences, *briefing.key_points]


def case_metrics(
    briefing: Briefing, case: Case, articles: list[Article], checker: FidelityChecker
) -> tuple[dict[str, float], list[str]]:
    """Return the metrics of one briefing and the expectations it failed."""
    sentences = briefing_sentences(briefing)
    stories = briefing.story_briefings()
    key_points = [p for b in stories for p in b.key_points]
    points = [p.text for p in key_points]
    timeline = [e for b in stories for e in b.timeline]
    events = [e.text for e in timeline]
    titles = [b.title for b in stories]
    text = " ".join([*titles, *sentences])
    failed: list[str] = []
    scored = checker.score({a.id: a.text for a in articles}, " ".join(sentences) or briefing.title)
    leaked = [p for p in case.expect.must_not_include if re.search(p, text, re.I)]
    failed += [f"must not include /{p}/" for p in leaked]
    missing = [p for p in case.expect.must_include if not re.search(p, text, re.I)]
    failed += [f"must include /{p}/" for p in missing]
    found = _disagreements_found(briefing, case)
    if case.expect.disagreements and found < 1.0:
        failed.append(f"found {found:.0%} of {len(case.expect.disagreements)} known disagreements")
    if case.expect.stories is not None and len(briefing.stories) != case.expect.stories:
        failed.append(f"grouped into {len(briefing.stories)} stories, expected {case.expect.stories}")
    run = briefing.run
    drafted = sum(1 for r in run.rejected if r.stage in ("summary", "key point") and r.origin == "llm")
    kept_llm = sum(1 for b in stories for s in _written(b) if s.origin == "llm")
    source_words = sum(len(words(a.text)) for a in articles)
    measured = {
        "fidelity": scored.score,
        "unsupported_share": _share(sum(1 for s in scored.sentences if not s.supported), len(scored.sentences)),
        "model_sentences_kept": _share(kept_llm, kept_llm + drafted, empty=0.0),
        "boilerplate_leakage": _share(len(leaked), len(case.expect.must_not_include), empty=0.0),
        "coverage": _share(len(case.expect.must_include) - len(missing), len(case.expect.must_include)),
        "numbers_traceable": _numbers_traceable(briefing, articles),
        "neutrality": 1.0 - _share(sum(1 for s in sentences if neutrality_problem(s)), len(sentences), empty=0.0),
        "damaged_shipped": float(sum(1 for s in [*titles, *sentences, *events] if damage_problem(s))),
        "headline_words": float(max((len(t.split()) for t in titles), default=0)),
        "long_points": _share(sum(1 for p in points if len(p.split()) > _LONG_POINT), len(points), empty=0.0),
        "length_words": float(len(words(text))),
        "compression": round(len(words(text)) / source_words, 4) if source_words else 0.0,
        "llm_calls": float(run.llm_calls),
        "tokens": float(run.prompt_tokens + run.completion_tokens),
        "seconds": run.seconds,
    }
    if len(articles) > 1:  # why: one article corroborates nothing
        written = [p for b in stories for p in _written(b)]
        measured["corroborated_points"] = _share(sum(1 for p in written if p.independent_sources >= 2),
                                                 len(written), empty=0.0)
    if timeline and any(a.published or stated_date(a.text) for a in articles):
        # why: measured where a date to place events against is known; without one, none can be placed
        measured["placed_timeline"] = _share(sum(1 for e in timeline if e.date.when), len(timeline))
    if case.expect.disagreements:  # why: measured only where sources are known to disagree
        measured["disagreements_found"] = found
    if case.expect.stories is not None:
        measured["stories_correct"] = float(len(briefing.stories) == case.expect.stories)
    return measured, failed


def _numbers_traceable(briefing: Briefing, articles: list[Article]) -> float:
    text_of = {a.id: a.text for a in articles}
    total = traced = 0
    for point in (p for b in briefing.story_briefings() for p in _written(b)):
        cited = set().union(*(numbers(text_of[s]) for s in point.sources if s in text_of))
        for number in numbers(point.text):
            total += 1
            traced += number in cited
    return _share(traced, total)


def _disagreements_found(briefing: Briefing, case: Case) -> float:
    expected = case.expect.disagreements
    if not expected:
        return 0.0
    listed = " ".join(c.text for b in briefing.story_briefings() for d in b.disagreements for c in d.claims).lower()
    hits = sum(1 for d in expected if all(v.lower() in listed for v in d.values))
    return hits / len(expected)


def _share(part: int, whole: int, *, empty: float = 1.0) -> float:
    return round(part / whole, 4) if whole else empty
