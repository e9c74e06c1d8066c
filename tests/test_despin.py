"""Undoing a word spinner's substitutes in articles flagged as spun (service/despin.py)."""

from __future__ import annotations

from service.despin import restore
from service.models import Article
from service.pipeline.prepare import prepare
from tests.conftest import make_settings


def test_substitutes_are_undone_with_their_case_kept() -> None:
    text, restored = restore("Nan officials person said connected Tuesday that nan missiles hit astatine Bryansk.")
    assert text == "The officials have said on Tuesday that the missiles hit at Bryansk."
    assert restored == {"nan": 2, "person": 1, "connected": 1, "astatine": 1}


def test_a_noun_in_a_noun_place_is_left_alone() -> None:
    text, restored = restore("A person and each person were there.")
    assert text == "A person and each person were there." and not restored


def test_a_spun_article_is_briefed_restored_and_keeps_its_flag(example_articles: list[Article]) -> None:
    corpus = prepare(example_articles, make_settings())
    spun = corpus.articles[3]
    said = [s for p in spun.paragraphs for s in p.sentences]
    assert "Moscow also said on Tuesday that six ATACMS had been fired at its Bryansk region, in what it said " \
        "represented a “new phase” in the war." in said
    assert not any(" nan " in s for s in said)
    assert [f.kind for f in spun.flags] == ["word-spun"] and "restored" in spun.flags[0].note
    assert not corpus.index.spun_words("The missiles had been fired at the region.")


def test_an_article_not_flagged_as_spun_is_left_as_written() -> None:
    text = "The launch was successful, the management said, and the company will usage-test it. " * 30
    corpus = prepare([Article(id="a", origin="a.txt", text=text)], make_settings())
    assert " ".join(p.text for p in corpus.articles[0].paragraphs) == " ".join(text.split())
    assert not corpus.articles[0].flags
