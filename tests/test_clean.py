"""Clean: speculative boilerplate goes (with a reason), reporting stays, noisy sources are flagged."""

from __future__ import annotations

import pytest

from service.clean import (
    clean_article,
    judge_paragraph,
    looks_machine_translated,
    looks_spun,
    quality_flags,
    split_paragraphs,
)
from service.models import Article
from service.text import sentences
from tests.conftest import addressed

NEWS = (
    "The finance ministry said on Tuesday that inflation fell to 3.1% in October, "
    "the lowest level since 2021."
)


def _article(*paragraphs: str) -> Article:
    text = "\n".join(paragraphs)
    return Article(id=Article.make_id(text), text=text)


def test_seed_future_trends_section_is_dropped_with_reasons(example_articles: list[Article]) -> None:
    cleaned = clean_article(example_articles[0], addressed)
    reasons = [d.reason for d in cleaned.dropped]
    assert len(cleaned.dropped) == 7
    assert reasons[0].startswith("meta-commentary") and reasons[-1].startswith("meta-commentary")
    assert reasons[1:6] == ["speculative trend-list item"] * 5
    assert [p.index for p in cleaned.paragraphs] == list(range(1, 13))


@pytest.mark.parametrize(
    "boilerplate",
    [
        "Let us now explore what these developments could mean for the wider region.",
        "So what does the future hold? Several scenarios emerge from these events.",
        "Looking forward, observers may see shifting alliances and a potentially volatile landscape.",
        "To sum up, the decision underscores broader dynamics and could reshape the geopolitical landscape.",
        "Ultimately, it is essential for policymakers to keep an eye on how the crisis evolves.",
        "Here are three trends to watch as the story develops.",
        "As these events unfold, only time will tell how markets respond.",
        "This could potentially reshape regional dynamics and may well signal a significant shift in the "
        "broader landscape.",
    ],
)
def test_boilerplate_in_unseen_wording_is_detected(boilerplate: str) -> None:
    assert judge_paragraph(boilerplate).reason is not None


def test_a_trend_list_after_a_transition_is_dropped_as_a_section() -> None:
    cleaned = clean_article(
        _article(
            NEWS,
            "What might come next? Let's take a closer look at the possible outcomes.",
            "1) Market Reaction: Investors might reassess risk, which could weigh on shares.",
            "2) Policy Outlook: The central bank may hold rates for longer.",
            "Separately, the ministry said on Wednesday that wages rose 4% in October.",
        ),
        addressed,
    )
    assert [p.index for p in cleaned.paragraphs] == [1, 5]
    assert [d.paragraph for d in cleaned.dropped] == [2, 3, 4]


@pytest.mark.parametrize(
    "reporting",
    [
        "According to Leonid Slutsky, the permission will inevitably lead to an escalation and a tough response.",
        "“This will mean that NATO countries are at war with Russia,” he said in September.",
        "Analysts told Reuters the move could raise tensions and may prompt retaliation.",
        NEWS,
        "1. Budget: The council approved 40 million dollars for schools on Monday, the mayor said.",
    ],
)
def test_attributed_statements_and_plain_news_are_kept(reporting: str) -> None:
    assert judge_paragraph(reporting).reason is None


def test_short_headings_are_not_content() -> None:
    cleaned = clean_article(
        _article("Rising Stakes in the Kursk Region", NEWS, "So why now?", NEWS + " Again."), addressed
    )
    assert [d.reason for d in cleaned.dropped] == ["section heading, no content"] * 2


def test_paragraphs_split_on_blank_lines_or_lines() -> None:
    assert split_paragraphs("a b\nc d\n\ne f") == ["a b c d", "e f"]
    assert split_paragraphs("a b\nc d\n") == ["a b", "c d"]


def test_word_spun_text_is_flagged(example_articles: list[Article]) -> None:
    assert looks_spun(example_articles[3].text)
    assert not any(looks_spun(a.text) for a in example_articles[:3])


def test_spinning_is_detected_in_text_never_seen() -> None:
    original = (
        "The mayor of the city said on Monday that the new bridge over the river will open in the spring. "
        "It was built with money from the state and the federal government, and it is the first of its kind "
        "in the region. The work began in the summer of last year, and the cost was higher than the plan. "
    ) * 6
    spun = original.replace("the ", "da ").replace("The ", "Da ").replace(" in ", " successful ")
    assert looks_spun(spun)
    assert not looks_spun(original)


def test_machine_translation_needs_two_kinds_of_damage(example_articles: list[Article]) -> None:
    assert looks_machine_translated(example_articles[1].text)
    assert not any(looks_machine_translated(a.text) for a in (example_articles[0], example_articles[2]))
    one_kind = "The minister, who spoke at length about the plans for next year, they will present it. " * 2
    assert not looks_machine_translated(one_kind)
    two_kinds = one_kind + "“We will win,” he said. said Petrov. The systemswhich failed were old."
    assert looks_machine_translated(two_kinds)


def test_sentences_do_not_end_at_titles_initials_or_abbreviations() -> None:
    text = "The adviser, Jake Sullivan, said Mr. Biden agreed. Dr. Lee and J. Smith left the U.S. Army. It ended."
    assert sentences(text) == [
        "The adviser, Jake Sullivan, said Mr. Biden agreed.", "Dr. Lee and J. Smith left the U.S. Army.", "It ended.",
    ]


def test_a_closing_quote_after_the_full_stop_stays_with_its_sentence() -> None:
    text = "Zelensky said: “The rockets will speak for themselves.” The policy changed (as planned.) It ended."
    assert sentences(text) == [
        "Zelensky said: “The rockets will speak for themselves.”", "The policy changed (as planned.)", "It ended.",
    ]


def test_japanese_paragraphs_are_kept_and_split_at_their_own_sentence_marks() -> None:
    text = (
        "東京で震度５弱の地震があった。気象庁によると、けが人は報告されていない。\n"
        "気象庁は「津波の心配はない」と発表した。交通機関は一時運転を見合わせた。\n"
        "首相は「被害の把握を急ぐ。」と述べた。"
    )
    cleaned = clean_article(Article(id=Article.make_id(text), text=text), addressed)
    assert cleaned.dropped == [] and len(cleaned.paragraphs) == 3
    first = ["東京で震度５弱の地震があった。", "気象庁によると、けが人は報告されていない。"]
    assert cleaned.paragraphs[0].sentences == first
    assert cleaned.paragraphs[2].sentences == ["首相は「被害の把握を急ぐ。」と述べた。"]


def test_articles_not_in_english_are_flagged_as_such_not_as_spun(example_articles: list[Article]) -> None:
    french = (
        "Le conseil municipal de Lyon a voté lundi un budget de 52 millions d'euros pour les écoles de la ville. "
        "Les travaux de la gare commenceront en mars, a déclaré le maire, et le chantier durera deux ans. "
    ) * 4
    japanese = "東京で震度５弱の地震があった。気象庁によると、けが人は報告されていない。" * 3
    flags = {name: quality_flags(text) for name, text in (("fr", french), ("ja", japanese))}
    assert [(f.kind, f.note.split(";")[0]) for f in flags["fr"]] == [("other-language", "written in French")]
    assert [(f.kind, f.note.split(";")[0]) for f in flags["ja"]] == [("other-language", "written in Japanese")]
    assert all(f.kind != "other-language" for a in example_articles for f in quality_flags(a.text))
