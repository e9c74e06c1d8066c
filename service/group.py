"""Group cleaned articles into stories (one event each) and fold copies into independent sources."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

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
        similarity = _similarity([articles[i] for i in members], [profiles[i] for i in members], settings)
        return [[members[k] for k in cluster] for cluster in _average_linkage(similarity, threshold)]

    return [event for topic in clusters(leads, settings.topic_threshold)
            for event in (clusters(topic, settings.story_threshold) if len(topic) > 1 else [topic])]


def _similarity(
    articles: list[CleanArticle], profiles: list[_Profile], settings: GroupSettings
) -> np.ndarray:
    """Return pairwise similarity: meaning (embeddings) blended with shared names, numbers and dates."""
    vectors = np.stack([p.vector for p in profiles])
    meaning = numerics.similarity(vectors, vectors)
    entities = _tfidf_cosine([p.terms for p in profiles])
    weight = settings.entity_weight
    similarity = (1 - weight) * meaning + weight * entities
    published = [a.article.published for a in articles]
    for i, j in zip(*np.triu_indices(len(articles), 1), strict=True):
        a, b = published[i], published[j]
        if a and b and abs((a - b).total_seconds()) > settings.max_days_apart * 86400:
            similarity[i, j] = similarity[j, i] = 0.0
    return numerics.blended(similarity)


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


def _tfidf_cosine(bags: list[Counter[str]]) -> np.ndarray:
    """Cosine of tf-idf term vectors; a term every article shares weighs least."""
    n = len(bags)
    df = Counter(term for bag in bags for term in bag)
    vocabulary = {term: k for k, term in enumerate(df)}
    matrix = np.zeros((n, len(vocabulary)))
    for i, bag in enumerate(bags):
        for term, count in bag.items():
            matrix[i, vocabulary[term]] = count * math.log((n + 1) / df[term])
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms == 0, 1.0, norms)
    return matrix @ matrix.T


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
    """Fold near-duplicates: same word runs (syndication) or same names and numbers in order (spinning)."""
    parent = list(range(len(profiles)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(profiles)):
        for j in range(i + 1, len(profiles)):
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
    if min(len(a.skeleton), len(b.skeleton)) < 8:
        return False
    return _jaccard(_pairs(a.skeleton), _pairs(b.skeleton)) >= settings.copy_skeleton_jaccard


def _pairs(sequence: list[str]) -> set[tuple[str, ...]]:
    return {tuple(sequence[i:i + 2]) for i in range(len(sequence) - 1)}


def _jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
