"""Map, collapse and reduce: parsing what small models really write, and provenance kept as data."""

from __future__ import annotations

import pytest
from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.clean import clean_article
from service.models import Article, Chunk, Fact, Paragraph, Provenance
from service.pipeline.calls import LLMCaller
from service.pipeline.collapse import collapse_facts, facts_tokens, parse_merged_lines
from service.pipeline.map import ground_facts, merge_duplicates, parse_fact_lines, parse_rewrite
from service.pipeline.prepare import prepare
from service.pipeline.read import passages
from service.pipeline.reduce import parse_briefing, summary_over_facts
from service.pipeline.salience import specifics_of
from service.prompts import load_prompt
from service.settings import Settings
from service.text import drops_a_condition, kept_in_order, reattaches_a_word, sentences, standalone_problem
from tests.conftest import addressed

CHUNK = Chunk(
    id="a#0",
    article_id="a",
    tokens=60,
    paragraphs=[
        Paragraph(article_id="a", index=2, text="The council approved a budget of 40 million dollars on Monday."),
        Paragraph(article_id="a", index=5, text="Mayor Quimby said the budget funds two schools."),
    ],
)


def _fact(text: str, article: str = "a", paragraph: int = 1) -> Fact:
    return Fact(text=text, provenance=[Provenance(article_id=article, paragraph=paragraph)])


def test_map_lines_keep_tags_in_any_position_and_drop_a_truncated_last_line() -> None:
    reply = (
        "P2\n"
        "The council approved a budget of 40 million dollars.\n"
        "P5: Mayor Quimby said the budget funds two schools.\n"
        "- The budget was approved on Monday [P2]\n"
        "- The article is about a council budget vote.\n"
        "The mayor also said the"
    )
    facts = parse_fact_lines(reply, CHUNK)
    assert [(f.text, f.provenance[0].paragraph) for f in facts] == [
        ("The council approved a budget of 40 million dollars.", 2),
        ("Mayor Quimby said the budget funds two schools.", 5),
        ("The budget was approved on Monday", 2),
    ]


def test_a_missing_or_invalid_tag_is_replaced_by_the_closest_paragraph() -> None:
    facts = parse_fact_lines("- Quimby says two schools are funded. [P9]", CHUNK)
    assert facts[0].provenance == [Provenance(article_id="a", paragraph=5)]


def test_map_rejects_facts_with_specifics_absent_from_the_chunk(settings: Settings) -> None:
    facts = [_fact("The council approved a budget of 40 million dollars."), _fact("Mayor Smith approved 45 million.")]
    kept, rejected = ground_facts(facts, CHUNK, settings)
    assert [f.text for f in kept] == [facts[0].text]
    assert rejected[0].stage == "map" and "number 45" in rejected[0].reason and "Smith" in rejected[0].reason


def test_duplicate_facts_merge_and_unite_their_provenance() -> None:
    merged = merge_duplicates(
        [
            _fact("The council approved the budget on Monday.", "a", 1),
            _fact("The council approved the budget on Monday!", "b", 4),
            _fact("Two schools are funded.", "b", 5),
        ]
    )
    assert len(merged) == 2
    assert merged[0].article_ids == ["a", "b"]


def test_merged_lines_carry_the_union_of_the_named_facts() -> None:
    group = [_fact("Fact one about the budget vote.", "a", 1), _fact("Fact two about the vote.", "b", 3),
             _fact("Fact three about schools funding.", "c", 2)]
    merged = parse_merged_lines("- The budget vote passed easily (F1, F2)\n- Schools get funding now F3", group)
    assert [f.article_ids for f in merged] == [["a", "b"], ["c"]]


def test_reduce_reply_parses_summary_and_cited_points() -> None:
    draft = parse_briefing(
        "The council passed a budget. It funds schools.\n"
        "[1] The budget is 40 million dollars.\n"
        "2) Two schools are funded [2].\n"
        "- The mayor signed it [1, 2]\n"
        "- A point citing nothing that exists [7]",
        ["a", "b"],
    )
    assert [s.text for s in draft.summary] == ["The council passed a budget.", "It funds schools."]
    assert [(p.text, p.cited) for p in draft.points] == [
        ("The budget is 40 million dollars.", ["a"]),
        ("Two schools are funded.", ["b"]),
        ("The mayor signed it", ["a", "b"]),
        ("A point citing nothing that exists", ["#7"]),
    ]


def test_reduce_reply_with_labels_is_parsed_too() -> None:
    reply = "TITLE: Budget passes\nSUMMARY: The council passed it.\nPOINTS:\n- It funds schools [1]"
    draft = parse_briefing(reply, ["a"])
    assert draft.title == "Budget passes"
    assert [s.text for s in draft.summary] == ["The council passed it."]
    assert draft.points[0].cited == ["a"]


