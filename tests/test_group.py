"""Story grouping and disagreements, on the example articles and on constructed cases (no LLM)."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from service import group as group_module
from service.clean import clean_article
from service.disagree import disputed, find_disagreements
from service.embeddings import Embedder, get_embedder
from service.fidelity.sources import SourceIndex
from service.group import group_stories
from service.ingest import ingest_paths
from service.models import Article, CleanArticle, Story
from service.settings import GroupSettings
from tests.conftest import EXAMPLES, ROOT, addressed

NEWS = ROOT / "evals" / "data" / "faithfulness" / "summedits_news.json"  # 25 news documents
# A word spinner's substitutions, as seen in example 003.
SPIN = {"the": "nan", "in": "successful", "with": "pinch", "about": "astir", "use": "usage", "have": "person",
        "be": "beryllium", "range": "scope", "inside": "wrong", "just": "conscionable", "left": "near"}
FOOTBALL = (
    "Arsenal beat Manchester City 2-1 at the Emirates Stadium on Sunday, with Bukayo Saka scoring the winner "
    "in the 88th minute.\nMikel Arteta said his side had shown character after Erling Haaland equalised "
    "for City early in the second half.\nThe win lifts Arsenal to 31 points, two clear of Liverpool at the top "
    "of the Premier League table."
)
RATES = (
    "The European Central Bank cut its deposit rate by 25 basis points to 3.25% on Thursday, its third cut "
    "this year.\nChristine Lagarde told reporters in Frankfurt that inflation in the euro area was close to "
    "the bank's 2% target.\nEconomists at Deutsche Bank and BNP Paribas expect another cut in December."
)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="module")
def examples() -> list[CleanArticle]:
    return [clean_article(a, addressed) for a in ingest_paths([EXAMPLES]).articles]


def _article(text: str, **fields: object) -> CleanArticle:
    return clean_article(Article(id=Article.make_id(text), text=text, **fields), addressed)  # type: ignore[arg-type]


def _group(batch: list[CleanArticle], embedder: Embedder) -> list[Story]:
    index = SourceIndex.build(batch)
    index.embed(embedder)
    return group_stories(batch, {a.article.id: index.vectors_of(a.article.id) for a in batch}, GroupSettings())


def _spin(text: str) -> str:
    return re.sub(r"\b[a-z]+\b", lambda m: SPIN.get(m.group(0), m.group(0)), text)


def _ids(stories: list, articles: list[CleanArticle]) -> list[set[int]]:
    number = {a.article.id: n for n, a in enumerate(articles)}
    return [{number[i] for i in s.article_ids} for s in stories]


def test_the_example_articles_form_two_stories_ranked_by_sources(
    examples: list[CleanArticle], embedder: Embedder
) -> None:
    stories = _group(examples, embedder)
    assert _ids(stories, examples) == [{1, 2, 3}, {0}]  # November authorisation first: three sources
    assert [s.independent_sources for s in stories] == [3, 1]


def test_syndicated_and_spun_copies_count_as_one_source(examples: list[CleanArticle], embedder: Embedder) -> None:
    rewrite = examples[2].article.text
    syndicated = _article("Reprinted with permission.\n" + rewrite + "\nCopyright 2024 Example Wire.")
    spun = _article(_spin(rewrite))
    assert any(f.kind == "word-spun" for f in spun.flags)
    batch = [*examples, syndicated, spun]
    stories = _group(batch, embedder)
    assert _ids(stories, batch) == [{1, 2, 3, 4, 5}, {0}]
    number = {a.article.id: n for n, a in enumerate(batch)}
    assert sorted(sorted(number[i] for i in group) for group in stories[0].independent) == [[1], [2, 4, 5], [3]]
    assert stories[0].independent_sources == 3


def test_unrelated_news_stays_apart(examples: list[CleanArticle], embedder: Embedder) -> None:
    batch = [*examples, _article(FOOTBALL), _article(RATES)]
    stories = _group(batch, embedder)
    assert sorted(map(sorted, _ids(stories, batch))) == [[0], [1, 2, 3], [4], [5]]


def test_articles_published_far_apart_are_different_stories(
    examples: list[CleanArticle], embedder: Embedder
) -> None:
    day = datetime(2024, 11, 18, tzinfo=UTC)
    texts = [examples[1].article.text, examples[2].article.text]
    close = [_article(t, published=day + timedelta(hours=n)) for n, t in enumerate(texts)]
    apart = [close[0], _article(texts[1], published=day + timedelta(days=30))]
    assert len(_group(close, embedder)) == 1
    assert len(_group(apart, embedder)) == 2


def test_the_atacms_range_dispute_is_found_with_each_value_and_its_sources(examples: list[CleanArticle]) -> None:
    ids = [a.article.id for a in examples]
    [dispute] = find_disagreements(examples[1:])
    assert dispute.about == "ATACMS range"
    assert [(c.text, c.sources) for c in dispute.claims] == [
        ("300km (190 miles)", [ids[2], ids[3]]),  # 190 miles is about 306 km: the same value
        ("100 km", [ids[1]]),
    ]


def test_agreeing_sources_and_other_subjects_are_not_disputes(examples: list[CleanArticle]) -> None:
    assert find_disagreements(examples[2:]) == []  # 190 miles and 300km agree; HIMARS' 65km is another weapon
    assert find_disagreements(examples[1:2]) == []  # one source cannot disagree with itself


def test_money_and_count_disputes_need_the_same_thing_measured() -> None:
    a = _article("Pentagon officials said the package is worth $300m and includes 40 tanks.")
    b = _article("The package, worth $250 million according to the Pentagon, includes 40 tanks.")
    c = _article("Over 50,000 Russian and North Korean troops are massed near Kursk.")
    d = _article("About 10,000 North Korean soldiers have been deployed near Kursk.")
    [money] = find_disagreements([a, b])
    assert money.about == "Pentagon amount"
    claims = [(cl.text, cl.sources) for cl in money.claims]
    assert claims == [("$300m", [a.article.id]), ("$250 million", [b.article.id])]
    assert find_disagreements([c, d]) == []  # different troops counted


def test_one_source_giving_two_values_is_not_a_dispute() -> None:
    a = _article("Russia launched 120 missiles overnight, officials said. Later reports put it at 200 missiles.")
    b = _article("Officials said Russia launched 120 missiles overnight.")
    assert find_disagreements([a, b]) == []


FOOTBALL_OTHER_OUTLET = (
    "Bukayo Saka struck two minutes from time as Arsenal edged Manchester City 2-1 in the Premier League on "
    "Sunday.\nErling Haaland had levelled for City after the break at the Emirates Stadium.\nArteta praised "
    "the character of his players; Arsenal now have 31 points, two more than Liverpool."
)


def test_stories_rank_by_independent_sources_not_by_copies(embedder: Embedder) -> None:
    wire = [_article(RATES + suffix) for suffix in ("", "\nReporting by a wire service.", "\nSyndicated.")]
    reports = [_article(FOOTBALL), _article(FOOTBALL_OTHER_OUTLET)]
    batch = [*wire, *reports]
    stories = _group(batch, embedder)
    assert _ids(stories, batch) == [{3, 4}, {0, 1, 2}]  # two outlets outrank one story syndicated three times
    assert [(s.independent_sources, len(s.article_ids)) for s in stories] == [(2, 2), (1, 3)]


def test_a_sentence_stating_one_side_of_a_dispute_is_marked(examples: list[CleanArticle]) -> None:
    found = find_disagreements(examples[1:])
    assert disputed("The missiles have a range of 300 km, officials said.", found) == ["ATACMS range"]
    assert disputed("ATACMS can reach about 62 miles.", found) == ["ATACMS range"]  # 100 km
    assert disputed("HIMARS has a range of 40 miles.", found) == []
    assert disputed("Biden authorised their use on Sunday.", found) == []


def test_copies_are_found_without_comparing_every_pair_and_as_all_pairs_would(
    examples: list[CleanArticle], monkeypatch: pytest.MonkeyPatch
) -> None:
    news = sorted({e["doc"] for e in json.loads(NEWS.read_text(encoding="utf-8"))})
    texts = [a.article.text for a in examples] + news
    variants = []
    for n, text in enumerate(texts):
        lines = text.splitlines()
        variants += [
            "Reprinted with permission.\n" + text,  # syndicated
            _spin(text),  # spun
            "\n".join(lines[: max(1, len(lines) * 2 // 3)]),  # cut short
            "\n".join(line for k, line in enumerate(lines) if k % 3 != n % 3),  # a third of the lines dropped
        ]
    batch = [_article(t) for t in texts + variants]
    profiles = [group_module._profile(a, np.ones((1, 4))) for a in batch]
    settings = GroupSettings()
    every_pair = list(range(len(batch)))
    for i, j in itertools.combinations(range(len(batch)), 2):
        if group_module.is_copy(profiles[i], profiles[j], settings):
            old, new = every_pair[j], every_pair[i]
            every_pair = [new if r == old else r for r in every_pair]
    expected = sorted(sorted(k for k in range(len(batch)) if every_pair[k] == r) for r in set(every_pair))
    compared = 0
    real = group_module.is_copy

    def counted(*args: object) -> bool:
        nonlocal compared
        compared += 1
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(group_module, "is_copy", counted)
    found = sorted(sorted(g) for g in group_module._copies(profiles, settings))
    assert found == expected and sum(len(g) > 1 for g in expected) >= 20
    assert compared < len(batch) * (len(batch) - 1) / 2 / 10  # a small share of the 10,585 pairs


@pytest.mark.parametrize("threshold", [GroupSettings().topic_threshold, GroupSettings().story_threshold])
def test_clustering_by_parts_in_blocks_of_rows_gives_the_clusters_of_the_whole_matrix(
    examples: list[CleanArticle], embedder: Embedder, threshold: float
) -> None:
    news = sorted({e["doc"] for e in json.loads(NEWS.read_text(encoding="utf-8"))})
    day = datetime(2024, 11, 18, tzinfo=UTC)
    batch = [*examples, _article(FOOTBALL), _article(RATES, published=day)] + [
        _article(text, published=day + timedelta(days=n % 5)) for n, text in enumerate(news)
    ]
    index = SourceIndex.build(batch)
    index.embed(embedder)
    profiles = [group_module._profile(a, index.vectors_of(a.article.id)) for a in batch]
    similarity = group_module._Similarity.of(batch, profiles, GroupSettings())
    everyone = np.arange(len(batch))
    whole = group_module._average_linkage(similarity.block(everyone, everyone), threshold)
    parts = similarity.components(threshold, rows_at_once=7)
    assert sum(map(len, parts)) == len(batch) and len(parts) > 1
    by_parts = [[int(part[k]) for k in c] for part in parts
                for c in group_module._average_linkage(similarity.block(part, part), threshold)]
    assert sorted(by_parts) == sorted(whole) and any(len(c) > 1 for c in whole)
