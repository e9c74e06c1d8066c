"""Undo a word spinner's substitutes in an article flagged word-spun, before it is split and embedded.

Spinners rewrite stolen articles word by word from a fixed synonym table: "nan" for "the",
"successful" for "in", "astatine" for "at". The facts survive ("six ATACMS had been fired
astatine its Bryansk region"), but no sentence can be quoted, rewritten or verified as it
stands. The substitutes below are the table's entries for common words whose substitute is
not English in its place; each is undone only in an article the cleaning step flags as spun
(where the spinner replaced every real use of the word too) and only where the context
allows, so the article's facts can be briefed. Content words a spinner swaps for near
synonyms ("fortify" for "strengthen") stay: their meaning holds. The article keeps its
flag, and the flag's note counts what was restored.
"""

from __future__ import annotations

import re
from collections import Counter

# substitute -> the word it replaced
SUBSTITUTES: dict[str, str] = {
    "nan": "the",
    "successful": "in",
    "astatine": "at",
    "connected": "on",
    "pinch": "with",
    "arsenic": "as",
    "beryllium": "be",
    "besides": "also",
    "astir": "about",
    "aft": "after",
    "immoderate": "any",
    "whitethorn": "may",
    "caller": "new",
    "erstwhile": "former",
    "conscionable": "just",
    "ain": "own",
    "benignant": "kind",
    "aforesaid": "same",
    "usage": "use",
    "utilized": "used",
    "utilizing": "using",
    "utilize": "use",
    "argumentation": "policy",
    "determination": "decision",
    "alteration": "change",
    "management": "administration",
    "correspond": "represent",
    "cardinal": "key",
    "reddish": "red",
    "extremity": "end",
    "manus": "hand",
    "scope": "range",
    "imaginable": "possible",
    "antagonistic": "negative",
    "emotion": "feeling",
    "onshore": "land",
    "clasp": "hold",
    "astonishment": "surprise",
    "respective": "several",
    "nary": "no",
    "beingness": "presence",
    "person": "have",
}
# "person" stands for "have" only where a noun could not: after a subject, before a participle.
_NOT_AFTER = {"person": frozenset("a an the nan one each every any this that another per".split())}
_WORD = re.compile(r"\b[A-Za-z]+\b")


def restore(text: str) -> tuple[str, Counter[str]]:
    """The text with the spinner's substitutes undone (case kept), and how often each was."""
    restored: Counter[str] = Counter()
    previous = ""

    def swap(match: re.Match[str]) -> str:
        nonlocal previous
        word = match.group(0)
        lower = word.lower()
        before, previous = previous, lower
        original = SUBSTITUTES.get(lower)
        if original is None or before in _NOT_AFTER.get(lower, ()):
            return word
        restored[lower] += 1
        return original.capitalize() if word[0].isupper() else original

    return _WORD.sub(swap, text), restored


def note(restored: Counter[str]) -> str:
    """The flag's note: what was restored."""
    commonest = ", ".join(f"“{w}” for “{SUBSTITUTES[w]}”" for w, _ in restored.most_common(3))
    return (
        f"common words replaced by odd synonyms; {sum(restored.values())} restored ({commonest}, …) "
        "before briefing; wording unreliable"
    )
