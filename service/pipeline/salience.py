"""How much a source sentence matters to its batch: central to what the sources report, early in its
article, specific (names, numbers), not editorial, from a clean source. The reading selection and the
extractive fallback rank sentences by it, and pick the next one by salience against novelty."""

from __future__ import annotations

import re

import numpy as np

from service import numerics
from service.clean import EDITORIAL
from service.fidelity.sources import SourceIndex
from service.models import FlagKind
from service.text import TITLES, dates, has_attribution, numbers, proper_names

# Two sentences this similar state one fact: the second adds nothing.
REDUNDANT = 0.8
_ENOUGH_NEW = 2  # new specifics from which a sentence counts as wholly new
# why: "The" may open a name as written; "President-elect", "House Speaker", "Majority Leader" name
# offices, not who holds them
_NOT_NAME_KEYS = TITLES | {"the", "elect", "vice", "speaker", "leader"}
_US = re.compile(r"\b(?:united states(?: of america)?|u\.s\.?(?:a\.?)?|usa|america|americans?)(?!\w)", re.IGNORECASE)
_CREDITED = re.compile(r"\b[Aa]ccording to (?:the )?(?:[A-Z][\w.’'-]*\s*)+")
_FLAG_WEIGHT: dict[FlagKind, float] = {
    "word-spun": 0.4, "machine-translated": 0.85, "other-language": 0.5, "mis-encoded": 0.7,
}


def salience(index: SourceIndex) -> np.ndarray:
    """Score every sentence row of an embedded index in [0, 1], once per index (one block of
    similarities per article, so memory grows with the article, not the batch squared)."""
    if index.salience is None:
        scores = _scores(index)
        scores.setflags(write=False)  # shared by every stage that ranks this index
        index.salience = scores
    return index.salience


def _scores(index: SourceIndex) -> np.ndarray:
    assert index.vectors is not None
    vectors = index.vectors
    owners = np.array([s.article_id for s in index.sentences])
    centrality = np.zeros(len(owners))
    for article in dict.fromkeys(owners.tolist()):
        mine = np.flatnonzero(owners == article)
        others = np.flatnonzero(owners != article)
        if others.size:  # agreement across the other sources counts
            sims = numerics.similarity(vectors[mine], vectors[others])
            top = -np.sort(-sims, axis=1)[:, :3]
        else:  # alone, a sentence's best match is itself: skip it
            sims = numerics.similarity(vectors[mine], vectors[mine])
            top = -np.sort(-sims, axis=1)[:, 1:4]
        centrality[mine] = top.mean(axis=1) if top.shape[1] else 0.0
    scores = np.zeros(len(owners))
    for row, sentence in enumerate(index.sentences):
        lead = 1.0 / (1.0 + sentence.position / 4)
        specific = min(1.0, (len(numbers(sentence.text)) + len(proper_names(sentence.text))) / 4)
        weight = 0.6 if EDITORIAL.search(sentence.text) and not has_attribution(sentence.text) else 1.0
        for flag in index.flags.get(sentence.article_id, []):
            weight *= _FLAG_WEIGHT[flag.kind]
        scores[row] = weight * (0.55 * centrality[row] + 0.3 * lead + 0.15 * specific)
    return numerics.blended(scores)


class NoveltyPicker:
    """Picks rows one at a time by salience against similarity to what is already picked."""

    def __init__(self, index: SourceIndex, scores: np.ndarray, candidates: list[int],
                 taken: list[np.ndarray] | None = None) -> None:
        assert index.vectors is not None
        self.vectors = index.vectors
        self.scores = scores
        self.open = np.zeros(len(scores), dtype=bool)
        self.open[candidates] = True
        self.closest = np.full(len(scores), -np.inf)
        for vector in taken or []:
            self.take(vector)

    def next(self) -> int | None:
        """The best open row (then closed), or None when none is left."""
        if not self.open.any():
            return None
        # why: once anything is picked every row has a similarity to it; before, salience alone ranks
        picked = np.isfinite(self.closest).all()
        value = np.where(self.open, numerics.blended(0.65 * self.scores - 0.35 * self.closest) if picked
                         else self.scores, -np.inf)
        row = int(np.argmax(value))  # why: the first of equals, the earliest row
        self.open[row] = False
        return row

    def redundant(self, row: int) -> bool:
        """Whether the row restates something picked."""
        return bool(self.closest[row] >= REDUNDANT)

    def take(self, vector: np.ndarray) -> None:
        """Count a vector as picked."""
        self.closest = np.maximum(self.closest, numerics.similarity(self.vectors, vector))

    def close(self, rows: np.ndarray) -> None:
        """Stop offering these rows."""
        self.open[rows] = False


def new_facts_first(index: SourceIndex, rows: list[int], covered: set[str] | None = None) -> list[int]:
    """The picked rows reordered so each next one names what none before it did (people, places,
    numbers, dates) beyond `covered`: central sentences of several sources restate one fact, and a
    story's other facts often sit in one source's less central sentences. Ties keep the given order."""
    items = {row: specific_items(index.sentences[row].text) for row in rows}
    covered = set(covered or ())
    rank = {row: n for n, row in enumerate(rows)}
    left = set(rows)
    out: list[int] = []

    def new(row: int) -> int:  # why: a name counts once, however many words it has
        return sum(1 for item in items[row] if not item <= covered)

    while left:
        best = max(left, key=lambda row: (min(new(row), _ENOUGH_NEW), -rank[row]))
        if not new(best):  # nothing new is left anywhere: the rest in the given order
            return out + sorted(left, key=rank.__getitem__)
        left.remove(best)
        covered.update(*items[best])
        out.append(best)
    return out


def specifics_of(text: str) -> set[str]:
    """The names, numbers and dates a sentence states, each name as the words that tell it apart
    (`name_keys`), so "Mr. Biden" is no new name after "President Joe Biden", nor "Russia" after
    "Russian"; who a report is credited to ("according to the New York Times") is no fact of the story."""
    return set().union(*specific_items(text))


def specific_items(text: str) -> list[frozenset[str]]:
    """What `specifics_of` holds, one item per name (its keys), number or date."""
    names = [keys for name in proper_names(_CREDITED.sub(" ", text)) if (keys := frozenset(name_keys(name)))]
    return names + [frozenset({x}) for x in numbers(text) | dates(text)]


def name_keys(name: str) -> set[str]:
    """A name's capitalised words without titles, each cut to its first five letters, which joins a
    place and its people ("Russia", "Russian"; "Korea", "North Korean"); the United States has one key
    however written ("US", "U.S.", "American"); "US-made" is the US."""
    words = (found.strip(".'’").lower() for found in re.findall(r"[A-Z][\w'’.]*", _US.sub("US", name)))
    return {word[:5] for word in words if word and word not in _NOT_NAME_KEYS}
