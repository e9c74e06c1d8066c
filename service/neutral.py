"""Is a sentence neutral news? One check for every sentence a briefing ships, whoever wrote it (the
model, or a source sentence quoted as a fallback), and for the evals' neutrality metric.

A briefing reports what happened and who said what. It does not grade events ("a landmark
decision"), read intentions or meaning into them ("this move signals ..."), or speculate in its own
voice ("could enable"); a sentence that attributes such a judgement to someone ("Zelensky called it
historic", "officials said it could ...") reports it and passes.
"""

from __future__ import annotations

import re

from service.clean import judge_paragraph
from service.text import has_attribution, refers_to_document, standalone_problem

_LOADED = re.compile(
    r"\b(landmark|historic|staggering|shocking|slammed|blasted|brutal|disastrous|heroic|outrageous|"
    r"devastating|stunning|massive|huge|dramatic(ally)?|radical|extremist|regime|terrorists?|"
    r"unprecedented|game[- ]changer|bold|courageous|reckless|alarming)\b",
    re.IGNORECASE,
)
# why: case-sensitive, so the month "May" is no hedge; a sentence may open with a capitalised one
_HEDGES = re.compile(
    r"\b(may|might|could|likely|potentially|possibly|perhaps|probably|appears? to|seems? to|"
    r"Might|Could|Likely|Potentially|Possibly|Perhaps|Probably)\b"
)
# A sentence that says what an event means rather than what happened: "This move signals ...",
# "marks a significant shift", "is an important step towards", "underscores the commitment".
_INTERPRETS = re.compile(
    r"\b(this|the|that|these|such an?|\w+['’]s)\s+(move|decision|step|shift|development|announcement|action|policy|"
    r"change|authori[sz]ation|approval|deal|deployment|delivery)s?\b[^.]*?\b(signals?|signif(?:y|ies)|"
    r"represents?|marks?|underscores?|highlights?|demonstrates?|reflects?|shows?|sends?|reinforces?|"
    r"underlines?|is (?:a|an)\s+(?:important|significant|major|crucial|key|clear|strong|critical))\b"
    r"|\b(significant|major|important|crucial|critical|pivotal|decisive)\s+(shift|step|turning point|"
    r"milestone|moment|departure|escalation)\b"
    r"|\b(committed to|testament to|sends? a (?:clear|strong) message|at a critical juncture)\b",
    re.IGNORECASE,
)


def neutrality_problem(text: str) -> str | None:
    """Why a sentence is not neutral news, or None when it is."""
    if refers_to_document(text):
        return "talks about the document, not the news"
    verdict = judge_paragraph(text)
    if verdict.reason:
        return f"not neutral: {verdict.reason}"
    if has_attribution(text):
        return None
    if loaded := _LOADED.search(text):
        return f"not neutral: loaded word '{loaded.group(0)}'"
    if interpretation := _INTERPRETS.search(text):
        return f"not neutral: interprets rather than reports ('{interpretation.group(0)}')"
    if hedge := _HEDGES.search(text):
        return f"not neutral: speculates in the briefing's own voice ('{hedge.group(0)}')"
    return None


def point_problem(text: str) -> str | None:
    """Why a sentence cannot ship as a point (or a listed event), whoever wrote it: not neutral, or
    not readable on its own; None when it can."""
    return neutrality_problem(text) or standalone_problem(text)
