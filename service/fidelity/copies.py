"""What the hard rules (`rules.py`, `distortions.py`) share: how a claim is split into words, and
which passage sentence it nearly copies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

TOKEN = re.compile(r"[A-Za-z0-9]+(?:[.,]\d+)*(?:['’][A-Za-z]+)?")
NEGATIONS = frozenset("not never no nobody none nothing neither nor without cannot".split())
# Share of a claim's words that must follow one source sentence, in order, for it to count as a copy.
NEAR_COPY = 0.7


def nearest_copy(mine: Sequence[str], passage: Sequence[Sequence[str]]) -> tuple[int, SequenceMatcher[str]] | None:
    """The passage sentence (given as its words) whose words the claim's words follow most, in
    order, if that is at least NEAR_COPY of the claim's: its position and the matcher (source
    sentence as `a`, claim as `b`); None if the claim copies no sentence."""
    best: tuple[int, int, SequenceMatcher[str]] | None = None
    for n, theirs in enumerate(passage):
        matcher = SequenceMatcher(None, list(theirs), list(mine), autojunk=False)
        kept = sum(block.size for block in matcher.get_matching_blocks())
        if kept >= NEAR_COPY * len(mine) and (best is None or kept > best[0]):
            best = (kept, n, matcher)
    return (best[1], best[2]) if best else None
