"""Damaged wording (a word spinner's substitutes, a translation's debris) never ships as a quote:
undone where its context gives one reading, else the sentence does not ship."""

from __future__ import annotations

import pytest

from service.fidelity.damage import mend
from service.ingest import ingest_paths
from service.neutral import damage_problem, neutral_form, point_problem, source_origin
from service.pipeline.extract import as_shipped, best_sentences
from service.pipeline.prepare import prepare
from service.pipeline.timeline import timeline
from service.text import numbers, sentences
from tests.conftest import EXAMPLES, make_settings

# (damaged, as it reads undone): the examples' own, then cases written for this test
MENDED = [
    ("the Senate voted to approve it by a margin of 78 votes in favor and 18 once morest.",
     "the Senate voted to approve it by a margin of 78 votes in favor and 18 against."),
    ("Mr. Biden said would be dispatched “within hours” following he signed a $95bn bill.",
     "Mr. Biden said would be dispatched “within hours” after he signed a $95bn bill."),
    ("less than 24 hours following the Senate voted to approve it.",
     "less than 24 hours after the Senate voted to approve it."),
    ("just following he’d signed the legislation.", "just after he’d signed the legislation."),
    ("“It will mean only one thing: the direct participation of the United States,” he said. said Slutsky.",
     "“It will mean only one thing: the direct participation of the United States,” said Slutsky."),
    ("Following they left the talks, the ministers met again.", "After they left the talks, the ministers met again."),
    ("Officials said nan strike hit a depot astatine dawn.", "Officials said the strike hit a depot at dawn."),
    ("The mayor conscionable resigned following her deputy was arrested.",
     "The mayor just resigned after her deputy was arrested."),
]
# English that looks like a substitute and is not one
UNDAMAGED = [
    "Following the vote, the Senate adjourned until Monday.",
    "The protests following the decision grew over the weekend.",
    "Nan Goldin opened the exhibition in Berlin.",
    "Two days later the army withdrew from the town.",
    "Prices kept rising in the following months, the bank said.",
    "He was following the talks closely, an aide said.",
]


@pytest.mark.parametrize(("damaged", "undone"), MENDED)
def test_a_spinners_substitute_or_a_translations_debris_is_undone_in_its_context(damaged: str, undone: str) -> None:
    mended = mend(damaged)
    assert (mended.text, mended.shippable) == (undone, True) and mended.repairs
    assert damage_problem(damaged) is not None and damage_problem(undone) is None
    assert neutral_form(damaged) == undone and source_origin(undone, damaged) == "repaired"


@pytest.mark.parametrize("sentence", UNDAMAGED)
def test_english_that_resembles_a_substitute_is_left_as_written(sentence: str) -> None:
    assert mend(sentence).text == sentence and damage_problem(sentence) is None
    assert source_origin(neutral_form(sentence), sentence) == "extract"


def test_debris_no_rule_undoes_never_ships() -> None:
    said = "The talks ended. ended without a deal, the ministry said."
    assert not mend(said).shippable and point_problem(said) is not None


def test_no_damaged_sentence_of_the_examples_ships_and_their_facts_ship_undone() -> None:
    articles = ingest_paths([EXAMPLES]).articles
    corpus = prepare(articles, make_settings())
    damaged = [s.text for s in corpus.index.sentences if damage_problem(s.text)]
    assert len(damaged) >= 5  # 000's "following he", "once morest"; 001's "he said. said"
    shipped = {s.text: as_shipped(corpus.index, s.text) for s in corpus.index.sentences}
    assert not [form for form in shipped.values() if form and damage_problem(form)]
    undone = [shipped[s] for s in damaged if shipped[s]]
    assert any("78 votes in favor and 18 against" in form for form in undone)  # the vote's fact is not lost
    # a wholly spun article's other substitutes ("a fewer twelve" for "a few dozen") have no rule: not mended
    assert [s for s in damaged if "fewer twelve of nan" in s] and not [s for s in undone if "fewer twelve" in s]
    assert all(numbers(form) == numbers(s) for s in damaged if (form := shipped[s]))
    points = best_sentences(corpus.index, _Supports(), 40)
    assert points and not [p.text for p in points if damage_problem(p.text)]
    assert {p.origin for p in points if p.text in undone} <= {"repaired"}
    events = timeline([], corpus.index, {}, limit=40)
    assert events and not [e.text for e in events if damage_problem(e.text)]


def test_the_examples_damaged_sentences_are_found_per_sentence_not_per_article() -> None:
    text = (EXAMPLES / "000_337dc3b85a9c6a45.txt").read_text()
    said = sentences(text)
    assert 0 < sum(1 for s in said if damage_problem(s)) < len(said) // 2  # spun in places, not throughout


class _Supports:
    """A checker that supports every sentence: the test is of what may ship, not of support."""

    def check(self, text: str, cited: list[str]) -> object:
        from service.pipeline.verify import Support

        return Support(supported=True, score=1.0, sources=cited)
