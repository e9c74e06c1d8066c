"""Summary: what happened, then why it matters by the sources' own account.

The verified lead says what happened. When it stands alone, the key point that says why it matters
joins it: one that states a consequence, a reason, a reaction or a first, in the sources' words or
checked against them like every other point; the one more outlets state comes first. No such point,
no second sentence: a summary is never padded.
"""

from __future__ import annotations

import re

from service.models import KeyPoint

_SUMMARY_WORDS = 30  # why: a second sentence a reader takes in with the lead, as a point (issue 27)
# Said of an event when it matters: what it is a first of, what it changes or risks, what answers it, why.
_MATTERS = re.compile(
    r"\b(?:(?:for\s+)?the\s+first\s+time|first\s+(?:such|ever)|shifts?|shifted|signal(?:s|led|ing)?|"
    r"marks?\s+(?:a|the)|means?|meant|escalat\w*|threat\w*|risks?|warn\w*|respon(?:d|ds|se|ses)|retaliat\w*|"
    r"consequences?|implications?|impact|because|in\s+order\s+to|so\s+that|aims?\s+to|allows?|allowing|"
    r"enables?|enabling|lead\s+to|result\s+in|expected\s+to)\b",
    re.IGNORECASE,
)


def summarise(summary: list[KeyPoint], points: list[KeyPoint]) -> tuple[list[KeyPoint], list[KeyPoint]]:
    """The summary and the key points left once a lone lead is joined by why it matters (moved, not
    repeated)."""
    if len(summary) != 1:
        return summary, points
    matters = [p for p in points if _MATTERS.search(p.text) and len(p.text.split()) <= _SUMMARY_WORDS]
    if not matters:
        return summary, points
    why = max(matters, key=lambda p: (p.independent_sources, -points.index(p)))
    return [*summary, why], [p for p in points if p is not why]
