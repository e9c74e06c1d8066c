"""Preparing a batch once, and what the LLM reads of it (no LLM)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from service.chunk import count_tokens
from service.console import terminal_progress
from service.models import DROPPED_TEXT_CHARS, Article
from service.pipeline.prepare import Corpus, prepare
from service.pipeline.read import reading
from service.pipeline.salience import REDUNDANT
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def corpus(example_articles: list[Article]) -> Corpus:
    return prepare(example_articles, make_settings())


def _read(corpus: Corpus, budget: int) -> tuple[list, list[str]]:
    articles = corpus.briefed(corpus.stories)
    index = corpus.index.subset([a.article.id for a in articles])
    read = reading(articles, index, budget, "cl100k_base")
    return read, [s for a in read for p in a.paragraphs for s in p.sentences]


def test_paragraphs_are_split_once_and_every_stage_reads_those_sentences(corpus: Corpus) -> None:
    indexed = [s.text for s in corpus.index.sentences]
    split = [s for a in corpus.articles for p in a.paragraphs for s in p.sentences]
    assert indexed == split and len(indexed) == len(corpus.index.vectors)  # type: ignore[arg-type]
    assert corpus.index.vectors_of(corpus.articles[0].article.id).shape[0] == sum(
        len(p.sentences) for p in corpus.articles[0].paragraphs
    )


def test_a_story_briefs_one_copy_per_independent_source(corpus: Corpus) -> None:
    story = corpus.stories[0]
    briefed = corpus.briefed([story])
    assert [a.article.id for a in briefed] == [g[0] for g in story.independent if g[0] in {
        a.article.id for a in corpus.articles}]
    assert corpus.disagreements[story.id][0].about == "ATACMS range"


def test_the_llm_reads_the_most_salient_distinct_sentences_within_the_budget(corpus: Corpus) -> None:
    everything = sum(count_tokens(s.text) for s in corpus.index.sentences)
    read, sentences = _read(corpus, 1600)
    assert sum(count_tokens(s) for s in sentences) <= 1600 < everything
    vectors = corpus.embedder.encode(sentences)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0)
    assert similarity.max() < REDUNDANT  # no sentence restates another
    for article in read:  # paragraph numbers (provenance) and order are the source's
        original = next(a for a in corpus.articles if a.article.id == article.article.id)
        numbers = [p.index for p in article.paragraphs]
        assert numbers == sorted(numbers) and set(numbers) <= {p.index for p in original.paragraphs}
    leads = {a.article.id: a.paragraphs[0].sentences[0] for a in corpus.articles}
    unflagged = [a.article.id for a in corpus.articles if not a.flags]
    assert all(leads[a] in sentences for a in unflagged)  # each clean source's lead is read


def test_a_budget_of_zero_or_above_the_text_reads_everything(corpus: Corpus) -> None:
    articles = corpus.briefed(corpus.stories)
    assert _read(corpus, 0)[0] == articles
    assert _read(corpus, 100_000)[0] == articles


def test_progress_is_plain_lines_off_a_terminal_and_bars_on_one() -> None:
    plain = io.StringIO()
    with terminal_progress(plain) as progress:
        progress.note("read 4 articles")
        for done in range(0, 21):
            progress.step("map chunks", done, 20)
    lines = plain.getvalue().splitlines()
    assert lines[0] == "briefing: read 4 articles"
    assert lines[-1] == "briefing: map chunks: 20/20" and len(lines) <= 13  # a line per tenth, not per step

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    drawn = Terminal()
    with terminal_progress(drawn) as progress:
        progress.step("map chunks", 3, 4)
    assert "map chunks" in drawn.getvalue() and "3/4" in drawn.getvalue() and "briefing: map" not in drawn.getvalue()


def test_one_long_article_is_read_only_up_to_its_sentence_bound() -> None:
    line = "Officials counted {n} ballots in district {n} on Sunday, the commission said."
    text = "\n\n".join(line.format(n=n) for n in range(50))
    settings = make_settings()
    settings.pipeline.max_article_sentences = 20
    corpus = prepare([Article(id=Article.make_id(text), text=text)], settings)
    [article] = corpus.articles
    assert [p.index for p in article.paragraphs] == list(range(1, 21)) and len(corpus.index.sentences) == 20
    [tail] = article.dropped  # one entry for the whole tail, however long
    assert (tail.paragraph, tail.paragraphs) == (21, 30) and "the cost bound of one article" in tail.reason
    assert tail.text.startswith(line.format(n=20)) and len(tail.text) <= DROPPED_TEXT_CHARS
    one_line = " ".join(line.format(n=n) for n in range(50))
    [single] = prepare([Article(id=Article.make_id(one_line), text=one_line)], settings).articles
    assert len(single.paragraphs[0].sentences) == 20
    assert single.dropped[0].text.startswith("Officials counted 20 ballots")  # the rest is listed, not lost
