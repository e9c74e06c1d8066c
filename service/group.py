"""Group cleaned articles into stories (one event each) and fold copies into independent sources."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from service import numerics
from service.models import CleanArticle, Story
from service.settings import GroupSettings
from service.text import STOPWORDS, dates, numbers, proper_names, words

# Words that open or decorate names but say nothing about which event an article reports.
_NAME_NOISE = frozenset(
    "president president-elect minister foreign prime leader speaker secretary mr mrs ms dr former "
    "the according said us u.s".split()
)
_SHINGLE = 5
_SKELETON_MIN = 8  # names and numbers an article needs before its skeleton can make it a copy


@dataclass
class _Profile:
    vector: np.ndarray
    terms: Counter[str]
    skeleton: list[str]
    shingles: set[tuple[str, ...]]


def group_stories(
    articles: list[CleanArticle], vectors: dict[str, np.ndarray], settings: GroupSettings
) -> list[Story]:
    """Return the stories of a batch, most independent sources first; `vectors` holds each article's
    sentence embeddings, one row per sentence of its paragraphs."""
    if not articles:
        return []
    profiles = [_profile(a, vectors[a.article.id]) for a in articles]
    # Each group of copies is led by its cleanest member (unflagged first).
    copies = [sorted(group, key=lambda i: (bool(articles[i].flags), i)) for group in _copies(profiles, settings)]
    # why: copies are one source, so they must not outweigh other reports when deciding what is one event.
    leads = [group[0] for group in copies]
    stories = []
    for members in _events(leads, articles, profiles, settings):
        groups = [copies[leads.index(m)] for m in members]
        ids = [articles[i].article.id for i in sorted(i for g in groups for i in g)]
        stories.append(Story(
            id=Story.make_id(ids),
            article_ids=ids,
            independent=[[articles[i].article.id for i in group] for group in groups],
        ))
    return sorted(stories, key=lambda s: (-s.independent_sources, -len(s.article_ids), s.id))


def _events(
    leads: list[int], articles: list[CleanArticle], profiles: list[_Profile], settings: GroupSettings
) -> list[list[int]]:
    """Cluster into topics, then each topic into events, weighing names by how rare they are within it.

    why: names every report of a topic shares (Biden, Ukraine) say nothing about which event a report
    is on; their weight must come from the topic, not from whatever else arrived that day.
    """
    def clusters(members: list[int], threshold: float) -> list[list[int]]:
        similarity = _Similarity.of([articles[i] for i in members], [profiles[i] for i in members], settings)
        return sorted([members[part[k]] for k in cluster] for part in similarity.components(threshold)
                      for cluster in _average_linkage(similarity.block(part, part), threshold))

    return [event for topic in clusters(leads, settings.topic_threshold)
            for event in (clusters(topic, settings.story_threshold) if len(topic) > 1 else [topic])]


@dataclass
class _Similarity:
    """Similarity among a set of articles: meaning (embeddings) blended with shared names, numbers and
    dates, zero for articles published too far apart; computed in blocks of rows, never as one n x n
    matrix, so a day of thousands of articles fits in memory.

    why: average linkage merges two clusters only when their mean similarity reaches the threshold,
    so only when some pair across them does; clustering each connected part of the graph of pairs at
    or above the threshold therefore gives exactly the clusters of the whole matrix.
    """

    vectors: np.ndarray
    entities: sparse.csr_matrix
    published: np.ndarray
    weight: float
    max_apart_s: float

    @classmethod
    def of(cls, articles: list[CleanArticle], profiles: list[_Profile], settings: GroupSettings) -> _Similarity:
        published = np.array([a.published.timestamp() if a.published else np.nan for a in articles])
        return cls(np.stack([p.vector for p in profiles]), _tfidf([p.terms for p in profiles]), published,
                   settings.entity_weight, settings.max_days_apart * 86400)

    def block(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """The similarity of these rows with these columns."""
        meaning = numerics.similarity(self.vectors[rows], self.vectors[columns])
        entities = (self.entities[rows] @ self.entities[columns].T).toarray()
        similarity = (1 - self.weight) * meaning + self.weight * entities
        apart = np.abs(self.published[rows][:, None] - self.published[columns][None, :]) > self.max_apart_s
        similarity[apart] = 0.0  # a comparison with an unknown date (nan) is False: never apart
        return numerics.blended(similarity)

    def components(self, threshold: float, rows_at_once: int = 512) -> list[np.ndarray]:
        """The connected parts of the graph of pairs at or above the threshold, each as sorted indices."""
        n = len(self.vectors)
        everyone = np.arange(n)
        linked = []
        for start in range(0, n, rows_at_once):
            rows = everyone[start:start + rows_at_once]
            i, j = np.nonzero(self.block(rows, everyone) >= threshold)
            linked.append((i + start, j))
        edges_from = np.concatenate([i for i, _ in linked]) if linked else np.array([], dtype=int)
        edges_to = np.concatenate([j for _, j in linked]) if linked else np.array([], dtype=int)
        graph = sparse.coo_matrix((np.ones(len(edges_from)), (edges_from, edges_to)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        return [np.flatnonzero(labels == label) for label in dict.fromkeys(labels)]


def _profile(article: CleanArticle, vectors: np.ndarray) -> _Profile:
    text = "\n".join(p.text for p in article.paragraphs)
    sents = [s for p in article.paragraphs for s in p.sentences]
    mean = vectors.mean(axis=0)
    terms: Counter[str] = Counter()
    skeleton: list[str] = []
    for sentence in sents:
        terms.update(_name_tokens(sentence))
        terms.update(f"#{n}" for n in numbers(sentence) if len(n.replace(".", "")) >= 2)
        terms.update(f"@{d}" for d in dates(sentence))
        skeleton += [m.lower() for m in re.findall(r"\b[A-Z][A-Za-z]{2,}\b|\d[\d,.]*\d|\d", sentence)
                     if m.lower() not in STOPWORDS]
    tokens = words(text)
    shingles = {tuple(tokens[i:i + _SHINGLE]) for i in range(len(tokens) - _SHINGLE + 1)}
    return _Profile(mean / (np.linalg.norm(mean) or 1.0), terms, skeleton, shingles)


def _name_tokens(sentence: str) -> set[str]:
    tokens = set()
    for name in proper_names(sentence):
        for token in re.split(r"[\s-]+", name.lower()):
            token = token.strip(".’'")
            if len(token) > 1 and token not in STOPWORDS and token not in _NAME_NOISE:
                tokens.add(token)
    return tokens


def _tfidf(bags: list[Counter[str]]) -> sparse.csr_matrix:
    """Tf-idf term vectors of unit length, one row per article; a term every article shares weighs least."""
    n = len(bags)
    df = Counter(term for bag in bags for term in bag)
    vocabulary = {term: k for k, term in enumerate(df)}
    rows, columns, values = [], [], []
    for i, bag in enumerate(bags):
        for term, count in bag.items():
            rows.append(i)
            columns.append(vocabulary[term])
            values.append(count * math.log((n + 1) / df[term]))
    matrix = sparse.csr_matrix((values, (rows, columns)), shape=(n, len(vocabulary)), dtype=np.float64)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.csr_matrix(sparse.diags(1.0 / np.where(norms == 0, 1.0, norms)) @ matrix)


def _average_linkage(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Merge the two closest clusters while their mean pairwise similarity reaches the threshold."""
    n = len(similarity)
    linkage = similarity.astype(float)
    np.fill_diagonal(linkage, -np.inf)
    sizes = np.ones(n)
    active = np.ones(n, dtype=bool)
    members = [[i] for i in range(n)]
    while active.sum() > 1:
        masked = np.where(active[:, None] & active[None, :], linkage, -np.inf)
        i, j = np.unravel_index(int(np.argmax(masked)), masked.shape)
        if masked[i, j] < threshold:
            break
        # why: the mean over all pairs of the merged cluster is the size-weighted mean of the two rows.
        linkage[i] = linkage[:, i] = (sizes[i] * linkage[i] + sizes[j] * linkage[j]) / (sizes[i] + sizes[j])
        linkage[i, i] = -np.inf
        sizes[i] += sizes[j]
        active[j] = False
        members[i] += members[j]
    return [sorted(members[k]) for k in range(n) if active[k]]