@pytest.mark.vcr
def test_collapse_merges_until_under_budget_and_keeps_provenance(
    chat_model: BaseChatModel, settings: Settings, example_articles: list[Article]
) -> None:
    facts = [
        _fact(p.text.split(". ")[0].rstrip(".") + ".", a.id, p.index)
        for a in example_articles[:2]
        for p in clean_article(a, addressed).paragraphs[:6]
    ]
    settings.pipeline.facts_token_budget = 200
    settings.pipeline.max_collapse_rounds = 2
    before = facts_tokens(facts, settings.chunk.encoding)
    assert before > 200
    llm = LLMCaller(chat_model, settings.llm)
    collapsed, rounds = run_sync(collapse_facts(facts, load_prompt("collapse", "v1"), llm, settings))
    assert rounds >= 1 and llm.stats.calls >= 2
    assert facts_tokens(collapsed, settings.chunk.encoding) <= 200
    known = {p for f in facts for p in f.provenance}
    assert collapsed and all(f.provenance and set(f.provenance) <= known for f in collapsed)


PASSAGE = Chunk(
    id="a-s3",
    article_id="a",
    tokens=60,
    paragraphs=[Paragraph(
        article_id="a", index=4,
        text="The adviser, Jake Sullivan, said Mr. Biden signed the bill on Wednesday, a day after the Senate "
             "approved it by 78 votes to 18.",
    )],
)


def test_a_rewrite_is_one_sentence_whose_passage_is_its_provenance() -> None:
    [fact] = parse_rewrite("Sentence: Mr. Biden signed the bill on Wednesday.\nIt was approved by 78 votes.", PASSAGE)
    assert fact.text == "Mr. Biden signed the bill on Wednesday."
    assert fact.provenance == [Provenance(article_id="a", paragraph=4)]
    assert parse_rewrite("Mr. Biden signed the", PASSAGE) == []  # cut off by the completion cap


def test_a_rewrite_that_recombines_its_passage_is_rejected_a_compression_kept(settings: Settings) -> None:
    compressed = _fact("Sullivan said Mr. Biden signed the bill on Wednesday.")
    recombined = _fact("The Senate signed the bill by 78 votes on Wednesday after Biden approved it.")
    swapped = _fact("Jake Sullivan signed the bill after the Senate approved it on Wednesday.")  # in order, yet
    kept, rejected = ground_facts([compressed, recombined, swapped], PASSAGE, settings,
                                  in_order=settings.verify.rewrite_in_order)
    assert [f.text for f in kept] == [compressed.text]
    assert "recombines its passage" in rejected[0].reason and "who did what" in rejected[1].reason
    assert ground_facts([swapped], PASSAGE, settings)[0] == [swapped]  # listed facts are not held to this
    assert kept_in_order(compressed.text, PASSAGE.paragraphs[0].text) == 1.0


@pytest.mark.parametrize(("rewrite", "dropped"), [
    ("The news is confirmed, and Russia will respond harshly.", True),  # "If the news is confirmed"
    ("Biden authorised the strikes in Kursk.", True),  # "did not authorise"
    ("Biden did not authorise the strikes in Kursk.", False),
])
def test_a_rewrite_may_not_leave_out_a_condition_or_negation(rewrite: str, dropped: bool) -> None:
    passage = ("“If the news is confirmed, Russia will respond harshly,” Slutsky said. "
               "Biden did not authorise the strikes in Kursk before November.")
    assert drops_a_condition(rewrite, passage) is dropped


@pytest.mark.parametrize(("rewrite", "reattached"), [
    ("Biden's advisors feared in the White House for Vladimir Putin.", True),  # not Putin: his reaction
    ("Biden's advisors feared the reaction expected from Vladimir Putin.", False),
    ("Russian forces launched 200 missiles against the grid.", False),  # only modifiers cut
])
def test_a_rewrite_may_not_tie_a_word_to_another_by_cutting_out_its_preposition(rewrite: str, reattached: bool) -> None:
    passage = ("Biden's advisors feared in the White House for the reaction expected from Vladimir Putin. "
               "Russian forces at dawn launched more than 200 missiles and drones against the Ukrainian grid.")
    assert reattaches_a_word(rewrite, passage) is reattached


