"""Verify: numbers, dates and names must occur where the meaning matches; spun text still supports."""

from __future__ import annotations

import pytest

from service.clean import clean_article
from service.embeddings import get_embedder
from service.fidelity.checker import FidelityChecker
from service.fidelity.sources import SourceIndex
from service.models import Article
from service.pipeline.assemble import assemble
from service.pipeline.extract import best_sentences
from service.pipeline.reduce import Draft, DraftPoint
from service.pipeline.verify import Verifier
from service.settings import VerifySettings
from tests.conftest import addressed

BUDGET = (
    "The city council of Springfield approved a budget of 40 million dollars on Monday, the mayor said.\n"
    "The budget funds two new schools and repairs to the harbour bridge.\n"
    "Separately, the council fined the Acme company 3 million dollars for polluting the river in March."
)

# One council story, a sentence a line: the lead fact, then three more.
COUNCIL = [
    "The Springfield city council approved a budget of 40 million dollars on Monday after a long debate.",
    "The budget funds two new primary schools in the northern district and repairs to the harbour bridge.",
    "The opposition leader, Tom Reed, voted against the budget with four other members.",
    "The mayor, Jane Porter, said the new schools would open in the autumn of next year.",
]


@pytest.fixture(scope="module")
def verifier(example_articles: list[Article]) -> Verifier:
    budget = Article(id="budget", text=BUDGET)
    cleaned = [clean_article(a, addressed) for a in [*example_articles, budget]]
    checker = FidelityChecker(embedder=get_embedder())
    return Verifier(SourceIndex.build(cleaned), checker, VerifySettings())


def test_a_faithful_paraphrase_is_supported(verifier: Verifier) -> None:
    result = verifier.check("Springfield's council passed a 40 million dollar budget on Monday.", ["budget"])
    assert result.supported, result.reason
    assert result.evidence is not None and "approved a budget" in result.evidence.text


def test_a_swapped_number_is_rejected(verifier: Verifier) -> None:
    result = verifier.check("Springfield's council passed a 45 million dollar budget on Monday.", ["budget"])
    assert not result.supported and "number 45" in result.reason


def test_a_number_from_another_passage_is_rejected(verifier: Verifier) -> None:
    result = verifier.check("Springfield's council passed a 3 million dollar budget on Monday.", ["budget"])
    assert not result.supported and "number 3 not in the cited passage" in result.reason


def test_a_swapped_name_is_rejected(verifier: Verifier) -> None:
    result = verifier.check("Shelbyville's council passed a 40 million dollar budget on Monday.", ["budget"])
    assert not result.supported and "Shelbyville" in result.reason


def test_a_swapped_date_is_rejected(verifier: Verifier) -> None:
    result = verifier.check("Springfield's council passed a 40 million dollar budget on Friday.", ["budget"])
    assert not result.supported and "friday" in result.reason


def test_an_unrelated_claim_is_rejected(verifier: Verifier) -> None:
    result = verifier.check("The council banned cars from the city centre.", ["budget"])
    assert not result.supported


def test_citing_an_unknown_source_is_rejected(verifier: Verifier) -> None:
    assert verifier.check("The council approved a budget.", ["budget", "nope"]).reason == "cites an unknown source"


def test_uncited_sentences_are_attributed_to_every_supporting_source(
    verifier: Verifier, example_articles: list[Article]
) -> None:
    result = verifier.check("Biden authorized Ukraine to use long-range ATACMS missiles inside Russia.", [])
    assert result.supported, result.reason
    assert len(result.sources) >= 2 and "budget" not in result.sources
    assert set(result.sources) <= {a.id for a in example_articles}


def test_a_true_sentence_is_supported_by_a_spun_source(
    verifier: Verifier, example_articles: list[Article]
) -> None:
    spun = example_articles[3].id  # "Moscow besides said connected Tuesday that six ATACMS had been fired ..."
    result = verifier.check("Moscow said on Tuesday that six ATACMS had been fired at its Bryansk region.", [spun])
    assert result.supported, result.reason


def test_spinner_vocabulary_in_a_sentence_is_rejected(verifier: Verifier, example_articles: list[Article]) -> None:
    spun = example_articles[3].id
    result = verifier.check("Moscow said that six ATACMS had been fired astatine nan Bryansk region.", [spun])
    assert not result.supported and "word-spun" in result.reason