def _copies(profiles: list[_Profile], settings: GroupSettings) -> list[list[int]]:
    """Fold near-duplicates: same word runs (syndication) or same names and numbers in order (spinning).
    Only pairs that can reach either threshold are compared (prefix filtering), so a day of thousands
    of articles does not compare every pair, and the groups are exactly those all pairs would give."""
    parent = list(range(len(profiles)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    shingled = _similar_pairs([p.shingles for p in profiles], settings.copy_shingle_jaccard)
    skeletal = _similar_pairs([_pairs(p.skeleton) if len(p.skeleton) >= _SKELETON_MIN else set() for p in profiles],
                              settings.copy_skeleton_jaccard)
    for i, j in sorted(shingled | skeletal):
        if root(i) != root(j) and is_copy(profiles[i], profiles[j], settings):
            parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(profiles)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def is_copy(a: _Profile, b: _Profile, settings: GroupSettings) -> bool:
    """Tell whether two articles are one source: shared word runs, or a shared skeleton of names and numbers."""
    if _jaccard(a.shingles, b.shingles) >= settings.copy_shingle_jaccard:
        return True
    if min(len(a.skeleton), len(b.skeleton)) < _SKELETON_MIN:
        return False
    return _jaccard(_pairs(a.skeleton), _pairs(b.skeleton)) >= settings.copy_skeleton_jaccard


def _similar_pairs(sets: list[set[tuple[str, ...]]], threshold: float) -> set[tuple[int, int]]:
    """Every pair (i < j) of sets whose Jaccard similarity can reach `threshold`, and few others.

    why: two sets with Jaccard >= t share at least ceil(t * |x|) of x's members, so they share one
    among x's first |x| - ceil(t * |x|) + 1 members in any fixed order; ordered rarest first, those
    prefixes are short lists of rare members, and only sets meeting in them are candidates.
    """
    frequency = Counter(member for members in sets for member in members)
    holders: dict[tuple[str, ...], list[int]] = {}
    pairs: set[tuple[int, int]] = set()
    for i, members in enumerate(sets):
        shared_at_least = math.ceil(threshold * len(members) - 1e-9)  # why: 0.6 * 5 is 3.0000000000000004
        for member in sorted(members, key=lambda m: (frequency[m], m))[:len(members) - shared_at_least + 1]:
            seen = holders.setdefault(member, [])
            pairs.update((j, i) for j in seen)
            seen.append(i)
    return pairs


def _pairs(sequence: list[str]) -> set[tuple[str, ...]]:
    return {tuple(sequence[i:i + 2]) for i in range(len(sequence) - 1)}


def _jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