def test_a_summary_sentence_reply_keeps_the_facts_as_the_points() -> None:
    facts = [_fact("The council approved a budget of 40 million dollars.", "a"), _fact("Two schools are funded.", "b")]
    draft = summary_over_facts("Sentence: The council approved a budget. It funds schools.\nMore.", facts, 0.8)
    assert [(p.text, p.cited) for p in draft.summary] == [("The council approved a budget.", ["a", "b"])]
    assert [(p.text, p.cited) for p in draft.points] == [(f.text, [f.provenance[0].article_id]) for f in facts]
    assert draft.restated == 0  # the summary carries the first fact
    recombined = summary_over_facts("Two schools approved a budget of 40 million dollars.", facts, 0.8)
    assert recombined.summary == [] and len(recombined.points) == 2  # the lead point will lead instead
    assert recombined.restated is None
    assert recombined.rejected[0].stage == "summary" and "who did what" in recombined.rejected[0].reason


def test_passages_are_short_runs_of_one_paragraph_most_salient_first_never_overlapping(settings: Settings) -> None:
    text = ("The council approved a budget of 40 million dollars on Monday. It passed by nine votes to two. "
            "Mayor Quimby welcomed it.\n"
            "The budget funds two new schools in the north of Springfield and repairs to the harbour bridge, "
            "which has been closed since March, and a new bus line that will run every ten minutes.\n"
            "Critics said the plan spends too much on roads. The vote followed a long debate.")
    article = Article(id="a", text=text, origin="t")
    corpus = prepare([article], settings)
    chunks = passages(corpus.index, settings.chunk.encoding, count=3)
    assert 1 <= len(chunks) <= 3
    seen: set[str] = set()
    for chunk in chunks:
        [paragraph] = chunk.paragraphs
        assert 1 <= len(paragraph.sentences) <= 3 and paragraph.sentences[0] not in seen
        assert len(paragraph.text.split()) <= 45 or len(paragraph.sentences) == 1
        assert paragraph.text in text.split("\n")[paragraph.index - 1]  # its own paragraph, in order
        seen.update(paragraph.sentences)
    assert passages(corpus.index, settings.chunk.encoding, count=1) == chunks[:1]


@pytest.mark.parametrize(("sentence", "alone"), [
    ("They have used them to attack civilians as well.", False),
    ("It was the first such strike.", False),
    ("BIDEN 'PHOTO OP' IN KYIV NOT ENOUGH, US MUST SEND MORE LETHAL AID", False),
    ("Sign up for CNN's Wonder Theory science newsletter.", False),
    ("Italy said it would send aid.", True),
    ("Theresa May said the vote would go ahead.", True),
    ("The ATACMS, made by Lockheed Martin, has a range of 300 km.", True),
    ("A choice, again according to the NYT, which has divided Biden's advisors.", False),  # no verb of its own
    ("The bill, which passed 78 to 18, was signed on Wednesday.", True),
    ("A man who stole a car was arrested in Kyiv.", True),
])
def test_a_sentence_that_cannot_be_read_on_its_own_is_not_a_point(sentence: str, alone: bool) -> None:
    assert (standalone_problem(sentence) is None) is alone


def test_titles_before_names_do_not_end_a_sentence() -> None:
    text = "McCaul was joined on the trip by Reps. Darrell Issa and Sen. Jim Risch. They met Gen. Syrskyi."
    assert sentences(text) == ["McCaul was joined on the trip by Reps. Darrell Issa and Sen. Jim Risch.",
                               "They met Gen. Syrskyi."]


def test_a_name_written_another_way_or_the_credit_for_a_report_is_no_new_fact() -> None:
    said = specifics_of("President Joe Biden authorised Ukraine to use American missiles against Russian forces.")
    restated = "Mr. Biden let Ukraine fire U.S.-made missiles into Russia, according to the New York Times."
    assert specifics_of(restated) <= said
    new = specifics_of("Biden authorised strikes in Kursk after North Korean troops arrived.") - said
    assert new == {"kursk", "north", "korea"}
    assert specifics_of("The Senate approved it by 78 votes in April.") - said == {"senat", "78", "april"}


def test_a_sentence_that_cannot_ship_does_not_cover_the_names_of_one_that_can(settings: Settings) -> None:
    text = ("This move signals that Mayor Quimby and Springfield are committed to the harbour bridge.\n"
            "Mayor Quimby and Springfield approved the budget for repairs to the harbour bridge.\n"
            "Separately, a choir sang at a school concert in Shelbyville.")
    corpus = prepare([Article(id="a", text=text, origin="t")], settings)
    [chunk] = passages(corpus.index, settings.chunk.encoding, count=1)  # the refused first one names them too
    assert chunk.paragraphs[0].sentences[0].startswith("Mayor Quimby and Springfield approved")
