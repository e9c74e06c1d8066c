"""Rules for the distortions a shortening model makes: a claim that copies most of a source
sentence, compared with it clause by clause, word by word.

- head dropped: a noun phrase loses its head and the modifier stands in for it ("the fuel
  depot" -> "the fuel", "a car bomb" -> "a car");
- pronoun: a named or described referent becomes a pronoun the claim does not resolve ("the
  mayor's son" -> "his son");
- qualifier: a word or phrase that restricts the claim is dropped, which widens it ("nearly",
  "up to", "not yet", "until repairs are finished", "no plans ... this winter");
- agreement: a verb's number changes, so it agrees with another subject ("police ... have
  issued" -> "... has issued");
- attribution: what the source reports someone said, heard, posted or claimed ships as plain
  fact, without a reporting verb.

Like the flip rules (`rules.py`) they apply only where the claim is a near copy of one source
sentence, and then they decide: a shortening may drop whole clauses, details and modifiers,
but not these. Each returns why, or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from service.fidelity.copies import NEGATIONS, TOKEN, nearest_copy
from service.text import STOPWORDS

Distortion = Literal["head_dropped", "pronoun", "qualifier", "agreement", "attribution"]
# How far before a kept word an article, possessive or number marks it as inside a noun phrase.
_PHRASE_REACH = 3

_OPENS_PHRASE = frozenset(
    "a an the its his her their our my your this that these those some any each every no and or of".split()
)
# Most words between the end of what a claim copies and a reporting verb that governs it.
_SPEAKER_WORDS = 5
# Longest name or description a pronoun is read as replacing (longer: a clause was rewritten).
_REFERENT_WORDS = 5
_PRONOUNS = {
    "he": "he", "him": "he", "his": "he", "himself": "he", "she": "she", "her": "she", "hers": "she",
    "herself": "she", "they": "they", "them": "they", "their": "they", "theirs": "they", "themselves": "they",
    "it": "it", "its": "it", "itself": "it",
}
# Words after a noun that a shortening may drop without taking the noun's place.
_NOT_A_HEAD = frozenset(
    """yesterday today tonight tomorrow now then again also too already still soon later earlier
    recently instead overall alone together himself herself itself themselves itself ago apiece""".split()
)
_RESTRICTING = frozenset(
    """only nearly almost about around roughly approximately some partly partially mostly largely
    reportedly allegedly apparently possibly probably perhaps likely may might could initially
    suspected alleged preliminary provisional temporary temporarily tentatively yet""".split()
)
_RESTRICTING_PHRASES = ("up to", "at least", "at most", "more than", "less than", "fewer than", "as many as",
                        "so far", "for now", "for the time being", "at the moment", "as yet")
# A clause opened by one of these limits everything before it ("closed until repairs are finished").
_LIMITING_CLAUSE = frozenset("until till unless except pending".split())
# A time restriction that widens a negated claim when dropped ("no plans ... this winter").
_THIS_PERIOD = re.compile(
    r"^(?:this|next|that)\s+(?:winter|summer|spring|autumn|fall|season|year|month|week|weekend|time)$"
    r"|^(?:in|during|before|by)\b"
)
_AGREEMENT = [("have", "has"), ("are", "is"), ("were", "was"), ("do", "does"), ("don't", "doesn't"),
              ("haven't", "hasn't"), ("aren't", "isn't"), ("weren't", "wasn't")]
_AGREES = {frozenset(pair) for pair in _AGREEMENT}
# Words that put what follows or precedes them in someone's mouth. Verbs with another common sense
# ("added 5 points", "reported a loss", "posted a profit", "a recall") count only before "that" or
# "on"; reporting verbs a claim may keep are any of these, or any of a wider set.
_REPORTING = re.compile(
    r"\b(?:say|says|said|saying|tell|tells|told|according|claim|claims|claimed|allege|alleges|alleged"
    r"|allegedly|reportedly|insist|insists|insisted|write|writes|wrote|tweet|tweets|tweeted|hear|hears"
    r"|heard|believe|believes|believed|think|thinks|accuse|accuses|accused|deny|denies|denied"
    r"|admit|admits|admitted|quoted|quoting)\b"
    r"|\b(?:report|reports|reported|post|posts|posted|add|adds|added|announce|announces|announced|confirm"
    r"|confirms|confirmed|warn|warns|warned|argue|argues|argued|suggest|suggests|suggested|note|notes"
    r"|noted|state|states|stated|explain|explains|explained)(?=\s+(?:that|on|in\s+a\s+statement)\b)",
    re.IGNORECASE,
)
_KEEPS_ATTRIBUTION = re.compile(
    _REPORTING.pattern + r"|\b(?:report|reports|reported|post|posted|added|announced|confirmed|warned"
    r"|argued|suggested|noted|stated|explained|estimated|described|called|cited|predicted|according)\b",
    re.IGNORECASE,
)
_QUOTE_MARKS = "\"“”"


@dataclass(frozen=True)
class Token:
    """A word of a text and where it stands."""

    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower().replace("’", "'")


@dataclass(frozen=True)
class Aligned:
    """A claim aligned word by word with the source sentence it copies."""

    source: str
    claim: str
    theirs: list[Token]
    mine: list[Token]
    opcodes: Sequence[tuple[str, int, int, int, int]]
    before: str = ""  # the summary's text before the claim: what a pronoun may point back to

    @property
    def kept_span(self) -> tuple[int, int]:
        """The source words from the first kept one to the last (end exclusive)."""
        equal = [(i1, i2) for op, i1, i2, _, _ in self.opcodes if op == "equal"]
        return equal[0][0], equal[-1][1]

    def between(self, a: int, b: int) -> str:
        """The source text between the end of word a and the start of word b."""
        start = self.theirs[a].end if a >= 0 else 0
        end = self.theirs[b].start if b < len(self.theirs) else len(self.source)
        return self.source[start:end]


def distortions(claim: str, passage: Sequence[str], before: str = "") -> list[tuple[Distortion, str]]:
    """Every distortion of the source sentence the claim copies: its kind and what exactly is
    wrong. `before`: the summary's sentences before the claim (empty where each sentence is read
    alone, as a briefing's points are)."""
    aligned = align(claim, passage, before)
    if aligned is None:
        return []
    return [(kind, found) for kind, rule in RULES.items() if (found := rule(aligned))]


