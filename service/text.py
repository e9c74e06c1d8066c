"""Small text helpers shared by the stages: sentences, words, numbers, names."""

from __future__ import annotations

import itertools
import re

_ABBREV = (r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bJr\.)(?<!\bU\.S\.)(?<!\bvs\.)(?<!\b[A-Z]\.)"
           r"(?<!\bRep\.)(?<!\bReps\.)(?<!\bSen\.)(?<!\bSens\.)(?<!\bGov\.)(?<!\bGen\.)(?<!\bLt\.)(?<!\bCol\.)"
           r"(?<!\bProf\.)(?<!\bRev\.)(?<!\bSgt\.)(?<!\bCapt\.)")
# Western sentences end in .!?… before a space and a capital; Chinese and Japanese ones in 。！？
# with no space after (not inside a quotation: 「行く。」と言った is one sentence).
# why: a closing quote or bracket after the full stop stays with its sentence ("... themselves.”")
_SENT_SPLIT = re.compile(_ABBREV + r"(?<=[.!?…])\s+(?=[\"“‘(]?[A-Z0-9])|(?<=[.!?…][\"”’)])\s+(?=[\"“‘(]?[A-Z0-9])"
                         r"|(?<=[。！？])(?![」』）”])\s*")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_CASED_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][a-z]+)?")
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
# Words that stand before a name without being it ("President Joe Biden", "Mayor Quimby").
TITLES = frozenset(
    "mr mrs ms dr president prime minister senator sen governor gov king queen prince general gen "
    "secretary chancellor pope judge justice chief officer representative rep mayor".split()
)
_SENTENCE_STARTERS = STOPWORDS | frozenset(
    """however meanwhile today yesterday now last next first second third finally moreover still
    instead initially later earlier separately overall officials critics analysts experts""".split()
)


_PROMOTION = re.compile(r"\b(sign up|subscribe|newsletter|click here|read more|follow us|download (?:the|our) app)\b",
                        re.IGNORECASE)
_CONDITIONS = frozenset("if unless not no never without whether nor".split())
_PREPOSITIONS = frozenset(
    "of from by to for with against on at in into about over under between among toward towards".split()
)
_CONTEXT_OPENER = re.compile(r"^\W*(they|them|it|he|she|his|her|their|its|these|those|both|such)\b", re.IGNORECASE)
# "A choice, again according to the NYT, which has divided Biden's advisers.": a noun and the relative
# clause that runs to the sentence's end, no verb of its own; it names what the sentence before said
_NOUN_FRAGMENT = re.compile(
    r"^\W*(?:an?|the|this|that|such an?)\s+[\w’'-]+(?:\s+[\w’'-]+)?\s*,(?:[^,]*,)?\s*"
    r"(?:which|who|whom|whose)\b[^,;:]*$",
    re.IGNORECASE,
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


def standalone_problem(text: str) -> str | None:
    """Why a sentence cannot be read on its own, as a briefing's points are, or None: it opens
    with a pronoun it does not resolve ("They have used them ..."), is a fragment that leans on the
    sentence before ("A choice, which divided his advisers."), shouts (a headline of another
    story in capitals), promotes ("Sign up for ... newsletter"), or holds half a quotation."""
    if _CONTEXT_OPENER.match(text):
        return "opens with a pronoun it does not resolve"
    if _NOUN_FRAGMENT.match(text):
        return "a noun and a relative clause, no verb of its own (leans on the sentence before)"
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        return "written in capitals (a headline, not a sentence)"
    if _PROMOTION.search(text):
        return "promotes a newsletter or another page"
    if text.count("“") != text.count("”") or text.count('"') % 2:
        return "a quotation cut in two"
    return None


def kept_in_order(shorter: str, longer: str, *, own_words: bool = False) -> float:
    """Share of the words `shorter` takes from `longer` that keep their order there (longest common
    subsequence): 1.0 for a compression, low for a sentence that recombines the words. Words of its
    own (a spun word set right, "on" for "connected") do not count, unless `own_words`: then they
    count against it, as for a sentence that may only compress."""
    b = words(longer)
    a = words(shorter) if own_words else [w for w in words(shorter) if w in set(b)]
    return len(_aligned(a, b)) / len(a) if a else 0.0


def changes_who_did_what(shorter: str, longer: str, reach: int = 6) -> bool:
    """Tell whether a compression puts a word after another name than its source does: "Sullivan
    said Biden signed" compressed to "Sullivan signed" keeps its words in order, yet changes who
    signed. Each content word the two share (in order) is compared by the closest name before it,
    within `reach` words and the same sentence, in the compression and in the source."""
    a, b = _cased_words(shorter), _cased_words(longer)
    for i, j in _aligned([w.lower() for w, _ in a], [w.lower() for w, _ in b]):
        word = a[i][0]
        if word[0].isupper() or word.lower() in STOPWORDS:
            continue
        mine = _name_before(a, i, reach)
        if mine is not None and mine != _name_before(b, j, len(b)):
            return True
    return False


def drops_a_condition(shorter: str, longer: str) -> bool:
    """Tell whether a compression leaves out a negation or condition of the part of `longer` it
    compresses ("If the news is confirmed, it will ..." shortened to "The news is confirmed"):
    deleting one word then turns a fact around, and the order check cannot see a deletion."""
    a, located, pairs = _alignment(shorter, longer)
    if not pairs:
        return False
    first, last = pairs[0][1], pairs[-1][1]
    start = first
    while start > max(0, first - 3) and located[start - 1][1] == located[first][1]:
        start -= 1  # a condition just before, in the same sentence ("If the news is confirmed")
    kept = set(a)
    return any(_is_condition(w) and w not in kept for w, _ in located[start:last + 1])


def reattaches_a_word(shorter: str, longer: str) -> bool:
    """Tell whether a compression cuts out words that end in a preposition between two words it
    keeps, so that what followed the preposition now hangs on another word ("fears for the
    reaction expected from Putin" shortened to "fears for Putin"): the words keep their order,
    yet the fact changes."""
    _, located, pairs = _alignment(shorter, longer)
    for (i1, j1), (i2, j2) in itertools.pairwise(pairs):
        cut = located[j1 + 1 : j2]
        if i2 == i1 + 1 and cut and located[j1][1] == located[j2][1] and cut[-1][0] in _PREPOSITIONS \
                and any(w not in STOPWORDS for w, _ in cut[:-1]):
            return True
    return False


def _alignment(shorter: str, longer: str) -> tuple[list[str], list[tuple[str, int]], list[tuple[int, int]]]:
    """The shorter text's words, the longer's words each with its sentence number, and the index
    pairs of their longest common subsequence."""
    a = words(shorter)
    located = [(w, n) for n, sentence in enumerate(sentences(longer) or [longer]) for w in words(sentence)]
    return a, located, _aligned(a, [w for w, _ in located])


def _is_condition(word: str) -> bool:
    return word in _CONDITIONS or word.endswith(("n't", "n’t"))


def _cased_words(text: str) -> list[tuple[str, int]]:
    """Words with their case kept, each with the number of the sentence it is in."""
    return [(w, n) for n, sentence in enumerate(sentences(text) or [text]) for w in _CASED_WORD.findall(sentence)]


def _name_before(tokens: list[tuple[str, int]], at: int, reach: int) -> str | None:
    sentence = tokens[at][1]
    for k in range(at - 1, max(-1, at - 1 - reach), -1):
        word, n = tokens[k]
        if n != sentence:
            return None
        if word[0].isupper() and word.lower() not in _SENTENCE_STARTERS:
            return word.lower()
    return None


def _aligned(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence of two word lists."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


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
