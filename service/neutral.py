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
from service.fidelity.damage import mend
from service.models import KeyPointOrigin
from service.text import has_attribution, refers_to_document, standalone_problem

# Loaded words that grade a noun or verb they stand before ("a landmark decision", "dramatically raised")
_GRADING_WORDS = (
    "landmark|historic|staggering|shocking|brutal|disastrous|heroic|outrageous|devastating|stunning|massive|"
    "huge|dramatic(?:ally)?|radical|unprecedented|bold|courageous|reckless|alarming"
)
_LOADED = re.compile(
    rf"\b({_GRADING_WORDS}|slammed|blasted|extremist|regime|terrorists?|game[- ]changer)\b", re.IGNORECASE
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

# "officials believe it could ...": a view reported as someone's, in the present tense news writes it in
# (has_attribution is a feature of the trained address model, so it stays as that model learnt it)
_REPORTED_VIEW = re.compile(r"\b(believe|argue|warn|expect|estimate)s?\b", re.IGNORECASE)

_CLAUSE_END = re.compile(r"[:;](?=\s)")
_QUOTED = re.compile(r"[\"“][^\"”]*[\"”]")
# "he told the Financial Times:", "Peskov warned:"; not "Sybiha added that <a whole clause>:"
_INTRODUCES_SPEECH = re.compile(
    r"\b(said|says|told|tells|added|warn(?:ed|s)?|wrote|stated|announced|declared|asked|explained|insisted)\b"
    r"(?:\W+[\w’'-]+){0,4}\W*$",
    re.IGNORECASE,
)

# A grading word before what it grades: left out, the fact remains. Not before a function word: "a
# landmark in the city" names one.
_GRADING = re.compile(
    rf"\b(?:(an?)\s+)?({_GRADING_WORDS})\s+"
    r"(?!(?:in|of|on|at|for|to|from|by|with|and|or|but|that|which|the|an?|is|was|are|were)\b)([A-Za-z])",
    re.IGNORECASE,
)


def neutrality_problem(text: str) -> str | None:
    """Why a sentence is not neutral news, or None when it is."""
    if refers_to_document(text):
        return "talks about the document, not the news"
    verdict = judge_paragraph(text)
    if verdict.reason:
        return f"not neutral: {verdict.reason}"
    for clause in _own_voice(text):
        if loaded := _LOADED.search(clause):
            return f"not neutral: loaded word '{loaded.group(0)}'"
        if interpretation := _INTERPRETS.search(clause):
            return f"not neutral: interprets rather than reports ('{interpretation.group(0)}')"
        if hedge := _HEDGES.search(clause):
            return f"not neutral: speculates in the briefing's own voice ('{hedge.group(0)}')"
    return None


def _own_voice(text: str) -> list[str]:
    """The clauses of a sentence said in the writer's own voice. An attribution covers its clause,
    not the whole sentence: in "Sybiha added that ...: the words seem to refer to Scholz" the second
    clause is the writer's reading. Clauses end at a colon or semicolon outside quotation marks; one
    that attributes, holds a quotation, or follows a colon right after "he said" reports someone."""
    masked = _QUOTED.sub(lambda m: "q" * len(m.group(0)), text)  # why: a colon inside a quotation ends no clause
    own: list[str] = []
    start, reported = 0, False
    for end in [m.start() for m in _CLAUSE_END.finditer(masked)] + [len(text)]:
        clause = text[start:end]
        if not reported and not has_attribution(clause) and not _REPORTED_VIEW.search(clause):
            own.append(clause)
        reported = masked[end:end + 1] == ":" and bool(_INTRODUCES_SPEECH.search(clause))
        start = end + 1
    return own


def point_problem(text: str) -> str | None:
    """Why a sentence cannot ship as a point (or a listed event), whoever wrote it: not neutral, not
    readable on its own, or in damaged wording (a spinner's or a translation's); None when it can."""
    return neutrality_problem(text) or standalone_problem(text) or damage_problem(text)


def damage_problem(text: str) -> str | None:
    """The damaged wording left in a sentence (mended or not), if any: damaged text is no quote."""
    mended = mend(text)
    said = mended.repairs + mended.damage
    return f"damaged wording: {'; '.join(said)}" if said else None


def neutral_form(sentence: str) -> str:
    """The sentence as a briefing may carry it: itself when it can ship as it stands (a judgement
    someone is reported to make stays theirs, word for word); otherwise without the loaded words that
    grade what they stand before ("made a landmark decision" -> "made a decision"), the fact without
    the writer's verdict on it. A rewrite prompt reads this form (a 135M model copies such a word, and
    the rewrite would be refused for it); a source sentence so edited ships marked 'edited', never
    as a quote. A spinner's substitutes and a translation's debris are undone first where their
    context allows (service/fidelity/damage.py). Whether the form can ship is still point_problem's
    to say."""
    mended = mend(sentence).text
    return mended if point_problem(mended) is None else without_grading(mended)


_POINT_WORDS = 30  # a point a reader scans (issue 27); a longer source sentence is cut where its rules allow
_MIN_CUT_WORDS = 8
# where a sentence's trailing clause begins: one that adds to its fact, not one the fact depends on (never
# a colon: what follows one is often the fact itself, "came hours after Moscow's offensive: Russian forces ...")
_TRAILING_CLAUSE = re.compile(
    r",\s+(?=(?:which|where|while|whereas|with|bringing|making|marking|adding)\b)"
    r"|\s[–—-]\s|;\s")
# a tail a point may not drop: who said it, or the condition it holds under
_KEPT_TAIL = re.compile(r"\b(?:if|unless|only|provided|except|until)\b", re.IGNORECASE)


def point_form(sentence: str) -> str:
    """A source sentence as a key point ships it: its neutral form (neutral_form), and when that runs
    over _POINT_WORDS, cut before a trailing clause ("..., which ...", "... – ...") where what is cut
    holds no attribution, no quote and no condition, and the cut does not fall inside a quote. The
    verifier then checks the cut like any point; the sentence itself when no cut is allowed."""
    form = neutral_form(sentence)
    if len(form.split()) <= _POINT_WORDS:
        return form
    for boundary in reversed(list(_TRAILING_CLAUSE.finditer(form))):
        head, tail = form[: boundary.start()].rstrip(" ,;:"), form[boundary.end():]
        if len(head.split()) > _POINT_WORDS:
            continue
        if (len(head.split()) < _MIN_CUT_WORDS or _open_quote(head) or has_attribution(tail)
                or _KEPT_TAIL.search(tail)):
            break  # why: a shorter cut drops more of the same tail
        return head + "."
    return form


def _open_quote(text: str) -> bool:
    return text.count("“") > text.count("”") or text.count('"') % 2 == 1


def source_origin(shipped: str, original: str) -> KeyPointOrigin:
    """How a source sentence ships: quoted as written ('extract'), with its damaged wording undone
    ('repaired'), or in its neutral form or cut to a point's length ('edited')."""
    if shipped == original:
        return "extract"
    return "repaired" if mend(original).repairs else "edited"


def without_grading(text: str) -> str:
    """The text with the loaded words that grade what they stand before left out."""

    def drop(match: re.Match[str]) -> str:
        article, word, after = match.groups()
        if word[0].isupper():
            if text[: match.start()].strip(" \"“‘'("):
                return match.group(0)  # capitalised inside a sentence, it is part of a name ("Historic England")
            after = after.upper()  # it opened the sentence: what follows opens it now
        if article is None:
            return after
        return f"{article[0]}{'n' if after.lower() in 'aeiou' else ''} {after}"

    return _GRADING.sub(drop, text)
