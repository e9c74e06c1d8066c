"""Prepare a batch once: clean, split and embed its sentences, group its stories, find disagreements.

Everything here is done once per batch, whatever is briefed from it afterwards: the CLI and the API
brief the whole corpus, the digest each of its stories, and none of them cleans, splits or embeds
a text again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from service.addressed import get_address_model
from service.clean import clean_article, paragraphs_of
from service.disagree import find_disagreements
from service.embeddings import DIMENSIONS, ArticleVectors, Embedder, get_embedder
from service.fidelity.sources import SourceIndex
from service.group import group_stories
from service.models import DROPPED_TEXT_CHARS, Article, CleanArticle, Disagreement, Dropped, Paragraph, Skipped, Story
from service.progress import QUIET, Progress
from service.settings import Settings


@dataclass(frozen=True)
class Corpus:
    """A prepared batch: the articles kept after cleaning (in input order), what was left out, every
    kept sentence embedded (and the embedder, for the claims checked against them), the stories
    ranked by independent sources, and each story's disagreements."""

    articles: list[CleanArticle]
    skipped: list[Skipped]
    index: SourceIndex
    embedder: Embedder
    stories: list[Story]
    disagreements: dict[str, list[Disagreement]]

    def briefed(self, stories: list[Story]) -> list[CleanArticle]:
        """Return the articles a briefing of these stories reads: one copy per independent source
        (its cleanest), since the other copies hold the same facts."""
        leads = {group[0] for story in stories for group in story.independent}
        return [a for a in self.articles if a.article.id in leads]

    def prepared(self, story: Story) -> PreparedStory:
        """What a briefing of one story reads of this corpus, to brief it in another process."""
        return PreparedStory(story=story, articles=self.briefed([story]), disagreements=self.disagreements[story.id],
                             odd_words=sorted(self.index.odd_words))


class PreparedStory(BaseModel):
    """One story of a prepared batch, with all its briefing reads but the sentence vectors (stored
    with the articles): small enough to send to a worker, which need not prepare the batch again."""

    story: Story
    articles: list[CleanArticle] = Field(description="The cleaned articles briefed: one per independent source.")
    disagreements: list[Disagreement] = Field(default_factory=list)
    odd_words: list[str] = Field(default_factory=list, description="Spinner substitutes found across the batch.")


def story_corpus(
    prepared: PreparedStory, settings: Settings, *, embedder: Embedder, stored: Mapping[str, ArticleVectors],
) -> Corpus:
    """The corpus of one story prepared elsewhere, its sentence vectors those `stored` (any missing embedded)."""
    articles = [c.article for c in prepared.articles]
    sentences_of = {a.id: _sentences(a, settings) for a in articles}
    by_article = _vectors(sentences_of, embedder, stored, QUIET)
    vectors = {s: row for a, v in by_article.items() for s, row in zip(sentences_of[a], v.vectors, strict=True)}
    index = SourceIndex.build(prepared.articles)
    index.odd_words = set(prepared.odd_words)
    index.vectors = _rows([s.text for s in index.sentences], vectors)
    return Corpus(articles=prepared.articles, skipped=[], index=index, embedder=embedder, stories=[prepared.story],
                  disagreements={prepared.story.id: prepared.disagreements})


def prepare(
    articles: list[Article],
    settings: Settings,
    *,
    skipped: list[Skipped] | None = None,
    embedder: Embedder | None = None,
    stored: Mapping[str, ArticleVectors] | None = None,
    keep: Callable[[dict[str, ArticleVectors]], object] | None = None,
    progress: Progress = QUIET,
) -> Corpus:
    """Embed every sentence once (none of an article whose vectors are `stored` for the same
    sentences), clean the articles (dropping paragraphs addressed to an AI or the reader), group
    stories and find disagreements. `keep` is handed the vectors embedded here, before grouping, so
    that they are stored without the corpus holding them."""
    skipped = list(skipped or [])
    embedder = embedder or get_embedder()
    # why: in a helper, so that a day of 10,000 articles holds its vectors once (the index's) while grouping
    cleaned, index = _cleaned(articles, settings, embedder, stored or {}, keep, skipped, progress)
    stories = group_stories(cleaned, {c.article.id: index.vectors_of(c.article.id) for c in cleaned}, settings.group)
    by_id = {c.article.id: c for c in cleaned}
    # why: copies state the same figures; one copy per independent source keeps a source from outvoting others.
    disagreements = {s.id: find_disagreements([by_id[g[0]] for g in s.independent]) for s in stories}
    return Corpus(
        articles=cleaned, skipped=skipped, index=index, embedder=embedder, stories=stories,
        disagreements=disagreements,
    )


