"""The source side of verification: every kept sentence, its article and paragraph, embedded once."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from service.embeddings import Embedder
from service.models import CleanArticle, Flag
from service.text import STOPWORDS, words


@dataclass(frozen=True)
class SourceSentence:
    """One sentence of a kept paragraph."""

    article_id: str
    paragraph: int
    position: int
    text: str


@dataclass
class SourceIndex:
    """Kept source sentences of a batch with their lexical profiles and embeddings."""

    sentences: list[SourceSentence]
    flags: dict[str, list[Flag]]
    texts: dict[str, str] = field(default_factory=dict)
    odd_words: set[str] = field(default_factory=set)
    vectors: np.ndarray | None = None
    # why: several stages rank the same index's sentences (reading, the fallback, the timeline, the
    # title); pipeline.salience scores them once per index and keeps the scores here
    salience: np.ndarray | None = field(default=None, repr=False, compare=False)
    _rows: dict[str, list[int]] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_texts(cls, texts: dict[str, str]) -> SourceIndex:
        """Index raw source texts by id: every paragraph kept, quality flags computed."""
        from service.clean import quality_flags, split_paragraphs
        from service.models import Article, Paragraph

        articles = [
            CleanArticle(
                article=Article(id=aid, text=text),
                paragraphs=[
                    Paragraph(article_id=aid, index=i, text=p) for i, p in enumerate(split_paragraphs(text), 1)
                ],
                flags=quality_flags(text),
            )
            for aid, text in texts.items()
            if text.strip()
        ]
        return cls.build(articles)

    @classmethod
    def build(cls, articles: list[CleanArticle]) -> SourceIndex:
        """Index the kept paragraphs of cleaned articles (no embeddings yet)."""
        items: list[SourceSentence] = []
        index = cls(sentences=items, flags={a.article.id: a.flags for a in articles})
        for art in articles:
            aid = art.article.id
            index.texts[aid] = " ".join(p.text for p in art.paragraphs)
            position = 0
            for para in art.paragraphs:
                for sentence in para.sentences:
                    items.append(SourceSentence(aid, para.index, position, sentence))
                    position += 1
        index.odd_words = _spinner_words(articles)
        return index

    def embed(self, embedder: Embedder) -> None:
        """Embed every source sentence (once)."""
        if self.vectors is None:
            self.vectors = embedder.encode([s.text for s in self.sentences])

    @property
    def article_ids(self) -> list[str]:
        """Return the indexed article ids in order."""
        return list(self.texts)

    def spun_words(self, text: str) -> list[str]:
        """Return the words of text that a word spinner substituted in some source."""
        return sorted(set(words(text)) & self.odd_words)

    def subset(self, article_ids: list[str]) -> SourceIndex:
        """Return the index of some of its articles, sharing their sentences and vectors (no re-embedding);
        spinner substitutes stay those found against the whole batch."""
        wanted = set(article_ids)
        rows = self.rows_of(article_ids)
        return SourceIndex(
            sentences=[self.sentences[r] for r in rows],
            flags={a: f for a, f in self.flags.items() if a in wanted},
            texts={a: t for a, t in self.texts.items() if a in wanted},
            odd_words=self.odd_words,
            vectors=self.vectors[rows] if self.vectors is not None else None,
        )

    def vectors_of(self, article_id: str) -> np.ndarray:
        """Return the sentence vectors of one article (the index must be embedded)."""
        assert self.vectors is not None, "embed the index first"
        return self.vectors[self.rows_of([article_id])]

    def rows_of(self, article_ids: list[str]) -> np.ndarray:
        """Return the row numbers of the sentences of the given articles."""
        if self._rows is None:  # why: a day of thousands of articles asks once per article
            self._rows = {}
            for i, s in enumerate(self.sentences):
                self._rows.setdefault(s.article_id, []).append(i)
        return np.array(sorted(i for a in dict.fromkeys(article_ids) for i in self._rows.get(a, [])), dtype=int)


# Substitutes of the common article spinner that are not English where it puts them ("astatine"
# for "at", "immoderate" for "any"): garbled wherever a spun source has them, however rare.
SPINNER_SUBSTITUTES = frozenset(
    "nan astatine pinch arsenic beryllium astir aft immoderate whitethorn conscionable ain benignant "
    "aforesaid argumentation reddish extremity manus imaginable antagonistic onshore astonishment nary "
    "beingness caller erstwhile usage".split()
)


def _spinner_words(articles: list[CleanArticle]) -> set[str]:
    """Find the substitutes a spinner put in a source flagged word-spun ('nan' for 'the'): known ones,
    and any it overused (frequent, never capitalised); none that an unspun source uses."""
    spun = [a for a in articles if any(f.kind == "word-spun" for f in a.flags)]
    plain_words = {w for a in articles if a not in spun for w in words(a.article.text)}
    odd: set[str] = set()
    for art in spun:
        tokens = words(art.article.text)
        counts = Counter(tokens)
        capitalised = {w.lower() for w in re.findall(r"\b[A-Z][a-z]+", art.article.text)}
        odd |= {
            w for w, n in counts.items()
            if n / len(tokens) >= 0.005 and w not in STOPWORDS and w not in capitalised and len(w) > 2
        }
        odd |= SPINNER_SUBSTITUTES & set(counts)
    return odd - plain_words
