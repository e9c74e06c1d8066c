"""Contrast pairs for training the judge: a claim and its evidence, the claim true or false by
one controlled edit (the idea of FactCC and MiniCheck).

Positives keep a source's meaning (verbatim, a clause dropped, two sentences fused, a pronoun
resolved from the sentence before); negatives change exactly one thing (an entity, a number or
date, a negation, an antonym, who did what, an added detail, facts of two sentences crossed,
or evidence that does not hold the claim). Everything is deterministic for a given seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from typing import Literal

from pydantic import BaseModel

from service.fidelity.rules import OPPOSITES
from service.text import content_words, proper_names, sentences

PositiveKind = Literal["verbatim", "compressed", "fused", "cross_sentence"]
NegativeKind = Literal[
    "entity_swap", "number_change", "negation", "antonym", "role_swap", "added_detail",
    "wrong_combination", "absent_evidence",
]
Kind = PositiveKind | NegativeKind | Literal["human", "paraphrase", "entailment"]
POSITIVE_KINDS: tuple[PositiveKind, ...] = ("verbatim", "compressed", "fused", "cross_sentence")
NEGATIVE_KINDS: tuple[NegativeKind, ...] = (
    "entity_swap", "number_change", "negation", "antonym", "role_swap", "added_detail",
    "wrong_combination", "absent_evidence",
)


class Pair(BaseModel):
    """One training or test example: does the evidence support the claim?"""

    evidence: str
    claim: str
    supported: bool
    kind: Kind
    document: int = -1


_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|would|can|could|should|must|may|might|does|do|did)\b")
_NEGATED = re.compile(r"\b(?:not|never)\s+|n[’']t\b|\bno longer\s+", re.IGNORECASE)
_CONTRACTED = {"won": "will", "can": "can", "don": "do", "doesn": "does", "didn": "did", "isn": "is"}
_PAST_VERB = re.compile(r"(?<=[a-z] )([a-z]{3,}ed)\b")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_MONTHS = "January February March April May June July August September October November December".split()
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_UNITS = [("million", "billion"), ("km", "miles"), ("percent", "points"), ("thousand", "million"),
          ("years", "months"), ("days", "weeks"), ("hours", "minutes"), ("dollars", "euros")]
_DETAIL = re.compile(
    r"\s((?:in|on|at|after|before|during|since|with|for|from|near)\s+(?:the\s+)?[A-Z0-9][\w’'.-]*"
    r"(?:\s+[A-Z0-9][\w’'.-]*){0,3})"
)
_PRONOUN_START = re.compile(r"^(He|She)\b")
_MAX_EVIDENCE_WORDS = 160


class Document(BaseModel):
    """A news document as paragraphs of sentences."""

    paragraphs: list[list[str]]

    @classmethod
    def parse(cls, text: str) -> Document:
        """Split text into paragraphs (blank lines, else one) and sentences."""
        blocks = [b for b in re.split(r"\n\s*\n|\n", text) if b.strip()]
        return cls(paragraphs=[s for b in blocks if (s := [x for x in sentences(b) if len(x.split()) >= 4])])

    @property
    def flat(self) -> list[str]:
        """Return every sentence in order."""
        return [s for p in self.paragraphs for s in p]


def pairs_from_documents(
    documents: list[str], seed: int, per_sentence: int = 2, neighbours: int = 2
) -> list[Pair]:
    """Build contrast pairs from each document: about `per_sentence` positives and as many
    negatives per sentence, each kind drawn among those that apply to the sentence; evidence
    windows take up to `neighbours` sentences on each side."""
    rng = random.Random(seed)
    parsed = [Document.parse(d) for d in documents]
    out: list[Pair] = []
    for number, doc in enumerate(parsed):
        others = [d for i, d in enumerate(parsed) if i != number and d.flat]
        names = sorted({n for s in doc.flat for n in proper_names(s) if len(n) > 2})
        doc_numbers = sorted({n for s in doc.flat for n in _NUMBER.findall(s)})
        flat = doc.flat
        for i in range(len(flat)):
            context = _Context(flat, i, names, doc_numbers, others, rng, neighbours)
            for kinds, label in ((POSITIVE_KINDS, True), (NEGATIVE_KINDS, False)):
                tried = list(kinds)
                rng.shuffle(tried)
                made = 0
                for kind in tried:
                    made_pair = _MAKERS[kind](context)
                    if made_pair is None:
                        continue
                    evidence, claim = made_pair
                    out.append(Pair(evidence=evidence, claim=claim, supported=label, kind=kind, document=number))
                    made += 1
                    if made >= per_sentence:
                        break
    return out


class _Context:
    """One sentence of a document and what its edits may draw on."""

    def __init__(
        self, flat: list[str], i: int, names: list[str], numbers: list[str],
        others: list[Document], rng: random.Random, neighbours: int,
    ) -> None:
        self.flat, self.i, self.names, self.numbers, self.others, self.rng = flat, i, names, numbers, others, rng
        self.neighbours = neighbours
        self.sentence = flat[i]

    def window(self, *rows: int) -> str:
        """Evidence around the given sentence rows: the rows and a few neighbours on each side,
        in document order, kept under a word budget."""
        low = min(rows) - self.rng.randint(0, self.neighbours)
        high = max(rows) + self.rng.randint(0, self.neighbours)
        chosen = sorted(set(range(max(0, low), min(len(self.flat), high + 1))))
        # why: at inference evidence is also a set of retrieved sentences, not always contiguous.
        if self.rng.random() < 0.25 and len(self.flat) > 4:
            chosen = sorted(set(rows) | set(self.rng.sample(range(len(self.flat)), 2)))
        while sum(len(self.flat[r].split()) for r in chosen) > _MAX_EVIDENCE_WORDS and len(chosen) > len(set(rows)):
            removable = [r for r in chosen if r not in rows]
            chosen.remove(removable[0] if removable[0] < min(rows) else removable[-1])
        return " ".join(self.flat[r] for r in chosen)


def _verbatim(c: _Context) -> tuple[str, str] | None:
    return c.window(c.i), c.sentence


def _compressed(c: _Context) -> tuple[str, str] | None:
    s = c.sentence
    options = [
        re.sub(r"\s*\([^()]{2,80}\)", "", s),
        re.sub(r"\s*-lrb-.{2,80}?-rrb-", "", s),
        re.sub(r",\s+[^,]{3,60},\s+", " ", s, count=1),
        re.sub(r",\s+(?:which|who|while|as|after|including|according to|saying)\b[^,]*?([.!?]?)$", r"\1", s),
        re.sub(r"^(?:On|In|At|After|Earlier|Last|This)\s[^,]{2,40},\s+(\w)", lambda m: m.group(1).upper(), s),
    ]
    options = [o.strip() for o in options if o.strip() != s and len(o.split()) >= 6 and content_words(o)]
    if not options:
        return None
    return c.window(c.i), c.rng.choice(options)


def _fused(c: _Context) -> tuple[str, str] | None:
    if c.i + 1 >= len(c.flat):
        return None
    first, second = c.sentence.rstrip(" .!?"), c.flat[c.i + 1]
    if len(first.split()) + len(second.split()) > 60 or not second[:1].isalpha():
        return None
    joined = f"{first}, and {second[0].lower() + second[1:]}" if not _starts_with_name(second) else f"{first}; {second}"
    return c.window(c.i, c.i + 1), joined


def _cross_sentence(c: _Context) -> tuple[str, str] | None:
    match = _PRONOUN_START.match(c.sentence)
    if match and c.i > 0:
        people = [n for n in proper_names(c.flat[c.i - 1]) if len(n.split()) >= 2]
        if people:
            return c.window(c.i - 1, c.i), people[0] + c.sentence[match.end():]
    far = c.i + 2
    if far < len(c.flat) and len(c.sentence.split()) + len(c.flat[far].split()) <= 55:
        second = c.flat[far]
        return c.window(c.i, far), f"{c.sentence.rstrip(' .!?')}; {second}"
    return None


def _entity_swap(c: _Context) -> tuple[str, str] | None:
    present = [n for n in proper_names(c.sentence) if n in c.sentence and len(n) > 2]
    if not present:
        return None
    old = c.rng.choice(present)
    candidates = [n for n in c.names if not _share_word(n, old) and n not in c.sentence]
    if not candidates:
        return None
    return c.window(c.i), _replace_once(c.sentence, old, c.rng.choice(candidates))


def _number_change(c: _Context) -> tuple[str, str] | None:
    s = c.sentence
    edits: list[Callable[[], str | None]] = [
        lambda: _change_number(s, c.numbers, c.rng),
        lambda: _swap_from(s, _MONTHS, c.rng),
        lambda: _swap_from(s, _WEEKDAYS, c.rng),
        lambda: _swap_unit(s, c.rng),
    ]
    c.rng.shuffle(edits)
    for edit in edits:
        claim = edit()
        if claim and claim != s:
            return c.window(c.i), claim
    return None


def _negation(c: _Context) -> tuple[str, str] | None:
    claim = toggle_negation(c.sentence, c.rng)
    return (c.window(c.i), claim) if claim and claim != c.sentence else None


def toggle_negation(s: str, rng: random.Random) -> str | None:
    """Remove the sentence's negation if it has one, else insert one after the first auxiliary
    (or 'never' before a past-tense verb)."""
    negated = list(_NEGATED.finditer(s))
    if negated:
        m = rng.choice(negated)
        if m.group(0).lower().startswith("n"):  # n't: "didn't" -> "did"
            stem_start = s.rfind(" ", 0, m.start()) + 1
            base = s[stem_start:m.start()]
            word = _CONTRACTED.get(base.lower(), base)
            return s[:stem_start] + word + s[m.end():]
        return s[:m.start()] + s[m.end():]
    aux = _AUX.search(s)
    if aux and aux.start() > 0:
        return s[:aux.end()] + " not" + s[aux.end():]
    verb = _PAST_VERB.search(s)
    if verb:
        return s[:verb.start()] + "never " + s[verb.start():]
    return None


def _antonym(c: _Context) -> tuple[str, str] | None:
    tokens = list(re.finditer(r"[A-Za-z]+", c.sentence))
    usable = [t for t in tokens if t.group(0).lower() in OPPOSITES]
    if not usable:
        return None
    t = c.rng.choice(usable)
    word = c.rng.choice(OPPOSITES[t.group(0).lower()])
    if t.group(0)[0].isupper():
        word = word.capitalize()
    return c.window(c.i), c.sentence[:t.start()] + word + c.sentence[t.end():]


def _role_swap(c: _Context) -> tuple[str, str] | None:
    present = [n for n in proper_names(c.sentence) if n in c.sentence and len(n) > 2]
    for a in present:
        for b in present:
            if a != b and not _share_word(a, b) and c.sentence.find(a) < c.sentence.find(b):
                swapped = c.sentence.replace(a, "\0").replace(b, a).replace("\0", b)
                if swapped != c.sentence:
                    return c.window(c.i), swapped
    return None


def _added_detail(c: _Context) -> tuple[str, str] | None:
    for _ in range(6):
        other = c.rng.choice(c.others).flat
        if not other:
            continue
        match = _DETAIL.search(c.rng.choice(other))
        if not match:
            continue
        detail = match.group(1).rstrip(".,;")
        evidence = c.window(c.i)
        if content_words(detail) - content_words(evidence) and detail not in c.sentence:
            body = c.sentence.rstrip(" .!?")
            return evidence, f"{body} {detail}."
    return None


def _wrong_combination(c: _Context) -> tuple[str, str] | None:
    for j in (c.i - 1, c.i + 1, c.i - 2, c.i + 2):
        if not 0 <= j < len(c.flat):
            continue
        mine = [n for n in proper_names(c.sentence) if n in c.sentence and len(n) > 2]
        theirs = [n for n in proper_names(c.flat[j]) if len(n) > 2 and n not in c.sentence]
        for old in mine:
            for new in theirs:
                if not _share_word(old, new):
                    return c.window(c.i, j), _replace_once(c.sentence, old, new)
    return None


def _absent_evidence(c: _Context) -> tuple[str, str] | None:
    claim_words = content_words(c.sentence)
    if len(c.flat) < 6 or len(claim_words) < 4:
        return None
    far = [r for r in range(len(c.flat)) if abs(r - c.i) >= 3]
    # why: the hardest case is evidence on the same subject, so take the far window that shares most
    best = max(far, key=lambda r: len(claim_words & content_words(c.flat[r])))
    evidence = " ".join(c.flat[max(0, best - 1): best + 2])
    if len(claim_words - content_words(evidence)) / len(claim_words) < 0.4:
        return None
    return evidence, c.sentence


_MAKERS: dict[str, Callable[[_Context], tuple[str, str] | None]] = {
    "verbatim": _verbatim, "compressed": _compressed, "fused": _fused, "cross_sentence": _cross_sentence,
    "entity_swap": _entity_swap, "number_change": _number_change, "negation": _negation, "antonym": _antonym,
    "role_swap": _role_swap, "added_detail": _added_detail, "wrong_combination": _wrong_combination,
    "absent_evidence": _absent_evidence,
}


def _change_number(s: str, doc_numbers: list[str], rng: random.Random) -> str | None:
    found = list(_NUMBER.finditer(s))
    if not found:
        return None
    m = rng.choice(found)
    old = m.group(0)
    others = [n for n in doc_numbers if n != old]
    if others and rng.random() < 0.5:
        new = rng.choice(others)
    else:
        digits = old.replace(",", "")
        try:
            value = float(digits)
        except ValueError:
            return None
        factor = rng.choice([2, 3, 10, 0.5])
        shifted = value * factor if rng.random() < 0.5 else value + rng.randint(1, 9)
        new = f"{shifted:g}" if "." in digits else str(int(round(shifted)))
        if len(digits) == 4 and 1900 <= value <= 2100:  # a year
            new = str(int(value) + rng.choice([-3, -2, -1, 1, 2, 3]))
    return s[:m.start()] + new + s[m.end():] if new != old else None


def _swap_from(s: str, vocabulary: list[str], rng: random.Random) -> str | None:
    present = [w for w in vocabulary if re.search(rf"\b{w}\b", s)]
    if not present:
        return None
    old = rng.choice(present)
    return re.sub(rf"\b{old}\b", rng.choice([w for w in vocabulary if w != old]), s, count=1)


def _swap_unit(s: str, rng: random.Random) -> str | None:
    pairs = [(a, b) for a, b in _UNITS if re.search(rf"\b{a}\b", s)] + [
        (b, a) for a, b in _UNITS if re.search(rf"\b{b}\b", s)
    ]
    if not pairs:
        return None
    old, new = rng.choice(pairs)
    return re.sub(rf"\b{old}\b", new, s, count=1)


def _replace_once(s: str, old: str, new: str) -> str:
    return s.replace(old, new, 1)


def _share_word(a: str, b: str) -> bool:
    return bool(set(a.lower().split()) & set(b.lower().split()))


def _starts_with_name(s: str) -> bool:
    first = s.split()[0] if s.split() else ""
    return bool(proper_names(s)) and any(n.startswith(first) for n in proper_names(s))


def kinds_of(pairs: list[Pair]) -> Iterator[tuple[str, int]]:
    """Count pairs of each kind, in the order of the kinds."""
    for kind in (*POSITIVE_KINDS, *NEGATIVE_KINDS, "human", "paraphrase", "entailment"):
        n = sum(1 for p in pairs if p.kind == kind)
        if n:
            yield kind, n