def _cleaned(
    articles: list[Article], settings: Settings, embedder: Embedder, stored: Mapping[str, ArticleVectors],
    keep: Callable[[dict[str, ArticleVectors]], object] | None, skipped: list[Skipped], progress: Progress,
) -> tuple[list[CleanArticle], SourceIndex]:
    """The articles kept after cleaning (the rest added to `skipped`), and their embedded source index."""
    split, cut = {}, {}
    for article in articles:
        split[article.id], cut[article.id] = _bounded(article, settings.pipeline.max_article_sentences)
    sentences_of = {a: [s for p in paragraphs for s in p.sentences] for a, paragraphs in split.items()}
    # why: every sentence is embedded once, here: the address model reads the vectors while
    # cleaning, and the kept sentences' vectors become the source index
    by_article = _vectors(sentences_of, embedder, stored, progress)
    if keep is not None:  # why: only the vectors embedded here, not those handed in
        keep({a: v for a, v in by_article.items() if stored.get(a) is not v})
    vectors = {s: row for a, v in by_article.items() for s, row in zip(sentences_of[a], v.vectors, strict=True)}
    model = get_address_model()

    def addressed(sentence: str) -> bool:
        return model.addressed(sentence, vectors[sentence])

    cleaned = []
    for article in articles:
        result = clean_article(article, addressed, split[article.id])
        result.dropped += cut[article.id]
        if result.paragraphs:
            cleaned.append(result)
        else:
            reason = f"nothing left after cleaning: {_why_dropped(result.dropped)}"
            skipped.append(Skipped(origin=article.origin, reason=reason))
            progress.note(f"skipped {article.origin}: {reason}")
    index = SourceIndex.build(cleaned)
    index.vectors = _rows([s.text for s in index.sentences], vectors)
    return cleaned, index


def sentence_vectors(
    articles: list[Article], settings: Settings, *, embedder: Embedder,
    stored: Mapping[str, ArticleVectors] | None = None,
) -> dict[str, ArticleVectors]:
    """Each article's sentence vectors, the sentences split as `prepare` splits them: a chunk of a
    day's articles embedded apart (on another worker), to be passed to `prepare` as `stored`."""
    sentences_of = {a.id: _sentences(a, settings) for a in articles}
    return _vectors(sentences_of, embedder, stored or {}, QUIET)


def _sentences(article: Article, settings: Settings) -> list[str]:
    return [s for p in _bounded(article, settings.pipeline.max_article_sentences)[0] for s in p.sentences]


def _vectors(
    sentences_of: dict[str, list[str]], embedder: Embedder, stored: Mapping[str, ArticleVectors], progress: Progress
) -> dict[str, ArticleVectors]:
    """Stored vectors where they are of the same sentences; the rest embedded, each distinct sentence once."""
    kept = {a: v for a, v in stored.items()
            if a in sentences_of and v.sentences_key == ArticleVectors.key(sentences_of[a])}
    vectors = {s: row for a, v in kept.items() for s, row in zip(sentences_of[a], v.vectors, strict=True)}
    fresh = (s for a, said in sentences_of.items() if a not in kept for s in said)
    texts = [s for s in dict.fromkeys(fresh) if s not in vectors]
    progress.note(f"embedding {len(texts)} sentences of {len(sentences_of) - len(kept)} articles "
                  f"({len(kept)} articles' vectors kept from before)")
    vectors.update(zip(texts, embedder.encode(texts), strict=True))
    return {a: kept.get(a) or ArticleVectors(ArticleVectors.key(said), _rows(said, vectors))
            for a, said in sentences_of.items()}


def _rows(sentences: list[str], vectors: dict[str, np.ndarray]) -> np.ndarray:
    return np.stack([vectors[s] for s in sentences]) if sentences else np.zeros((0, DIMENSIONS), dtype=np.float32)


def _bounded(article: Article, most: int) -> tuple[list[Paragraph], list[Dropped]]:
    """The article's paragraphs up to `most` sentences, and the rest as dropped: one article's
    cost (embedding, grouping, verification) is bounded whatever its length."""
    paragraphs = paragraphs_of(article)
    reason = f"beyond the first {most} sentences of the article (the cost bound of one article)"
    kept: list[Paragraph] = []
    cut: list[Dropped] = []
    count = 0
    for paragraph in paragraphs:
        count += len(paragraph.sentences)
        if count > most:
            if not kept:  # why: one paragraph of endless sentences is cut inside it
                head, rest = paragraph.sentences[:most], paragraph.sentences[most:]
                kept.append(paragraph.model_copy(update={"text": " ".join(head), "sentences": head}))
                text = " ".join(_first(rest, DROPPED_TEXT_CHARS))
                cut.append(Dropped(source=article.id, paragraph=paragraph.index, text=text, reason=reason))
            break
        kept.append(paragraph)
    if tail := paragraphs[len(kept):]:  # why: one entry for the whole tail (a 50 MB file has 354,302 paragraphs)
        text = " ".join(_first((p.text for p in tail), DROPPED_TEXT_CHARS))
        cut.append(Dropped(source=article.id, paragraph=tail[0].index, paragraphs=len(tail), text=text, reason=reason))
    return kept, cut


def _why_dropped(dropped: list[Dropped], most: int = 3) -> str:
    """Paragraphs dropped by reason, e.g. '1 paragraph: addressed to an AI or the reader, not news (...)'."""
    counts: Counter[str] = Counter()
    for drop in dropped:
        counts[drop.reason] += drop.paragraphs
    said = [f"{n} paragraph{'s' * (n != 1)}: {reason}" for reason, n in counts.most_common(most)]
    return "; ".join(said) + (f"; {len(counts) - most} more reasons" if len(counts) > most else "")


def _first(texts: Iterable[str], chars: int) -> Iterator[str]:
    """The first texts, until they hold `chars` characters in all."""
    for text in texts:
        yield text
        chars -= len(text) + 1
        if chars <= 0:
            return
