"""Damaged wording in a sentence: a word spinner's substitutes and machine-translation debris.

A spinner swaps words for dictionary "synonyms" whatever their context ("once morest" for
"against", "following he signed" for "after he signed", "nan" for "the"); a translation engine
leaves fragments ("...,” he said. said Slutsky."). Such a sentence is not a quote. Where a
substitute has one reading in its context it is undone and the repair named; what has no such
reading is damage, and a sentence with damage never ships (service/pipeline/assemble.py,
extract.py, timeline.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SUBJECT = r"(?:he|she|they|we|I)(?:['’]d|['’]s)?"
_DETERMINER = r"(?:the|a|an|his|her|their|its|this|that)"
# a finite verb in the past: regular, or an irregular one news reports with
_PAST = (r"(?:\w+ed|said|won|began|took|made|gave|came|went|met|spoke|told|held|left|lost|sent|struck|fell|rose|ran|"
         r"did|had|was|were|got|saw|put|set|hit|wrote|signed)")


@dataclass(frozen=True)
class _Repair:
    found: re.Pattern[str]
    replacement: str
    why: str

    def undo(self, found: re.Match[str]) -> str:
        said = found.group(0)
        return self.replacement[:1].upper() + self.replacement[1:] if said[:1].isupper() else self.replacement


# why: each undoes a substitute in the one context where it cannot be the English word it is spelled as
_REPAIRS = (
    _Repair(re.compile(r"\bonce morest\b", re.IGNORECASE), "against", "a word spinner's 'once morest' for 'against'"),
    # "following" before a clause (a subject and its verb) is the spinner's "after": as a preposition it
    # takes a noun ("following the vote"), never a subject pronoun or a subject with its verb
    _Repair(re.compile(rf"\b[Ff]ollowing(?= {_SUBJECT}\b)"), "after", "a word spinner's 'following' for 'after'"),
    _Repair(re.compile(rf"\b[Ff]ollowing(?= {_DETERMINER} (?:[\w’'-]+ ){{1,3}}{_PAST}\b)"), "after",
            "a word spinner's 'following' for 'after'"),
    _Repair(re.compile(r"\bnan(?= \w)"), "the", "a word spinner's 'nan' for 'the'"),
    _Repair(re.compile(r"\bastatine(?= [a-z])"), "at", "a word spinner's 'astatine' for 'at'"),
    _Repair(re.compile(r"\bconscionable(?= [a-z])"), "just", "a word spinner's 'conscionable' for 'just'"),
    # a translation engine's doubled attribution: ...,” he said. said Slutsky.
    _Repair(re.compile(r"\b(?:he|she|they) said\. said(?= [A-Z])"), "said", "a translation's doubled 'said'"),
)

# what no context makes English and no rule can undo
_DEBRIS = (
    (re.compile(r"\b(\w+)\. \1\b", re.IGNORECASE), "a word repeated across a full stop"),
)


@dataclass(frozen=True)
class Mended:
    """A sentence with its damaged wording undone where it can be: what was undone, what was not."""

    text: str
    repairs: list[str] = field(default_factory=list)
    damage: list[str] = field(default_factory=list)

    @property
    def shippable(self) -> bool:
        """Whether the mended sentence may ship: nothing damaged is left in it."""
        return not self.damage


def mend(text: str) -> Mended:
    """Undo a spinner's substitutes and a translation's debris where their context gives one reading."""
    repairs: list[str] = []
    for repair in _REPAIRS:
        text, count = repair.found.subn(repair.undo, text)
        if count:
            repairs.append(repair.why)
    damage = [f"{why} ('{m.group(0)}')" for pattern, why in _DEBRIS for m in pattern.finditer(text)]
    return Mended(text=text, repairs=list(dict.fromkeys(repairs)), damage=damage)