def test_a_rare_spinner_substitute_is_refused_too_but_not_in_an_unspun_source(example_articles: list[Article]) -> None:
    claim = "The move is meant to deter Pyongyang from sending immoderate much of its forces to assistance Russia."
    spun = SourceIndex.build([clean_article(example_articles[3], addressed)])
    assert spun.spun_words(claim) == ["immoderate"]  # once in 1,300 words: too rare to count as overused
    plain = Article(id="plain", text="Critics called the immoderate spending a risk. " * 20)
    both = SourceIndex.build([clean_article(a, addressed) for a in (example_articles[3], plain)])
    assert both.spun_words(claim) == []


def test_what_the_points_leave_of_the_word_budget_is_filled_with_a_source_sentence_naming_something_new() -> None:
    said = [
        "The Springfield city council approved a budget of 40 million dollars on Monday after a long debate.",
        "The budget funds two new primary schools in the northern district and repairs to the harbour bridge.",
        "The mayor, Jane Porter, said the vote was the largest in the history of the council.",
        "The opposition leader, Tom Reed, voted against the budget with four other members.",
        "Acme was fined 3 million dollars in March.",
    ]
    index, verifier = _council(said)
    drafted = sum(len(s.split()) for s in said[1:4])
    settings = VerifySettings(points_words=drafted + 9, min_key_points=2, max_key_points=5)  # drafts spend 80 %+
    draft = Draft(summary=[DraftPoint(text=said[0], cited=["council"])],
                  points=[DraftPoint(text=s, cited=["council"]) for s in said[1:4]])
    points = [p.text for p in assemble(draft, index, verifier, settings).points]
    assert points == said[1:] and sum(len(p.split()) for p in points) <= settings.points_words


def test_a_source_sentence_that_grades_what_it_reports_ships_without_the_grading_word_marked_edited() -> None:
    said = [
        "The Springfield city council made a landmark decision on Monday, approving a budget of 40 million dollars.",
        "The budget funds two new primary schools in the northern district and repairs to the harbour bridge.",
        "The mayor, Jane Porter, said the vote was a historic moment for the city.",
    ]
    index, verifier = _council(said)
    points = best_sentences(index, verifier, 3)
    edited = "The Springfield city council made a decision on Monday, approving a budget of 40 million dollars."
    assert [(p.text, p.origin) for p in points if "council" in p.text] == [(edited, "edited")]
    assert (said[1], "extract") in [(p.text, p.origin) for p in points]
    assert (said[2], "extract") in [(p.text, p.origin) for p in points]  # a judgement reported as hers stays hers


def test_the_fact_the_summary_restates_ships_once_as_the_summary_and_is_not_counted_as_dropped() -> None:
    said = COUNCIL
    index, verifier = _council(said)
    summary = "The Springfield city council approved a budget of 40 million dollars on Monday."
    draft = Draft(summary=[DraftPoint(text=summary, cited=["council"])], restated=0,
                  points=[DraftPoint(text=s, cited=["council"]) for s in said[:3]])
    out = assemble(draft, index, verifier, VerifySettings(min_key_points=2))
    assert [p.text for p in out.summary] == [summary]
    assert said[0] not in [p.text for p in out.points] and said[1] in [p.text for p in out.points]
    assert not [r for r in out.rejected if r.text == said[0]]
    unverified = Draft(summary=[DraftPoint(text="The council rejected the budget on Monday.", cited=["council"])],
                       restated=0, points=draft.points)
    assert said[0] in [p.text for p in assemble(unverified, index, verifier, VerifySettings()).points]


def _council(said: list[str]) -> tuple[SourceIndex, Verifier]:
    """One article of these sentences, one a line, indexed, and a verifier over it."""
    index = SourceIndex.build([clean_article(Article(id="council", text="\n".join(said)), addressed)])
    return index, Verifier(index, FidelityChecker(embedder=get_embedder()), VerifySettings())


def test_with_no_summary_kept_the_lead_point_becomes_the_summary_and_its_words_leave_the_points_budget() -> None:
    said = COUNCIL
    index, verifier = _council(said)
    points_words = sum(len(s.split()) for s in said[1:])  # the points after the lead fit exactly
    settings = VerifySettings(points_words=points_words, min_key_points=2, max_key_points=3)
    draft = Draft(summary=[DraftPoint(text="The council rejected the budget on Monday.", cited=["council"])],
                  points=[DraftPoint(text=s, cited=["council"]) for s in said])
    out = assemble(draft, index, verifier, settings)
    assert [p.text for p in out.summary] == [said[0]]
    assert [p.text for p in out.points] == said[1:]
