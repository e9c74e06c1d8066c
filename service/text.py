"""Small text helpers shared by the stages: sentences, words, numbers, names."""

from __future__ import annotations

import re

_ABBREV = r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bJr\.)(?<!\bU\.S\.)(?<!\bvs\.)(?<!\b[A-Z]\.)"
# Western sentences end in .!?… before a space and a capital; Chinese and Japanese ones in 。！？
# with no space after (not inside a quotation: 「行く。」と言った is one sentence).
_SENT_SPLIT = re.compile(_ABBREV + r"(?<=[.!?…])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])|(?<=[。！？])(?![」』）”])\s*")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_ATTRIBUTION = re.compile(
    r"\b(said|says|told|according\s+to|reported|reports|stated|announced|added|confirmed"
    r"|warned|argued|noted|wrote|claimed|insisted|explained|described|concludes|asks)\b"
    r"|[\"“][^\"”]{12,}[\"”]",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000",
}
_NAME = re.compile(r"\b[A-Z][\w’'.-]*[a-zA-Z](?:\s+(?:of\s+|the\s+)?[A-Z][\w’'.-]*[a-zA-Z])*")
_MONTHS = frozenset(
    "january february march april may june july august september october november december".split()
)
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_META_REFERENCE = re.compile(
    r"\b(the|this|that)\s+(article|text|paragraph|passage|excerpt|document|author|piece|extract"
    r"|summary|facts?\s+list)\b|^\s*[A-Z]{3,}\s*:|\b(here\s+(is|are)|as\s+follows)\b",
    re.IGNORECASE,
)
STOPWORDS = frozenset(
    """a an the and or but if then than of to in on at by for with from as into onto over under
    about after before between during through against without within is are was were be been
    being am do does did have has had having will would shall should can could may might must
    it its it's this that these those there here he she they we you i him her them us me my our
    their his hers your not no nor so too very also just only more most less least such own same
    other another some any all each both few many much what which who whom whose when where why
    how while because until since although though yet still even s t said says say new one
    mr mrs ms""".split()
)
_SENTENCE_STARTERS = STOPWORDS | frozenset(
    """however meanwhile today yesterday now last next first second third finally moreover still
    instead initially later earlier separately overall officials critics analysts experts""".split()
)


def sentences(text: str) -> list[str]:
    """Split text into sentences."""
    return [s.strip() for s in _SENT_SPLIT.split(text.strip()) if s.strip()]


def words(text: str) -> list[str]:
    """Return lower-case word tokens."""
    return _WORD.findall(text.lower().replace("’", "'"))


def content_words(text: str) -> set[str]:
    """Return crude stems of the words that carry meaning (no stopwords, no short words)."""
    return {stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 2}


def refers_to_document(text: str) -> bool:
    """Tell whether text talks about the document or the task instead of the news."""
    return bool(_META_REFERENCE.search(text))


def dates(text: str) -> set[str]:
    """Return the month and weekday names in text, lower-cased."""
    return {w for w in words(text) if w in _MONTHS or w in _WEEKDAYS}


def has_attribution(text: str) -> bool:
    """Tell whether text reports what someone said or a named source reported."""
    return bool(_ATTRIBUTION.search(text))


def numbers(text: str) -> set[str]:
    """Return the numbers in text, normalised ('1,000' -> '1000', 'six' -> '6')."""
    found = {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in words(text) if w in _NUMBER_WORDS}
    return {_strip_zeros(n) for n in found}


def proper_names(text: str) -> set[str]:
    """Return capitalised names in text, skipping ordinary words that open a sentence."""
    names: set[str] = set()
    for sentence in sentences(text) or [text]:
        for match in _NAME.finditer(sentence):
            parts = [_strip_possessive(p) for p in match.group(0).split()]
            at_start = match.start() == 0 or sentence[: match.start()].strip() in {"\"", "“", "‘", "("}
            while parts and (parts[0].lower() in _MONTHS or parts[0].lower() in _WEEKDAYS
                             or (at_start and parts[0].lower() in _SENTENCE_STARTERS)):
                parts = parts[1:]
            if parts:
                names.add(" ".join(parts))
    return names


def _strip_possessive(word: str) -> str:
    return re.sub(r"['’]s?$", "", word.strip(".’'"))


def name_occurs(name: str, haystack_lower: str) -> bool:
    """Tell whether every word of a name occurs in lower-cased source text."""
    return all(
        re.search(r"\b" + re.escape(part.lower()), haystack_lower)
        for part in name.split()
        if part.lower() not in {"of", "the"}
    )


def stem(word: str) -> str:
    """Strip one common inflection ('rejected' -> 'reject'), keeping at least four letters."""
    for suffix in ("ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _strip_zeros(number: str) -> str:
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number