def align(claim: str, passage: Sequence[str], before: str = "") -> Aligned | None:
    """The claim aligned with the passage sentence it copies most of, or None if it copies none."""
    mine = tokens(claim)
    if len(mine) < 4:
        return None
    sentences = [tokens(sentence) for sentence in passage]
    copied = nearest_copy([t.lower for t in mine], [[t.lower for t in theirs] for theirs in sentences])
    if copied is None:
        return None
    n, matcher = copied
    return Aligned(passage[n], claim, sentences[n], mine, matcher.get_opcodes(), before)


def tokens(text: str) -> list[Token]:
    """The words of text with their character spans."""
    return [Token(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def head_dropped(a: Aligned) -> str | None:
    """A noun phrase cut after a modifier: the words dropped right after a kept word end the phrase
    (a boundary or a function word follows), and an article, possessive or number before the kept
    word shows it was a modifier inside that phrase."""
    for op, i1, i2, _, _ in a.opcodes:
        if op != "delete" or i1 == 0 or i2 - i1 > 2:
            continue
        dropped, kept = a.theirs[i1:i2], a.theirs[i1 - 1]
        if not all(_noun_like(t) for t in dropped) or not _content(kept):
            continue
        follows = a.theirs[i2] if i2 < len(a.theirs) else None
        ends_phrase = (
            follows is None or _boundary(a.between(i2 - 1, i2)) or follows.lower in STOPWORDS
            or follows.lower.endswith("ed")  # a past-tense verb follows the phrase ("a car bomb exploded")
        )
        inside_phrase = any(
            t.lower in _OPENS_PHRASE or t.lower.endswith("'s") or t.text[0].isdigit()
            for t in a.theirs[max(0, i1 - 1 - _PHRASE_REACH) : i1 - 1]
        )
        if ends_phrase and inside_phrase and not _boundary(a.between(i1 - 1, i1)):
            words = " ".join(t.text for t in a.theirs[i1 - 1 : i2])
            return f"drops the head of the source's “{words}”, leaving “{kept.text}” in its place"
    return None


def pronoun(a: Aligned) -> str | None:
    """A pronoun put where the source names or describes someone, with nothing before it in the
    claim that it could stand for."""
    for op, i1, i2, j1, j2 in a.opcodes:
        if op != "replace" or j2 - j1 != 1 or i2 - i1 > _REFERENT_WORDS or a.mine[j1].lower not in _PRONOUNS:
            continue
        old = a.theirs[i1:i2]
        said = _PRONOUNS[a.mine[j1].lower]
        if all(t.lower in _PRONOUNS for t in old) and any(_PRONOUNS[t.lower] == said for t in old):
            continue
        before = {t.lower.removesuffix("'s") for t in [*tokens(a.before), *a.mine[:j1]]}
        named = [t.lower.removesuffix("'s") for t in old if t.lower not in STOPWORDS]
        if named and not set(named) & before:
            words = " ".join(t.text for t in old)
            return f"puts “{a.mine[j1].text}” where the source says “{words}”, and the claim does not say who"
    return None


def qualifier(a: Aligned) -> str | None:
    """A restricting word or clause of the part the claim copies, dropped."""
    first, last = a.kept_span
    negated = any(t.lower in NEGATIONS or t.lower.endswith("n't") for t in a.mine)
    for op, i1, i2, j1, j2 in a.opcodes:
        if op not in ("delete", "replace"):
            continue
        kept = {t.lower for t in a.mine[j1:j2]}
        dropped = [t for t in a.theirs[i1:i2] if t.lower not in kept]
        if not dropped:
            continue
        text = " ".join(t.lower for t in dropped)
        head, tail, inner = i2 == first, i1 == last, first < i1 and i2 < last
        if dropped[0].lower in _LIMITING_CLAUSE and (tail or inner):
            return f"drops the source's limit “{_words(a, i1, i2)}”"
        if len(dropped) > 4 or not (head or tail or inner):
            continue
        if tail and not _boundary(a.between(i1 - 1, i1)) and negated and _THIS_PERIOD.match(text):
            return f"drops “{text}”, which limits the source's negated claim"
        phrase = next((p for p in _RESTRICTING_PHRASES if f" {p} " in f" {text} "), None)
        word = next((t.text for t in dropped if t.lower in _RESTRICTING), None)
        if (phrase or word) and (inner or (head and _sentence_start(a, i1)) or (tail and len(dropped) <= 2)):
            return f"drops “{phrase or word}”, which qualifies the source's claim"
    return None


def agreement(a: Aligned) -> str | None:
    """One verb changed between singular and plural: it now agrees with another subject."""
    for op, i1, i2, j1, j2 in a.opcodes:
        if op != "replace" or i2 - i1 != 1 or j2 - j1 != 1:
            continue
        old, new = a.theirs[i1].lower, a.mine[j1].lower
        if frozenset((old, new)) in _AGREES or _plural_of(old, new) or _plural_of(new, old):
            changed = f"“{a.theirs[i1].text}” to “{a.mine[j1].text}”"
            return f"changes the source's {changed}, so it agrees with another subject"
    return None


def attribution(a: Aligned) -> str | None:
    """The source reports what the claim copies (a reporting verb before or after it, or quotation
    marks around it); the claim states it as fact, with no reporting verb of its own."""
    if _KEEPS_ATTRIBUTION.search(a.claim):
        return None
    first, last = a.kept_span
    kept = {i for op, i1, i2, _, _ in a.opcodes if op == "equal" for i in range(i1, i2)}
    reporting = {m.start() for m in _REPORTING.finditer(a.source)}
    for i, t in enumerate(a.theirs):
        if i in kept or t.start not in reporting:
            continue
        reports_after = i < last and any(k > i for k in kept)  # "X said (that) <claim>"
        # "<claim>, X said.": a finite verb close after the claim, not "..., saying" or "according"
        reports_before = last <= i <= last + _SPEAKER_WORDS and not t.lower.endswith(("ing", "according"))
        if reports_after or reports_before:
            return f"drops the attribution: the source reports it (“{t.text}”), the claim states it as fact"
    if _quoted(a, first, last) and not any(m in a.claim for m in _QUOTE_MARKS):
        return "drops the attribution: the source quotes it, the claim states it as fact"
    return None


RULES: dict[Distortion, Callable[[Aligned], str | None]] = {
    "head_dropped": head_dropped, "pronoun": pronoun, "qualifier": qualifier, "agreement": agreement,
    "attribution": attribution,
}


def _words(a: Aligned, i1: int, i2: int) -> str:
    return " ".join(t.text for t in a.theirs[i1:i2])


def _content(t: Token) -> bool:
    return t.lower not in STOPWORDS and t.lower not in _PRONOUNS and t.text.isalpha()


def _noun_like(t: Token) -> bool:
    """A lower-case word that can end a noun phrase (not a function word, adverb or time word)."""
    return (
        t.text.isalpha() and t.text.islower() and len(t.text) > 2 and t.lower not in STOPWORDS
        and t.lower not in _NOT_A_HEAD and not t.lower.endswith("ly") and not _REPORTING.fullmatch(t.text)
    )


def _boundary(gap: str) -> bool:
    return any(c in gap for c in ",.;:!?()—–") or any(c in gap for c in _QUOTE_MARKS)


def _sentence_start(a: Aligned, i: int) -> bool:
    return i == 0 or _boundary(a.between(i - 1, i))


def _plural_of(plural: str, singular: str) -> bool:
    """A verb or noun and its -s form ("fires"/"fire"), not two different words."""
    return singular.isalpha() and len(singular) > 2 and singular not in STOPWORDS and plural == singular + "s"


def _quoted(a: Aligned, first: int, last: int) -> bool:
    """Whether source words first to last (end exclusive) stand between quotation marks that
    open before them and close after them, in this sentence."""
    before, after = a.source[: a.theirs[first].start], a.source[a.theirs[last - 1].end :]
    opened = before.count("“") > before.count("”") or before.count('"') % 2 == 1
    return opened and ("”" in after or '"' in after)
