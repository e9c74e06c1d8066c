"""Evidence windows: the parts of long sources a claim is judged against (best window wins).

A claim is never judged against a silently truncated document: its closest source sentences
are retrieved by embedding similarity, each is widened by its neighbours in the same article,
and the retrieved sentences together form one more window, so a claim whose facts sit in two
sentences (or two cited sources) can be judged as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service import numerics
from service.fidelity.sources import SourceIndex

# Words of evidence in one window: with a claim it stays inside the judge's input length.
WINDOW_WORDS = 160


@dataclass(frozen=True)
class Window:
    """Rows of the source index read together, in order, and how close the centre row is."""

    rows: tuple[int, ...]
    centre: int
    similarity: float
    text: str


@dataclass(frozen=True)
class Retrieved:
    """A claim's closest source rows, most similar first, with their similarities."""

    rows: list[int]
    similarities: list[float]

    @property
    def best_similarity(self) -> float:
        """Return the similarity of the closest source sentence (0 with none)."""
        return self.similarities[0] if self.similarities else 0.0


def retrieve(vector: np.ndarray, index: SourceIndex, rows: np.ndarray, k: int) -> Retrieved:
    """Return the k rows (of `rows`) closest to the claim vector."""
    assert index.vectors is not None
    if rows.size == 0:
        return Retrieved([], [])
    sims = numerics.similarity(index.vectors[rows], vector)
    order = np.argsort(-sims, kind="stable")[:k]
    return Retrieved([int(rows[i]) for i in order], [float(sims[i]) for i in order])


def windows(index: SourceIndex, retrieved: Retrieved, allowed: np.ndarray) -> list[Window]:
    """Each retrieved sentence with the sentences either side in the same article, then all retrieved
    sentences together in source order."""
    allowed_rows = set(allowed.tolist())
    out: list[Window] = []
    seen: set[tuple[int, ...]] = set()
    for row, sim in zip(retrieved.rows, retrieved.similarities, strict=True):
        article = index.sentences[row].article_id
        chosen = [row]
        for step in (1, -1):
            neighbour = row + step
            if (
                neighbour in allowed_rows
                and index.sentences[neighbour].article_id == article
                and _words(index, [*chosen, neighbour]) <= WINDOW_WORDS
            ):
                chosen.append(neighbour)
        _add(out, seen, index, sorted(chosen), row, sim)
    if len(retrieved.rows) > 1:
        together: list[int] = []
        for row in retrieved.rows:
            if _words(index, [*together, row]) <= WINDOW_WORDS or not together:
                together.append(row)
        _add(out, seen, index, sorted(together), retrieved.rows[0], retrieved.best_similarity)
    return out


def _add(
    out: list[Window], seen: set[tuple[int, ...]], index: SourceIndex, rows: list[int], centre: int, sim: float
) -> None:
    key = tuple(rows)
    if key not in seen:
        seen.add(key)
        out.append(Window(key, centre, sim, " ".join(index.sentences[r].text for r in rows)))


def _words(index: SourceIndex, rows: list[int]) -> int:
    return sum(len(index.sentences[r].text.split()) for r in rows)
