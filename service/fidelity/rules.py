"""Hard rules beside the judge: what a faithful claim never does, whatever the judge says.

- A quote is verbatim in a chosen source.
- A claim that copies a source sentence does not flip it: no negation added or removed, no
  word turned into its opposite, no number, date or name exchanged for another (which is
  also how a who-did-what swap shows).
- Nor does it distort it the way a shortening model does (`distortions.py`): a noun phrase's
  head dropped, a pronoun for a named referent, a qualifier or an attribution dropped, a
  verb's agreement changed.

The judge reads meaning but misses one-word edits (calibrate's per-kind figures); these rules
are exact where they apply, so they decide there (on human-labelled data 87-97 % of the
summaries they flag are inconsistent). `missing_specifics` is stricter and serves the
briefing's verifier and the map step, not the checker's score: every number, date and
proper name must occur in the source sentences closest to the claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Literal

import numpy as np
from pydantic import BaseModel

from service.fidelity.copies import NEGATIONS, TOKEN, nearest_copy
from service.fidelity.distortions import Distortion, distortions
from service.text import STOPWORDS, TITLES, content_words, dates, name_occurs, numbers, proper_names, words

_QUOTE = re.compile(r"[\"“”]([^\"“”]{12,}?)[\"“”]")
_NUMBER_SIGN = re.compile(r"\b[Nn]o\.?\s+(?=\d)")  # "no 1", "No. 1": a number, not a negation
# Share of a claim's words (names aside) that must follow the source's, in order, for a reordering
# of its names to count as who-did-what swapped.
_SAME_WORDING = 0.9
# Longest edit (in words, either side) read as a flip rather than a rewording.
_SHORT_EDIT = 3

# Pairs of opposites, each in the forms news text uses; either side replaces the other.
_OPPOSITES = """
increase decrease|increased decreased|increases decreases|increasing decreasing|rise fall|rose fell
rising falling|rises falls|gain loss|gains losses|won lost|win lose|wins loses|winning losing|winner loser
victory defeat|accept reject|accepted rejected|approve reject|approved rejected|allow ban|allowed banned
permit prohibit|permitted prohibited|support oppose|supported opposed|supports opposes|before after
more less|more fewer|higher lower|larger smaller|bigger smaller|largest smallest|most least
positive negative|open close|opened closed|start end|started ended|begin end|began ended|first last
early late|earlier later|buy sell|bought sold|buying selling|import export|imports exports|north south
east west|include exclude|included excluded|guilty innocent|legal illegal|majority minority
maximum minimum|strengthen weaken|strengthened weakened|rich poor|young old|arrived departed|enter leave
agree disagree|agreed disagreed|confirm deny|confirmed denied|confirms denies|true false|success failure
succeed fail|succeeded failed|peace war|love hate|male female|men women|man woman|husband wife|son daughter
father mother|boy girl|inside outside|above below|up down|hot cold|dead alive|killed injured
arrested released|convicted acquitted|public private|domestic foreign|best worst|better worse
always never|same different|full empty|easy difficult|cheap expensive|safe dangerous|strong weak
fast slow|long short|high low|new old|light heavy|join leave|joined left|hire fire|hired fired
raise lower|raised lowered|add remove|added removed|expand shrink|expanded shrank|profit loss
surplus deficit|provided refused|provide refuse|already never|agreed refused|praised criticised
praised criticized|praise criticise|welcomed condemned|welcome condemn|passed failed|lifted imposed
lift impose|rejected endorsed|attack defend|attacked defended|allies enemies|ally enemy|ahead behind
cut raised|cuts raises|lowest highest|worst best|least most|lower higher|smaller larger|younger older
oldest youngest|cheaper costlier|cheapest costliest|survived died|survive die|found lost|find lose
remain leave|remained left|stay leave|stayed left|continue stop|continued stopped|resumed halted
boosted hurt|boost hurt|easier harder|ease tighten|eased tightened|increase reduce|increased reduced
"""


def _opposites(table: str) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for pair in table.replace("\n", "|").split("|"):
        if pair.strip():
            a, b = pair.split()
            found.setdefault(a, []).append(b)
            found.setdefault(b, []).append(a)
    return {word: tuple(others) for word, others in found.items()}


# Each word's opposites in table order (the contrast pairs draw on them in that order).
OPPOSITES: dict[str, tuple[str, ...]] = _opposites(_OPPOSITES)


Rule = Literal["quote", "flip"] | Distortion
RULES: tuple[Rule, ...] = ("quote", "flip", "head_dropped", "pronoun", "qualifier", "agreement", "attribution")
# The score of a claim that breaks a hard rule, whatever the judge says.
RULE_BROKEN = 0.05


class Problem(BaseModel):
    """A hard rule a claim breaks, and what exactly is wrong."""

    rule: Rule
    detail: str


def problems(claim: str, passage: Sequence[str], quotable: str, before: str = "") -> list[Problem]:
    """Every rule the claim breaks against the source sentences closest to it (`passage`) and the
    whole text of its chosen sources (`quotable`, for quotes); `before` is the summary's text
    before the claim, which a pronoun may point back to (`distortions.py`)."""
    found = [Problem(rule="quote", detail=f"quotes words no source says: “{q}”") for q in misquotes(claim, quotable)]
    flip = flipped(claim, passage)
    if flip:
        found.append(Problem(rule="flip", detail=flip))
    found += [Problem(rule=kind, detail=detail) for kind, detail in distortions(claim, passage, before)]
    return found


def capped(probabilities: np.ndarray, broken: np.ndarray) -> np.ndarray:
    """Scores with the claims that break a rule capped at RULE_BROKEN."""
    return np.where(broken, np.minimum(probabilities, RULE_BROKEN), probabilities)


def misquotes(claim: str, quotable: str) -> list[str]:
    """The quotes in a claim that the source text does not say word for word."""
    flat = " ".join(words(quotable))
    return [q for q in _QUOTE.findall(claim) if (said := " ".join(words(q))) and said not in flat]


def missing_specifics(text: str, passage: str, min_overlap: float | None) -> list[str]:
    """List what in text is absent from a source passage: numbers, dates, names (and content words
    when min_overlap is given)."""
    haystack = passage.lower().replace("’", "'")
    found = [f"number {n} not in the cited passage" for n in sorted(numbers(text) - numbers(passage))]
    found += [f"date '{d}' not in the cited passage" for d in sorted(dates(text) - dates(passage))]
    found += [
        f"name '{name}' not in the cited passage"
        for name in sorted(proper_names(text))
        if not name_occurs(name, haystack)
    ]
    claimed = content_words(text)
    if claimed and min_overlap is not None:
        overlap = len(claimed & content_words(passage)) / len(claimed)
        if overlap < min_overlap:
            found.append(f"only {overlap:.0%} of its words occur in the cited passage")
    return found


def flipped(claim: str, passage: Sequence[str]) -> str | None:
    """If the claim copies one passage sentence but flips what it says, say how; else None."""
    mine = _tokens(claim)
    if len(mine) < 4:
        return None
    sentences = [_tokens(sentence) for sentence in passage]
    copied = nearest_copy([t.lower() for t in mine], [[t.lower() for t in theirs] for theirs in sentences])
    if copied is None:
        return None
    n, matcher = copied
    sentence, theirs = passage[n], sentences[n]
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    span = theirs[blocks[0].a : blocks[-1].a + blocks[-1].size]
    if _swapped(span, mine):
        return f"swaps who did what in the source's “{sentence}”"
    edits = _edits(matcher.get_opcodes(), theirs, mine)
    # why: over all edits together, so "not found any" -> "found no" is no flip
    if sum(_negations(old) for old, _ in edits) % 2 != sum(_negations(new) for _, new in edits) % 2:
        return f"adds or removes a negation of the source's “{sentence}”"
    # why: a number may be split over tokens ("235 000", "1 . 1 million"): adjacent pairs count too
    said = {_digits(theirs[i : i + n]) for n in (1, 2) for i in range(len(theirs))}
    for old, new in edits:
        if len(old) == 1 and len(new) == 1 and new[0].lower() in OPPOSITES.get(old[0].lower(), ()):
            return f"turns “{old[0]}” in the source into its opposite “{new[0]}”"
        was, now = _digits(old), _digits(new)
        if was and now and was != now and now not in said:
            return f"changes the source's {' '.join(old)} to {' '.join(new)}"
        if _names(old) and _names(new) and not {t.lower() for t in old} & {t.lower() for t in new}:
            return f"puts {' '.join(new)} where the source has {' '.join(old)}"
    return None


def _edits(opcodes: Sequence[tuple[str, int, int, int, int]], theirs: list[str], mine: list[str]) -> list[
    tuple[list[str], list[str]]
]:
    """The short edits that turn the source sentence into the claim. A head or tail only one side
    has is compression (or an added detail), not a flip; a changed tail the source goes on past
    is compared word for word ("on Monday, the mayor said" -> "on Friday")."""
    out = []
    last = len(opcodes) - 1
    for n, (op, i1, i2, j1, j2) in enumerate(opcodes):
        old, new = theirs[i1:i2], mine[j1:j2]
        if op == "equal" or (op in ("delete", "insert") and n in (0, last)):
            continue
        if op == "replace" and n == last and len(old) > len(new):
            old = old[: len(new)]
        elif op == "replace" and n == 0 and len(old) > len(new):
            old = old[len(old) - len(new) :]
        if len(old) <= _SHORT_EDIT and len(new) <= _SHORT_EDIT:
            out.append((old, new))
    return out


def _swapped(theirs: list[str], mine: list[str]) -> bool:
    """Tell whether the claim says the source span's words with its names in another order."""
    def split(tokens: list[str]) -> tuple[list[str], list[str]]:
        names = [t.lower() for t in tokens if _names([t])]
        return ["\0" if _names([t]) else t.lower() for t in tokens], names

    template_theirs, names_theirs = split(theirs)
    template_mine, names_mine = split(mine)
    matcher = SequenceMatcher(None, template_theirs, template_mine, autojunk=False)
    kept = sum(b.size for b in matcher.get_matching_blocks())
    if kept < _SAME_WORDING * len(mine) or len(theirs) > 1.5 * len(mine) or len(set(names_mine)) < 2:
        return False
    order = [n for n in dict.fromkeys(names_theirs) if n in set(names_mine)]
    return set(order) == set(names_mine) and order != list(dict.fromkeys(names_mine))


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(_NUMBER_SIGN.sub("number ", text))


def _digits(tokens: Sequence[str]) -> str:
    # why: "235,000", "235 000" and "235.000" are one number however a source wrote it
    return "".join(c for t in tokens for c in t if c.isdigit())


def _negations(tokens: Sequence[str]) -> int:
    return sum(t.lower() in NEGATIONS or t.lower().endswith(("n't", "n’t")) for t in tokens)


def _names(tokens: Sequence[str]) -> bool:
    return bool(tokens) and all(
        t[:1].isupper() and t.lower() not in TITLES and t.lower() not in STOPWORDS for t in tokens
    )
