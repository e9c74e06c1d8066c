"""Map, collapse and reduce: parsing what small models really write, and provenance kept as data."""

from __future__ import annotations

import pytest
from langchain_core.language_models import BaseChatModel

from service.aio import run_sync
from service.clean import clean_article
from service.models import Article, Chunk, Fact, Paragraph, Provenance
from service.pipeline.calls import LLMCaller
from service.pipeline.collapse import collapse_facts, facts_tokens, parse_merged_lines
from service.pipeline.map import ground_facts, merge_duplicates, parse_fact_lines
from service.pipeline.reduce import parse_briefing
from service.prompts import load_prompt
from service.settings import Settings
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
