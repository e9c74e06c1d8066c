"""Corroboration: which independent sources state each point, in its words or in their own.

Outlets paraphrase: one writes "has made a decision, authorizing Ukraine to use U.S.-supplied
long-range missiles, known as ATACMS, for strikes within Russian territory", another "has authorized
Ukraine to use long-range missiles supplied by Washington to strike Russian territory". A source that
supports the whole sentence is cited; one that supports only its gist (title.gist: who did what, every
number kept, so a different figure never corroborates) is counted, and listed apart, not cited for
details it does not state.
"""

from __future__ import annotations

from service.fidelity.sources import SourceIndex
from service.models import KeyPoint
from service.pipeline.title import gist
from service.pipeline.verify import SupportChecker


def count_sources(points: list[KeyPoint], index: SourceIndex, checker: SupportChecker) -> None:
    """Cite every other briefed source that supports a point, list those that state its gist, and count
    them all; the corpus briefs one copy per independent source, so each article is one source."""
    for point in points:
        others = [a for a in index.article_ids if a not in point.sources]
        point.sources += [a for a in others if checker.check(point.text, [a]).supported]
        core = gist(point.text)
        rest = [a for a in others if a not in point.sources] if core else []
        point.gist_sources = [a for a in rest if core and checker.check(core, [a]).supported]
        point.independent_sources = len(set(point.sources) | set(point.gist_sources))
