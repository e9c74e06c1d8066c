"""Dates in article text: resolved against the publication date when it is known, kept as written
and marked unresolved when it is not; a briefing's timeline and date span."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.dates import find_dates, stated_date
from service.models import Article, Briefing, RunRecord, TimelineEntry
from service.pipeline.prepare import prepare
from service.pipeline.timeline import date_span, timeline
from service.render import to_markdown
from tests.conftest import make_settings

MONDAY = datetime(2024, 11, 18, 9, tzinfo=UTC)
BUDGET = {
    "wire": "The council approved the budget on Sunday after a debate. Work on the bridge will start in March.",
    "post": "The previous budget was passed in December 2023. Residents protested yesterday outside the hall.",
}


@pytest.mark.parametrize(
    ("sentence", "when", "precision"),
    [
        ("The strike came on Sunday, officials said.", "2024-11-17", "day"),
        ("The delegation traveled to Kyiv Tuesday, aides said.", "2024-11-12", "day"),  # news drops the "on"
        ("The package was approved last month.", "2024-10", "month"),
        ("Deliveries began in August.", "2024-08", "month"),
        ("The talks resumed in December.", "2023-12", "month"),  # the last December before publication
        ("The talks will resume in February.", "2025-02", "month"),  # the future: the next one
        ("The vote was held on April 23, 2024.", "2024-04-23", "day"),
        ("Russia invaded in February 2022.", "2022-02", "month"),
        ("The order was signed yesterday.", "2024-11-17", "day"),
        ("Officials met last week.", "2024-11-11", "week"),
        ("The law was passed in 2019.", "2019", "year"),
        ("Russian drones struck the grid overnight, officials said.", "2024-11-18", "day"),  # the day it is reported
        ("Forces launched 200 missiles during the night.", "2024-11-18", "day"),
        ("Officials met this morning.", "2024-11-18", "day"),
        ("The talks ran overnight on Sunday.", "2024-11-17", "day"),  # dated by its day, not by "overnight"
    ],
)
def test_relative_and_absolute_dates_resolve_against_the_publication_date(
    sentence: str, when: str, precision: str
) -> None:
    [mention] = find_dates(sentence, MONDAY)
    assert (mention.when, mention.precision) == (when, precision)


def test_without_a_publication_date_relative_dates_are_kept_as_written_never_guessed() -> None:
    mentions = find_dates("It was approved last month and first used on Wednesday, in April.", None)
    assert [(m.said, m.when) for m in mentions] == [("last month", None), ("on Wednesday", None), ("in April", None)]
    assert [m.when for m in find_dates("Russia invaded in February 2022.", None)] == ["2022-02"]  # its own year
    assert find_dates("The missiles may not be decisive, and protesters march on.", MONDAY) == []  # verbs
    assert find_dates("Former prime minister Theresa May said so.", MONDAY) == []  # a name
    assert find_dates("Voters turn out on Super Tuesday, and shops open early on Black Friday.", MONDAY) == []
    assert find_dates("The singer became an overnight success.", MONDAY) == []  # an adjective, no date
    assert [(m.said, m.when) for m in find_dates("Drones struck at dawn.", None)] == [("at dawn", None)]
    assert [m.when for m in find_dates("Since February 2022, aid has flowed.", MONDAY)] == ["2022-02"]


def test_a_timeline_lists_dated_events_in_order_each_cited_and_the_span_comes_from_publication() -> None:
    texts = BUDGET
    articles = [Article(id=Article.make_id(t), text=t, origin=name, published=MONDAY) for name, t in texts.items()]
    corpus = prepare(articles, make_settings())
    published = {a.id: a.published for a in articles}
    events = timeline([], corpus.index, published, limit=6)
    assert [e.date.when for e in events] == ["2023-12", "2024-11-17", "2024-11-17", "2025-03"]
    assert all(e.sources and e.sources[0] in published for e in events)
    assert date_span(corpus.articles).model_dump() == {"start": "2024-11-18", "end": "2024-11-18"}
    undated = [a.model_copy(update={"published": None}) for a in articles]
    undated_corpus = prepare(undated, make_settings())
    assert date_span(undated_corpus.articles) is None  # "December 2023" is background, not when it happened
    events = timeline([], undated_corpus.index, dict.fromkeys(published), limit=6)
    assert [e.date.when for e in events][:1] == ["2023-12"] and events[-1].date.when is None  # unresolved last


def test_a_point_restating_a_source_sentence_is_one_timeline_event_not_two() -> None:
    from service.models import KeyPoint

    text = ("Kyiv has begun putting the missiles to use in recent days, hitting a military airfield in Crimea "
            "last week as well as forces in another occupied area overnight.")
    article = Article(id=Article.make_id(text), text=text, origin="wire", published=MONDAY)
    corpus = prepare([article], make_settings())
    rewrite = KeyPoint(text="Kyiv has begun putting the missiles to use, hitting a military airfield in Crimea "
                            "last week and forces in another occupied area overnight.", sources=[article.id])
    events = timeline([rewrite], corpus.index, {article.id: MONDAY}, limit=6)
    assert [e.text for e in events] == [rewrite.text]


def test_no_timeline_entry_is_in_a_word_spun_source_s_wording(example_articles: list[Article]) -> None:
    corpus = prepare(example_articles, make_settings())
    entries = timeline([], corpus.index, {a.id: None for a in example_articles}, 20)
    assert entries and not [e.text for e in entries if corpus.index.spun_words(e.text)]


def test_an_event_is_dated_by_when_it_happened_not_by_the_period_it_ends() -> None:
    texts = ["The chancellor telephoned the Russian leader last Friday for the first time since December 2022.",
             "Since February 2022, aid has flowed to the front line through the western border."]
    articles = [Article(id=Article.make_id(t), text=t, origin="wire", published=MONDAY) for t in texts]
    corpus = prepare(articles, make_settings())
    events = timeline([], corpus.index, {a.id: MONDAY for a in articles}, limit=6)
    assert [(e.date.said, e.date.when) for e in events] == [("last Friday", "2024-11-15")]


def test_a_reader_sees_a_timeline_only_of_placed_events_and_only_when_two_or_more() -> None:
    texts = BUDGET
    articles = [Article(id=Article.make_id(t), text=t, origin=name, published=MONDAY) for name, t in texts.items()]
    corpus = prepare(articles, make_settings())
    dated = timeline([], corpus.index, {a.id: a.published for a in articles}, limit=6)
    unplaced = timeline([], corpus.index, {a.id: None for a in articles}, limit=6)
    run = RunRecord(model="m", prompts={})

    def shown(events: list[TimelineEntry]) -> str:
        briefing = Briefing(title="Budget", summary="s", key_points=[], sources=[], run=run, timeline=events)
        return to_markdown(briefing)

    placed = shown(dated)
    assert "## Timeline" in placed and placed.count("\n- **") == 4 and "**2025-03** (“in March”): Work" in placed
    assert "## Timeline" not in shown(dated[:1])  # one event is not a timeline
    assert sum(e.date.when is None for e in unplaced) >= 2
    partly = shown([e for e in unplaced if e.date.when] + [e for e in unplaced if not e.date.when])
    assert "unresolved" not in partly and "## Timeline" not in shown([e for e in unplaced if not e.date.when])


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("KYIV, November 17, 2024 (Reuters) — Ukraine said on Sunday", "2024-11-17"),  # a dateline
        ("WASHINGTON, Nov. 17, 2024 - The White House said", "2024-11-17"),
        ("Published: 17 November 2024\nThe council met.", "2024-11-17"),
        ("By Jane Doe\nUpdated 3:45 PM EST, Sun November 17, 2024\nThe council met.", "2024-11-17"),
        ("Sunday 17 November 2024 14.05 GMT\nThe council met.", "2024-11-17"),  # a first line that is a date
        ("2024-11-17\nThe council met.", "2024-11-17"),
        ("The council met.\n\nFirst published on Sept 3, 2023", "2023-09-03"),  # a closing line
        ("The war began on February 24, 2022, when Russia invaded.", None),  # what happened, not when written
        ("Biden said on November 17, 2024 that the order stands.", None),
        ("November 17, 2024, was the day the order was signed.", None),
        ("Posted on 31 February 2024", None),  # no such day
    ],
)
def test_an_article_s_own_date_is_read_from_its_dateline_or_label_never_from_its_story(
    text: str, day: str | None
) -> None:
    stated = stated_date(text)
    assert (stated.date().isoformat() if stated else None) == day


def test_an_undated_article_whose_text_gives_its_date_has_its_relative_dates_placed() -> None:
    text = ("SPRINGFIELD, November 18, 2024 (Wire) — The council approved the budget on Sunday after a debate. "
            "Residents had protested outside the hall last week. Work on the bridge will start in March.")
    article = Article(id=Article.make_id(text), text=text, origin="wire")  # no date from a feed or a file
    corpus = prepare([article], make_settings())
    assert corpus.articles[0].published == datetime(2024, 11, 18, 12, tzinfo=UTC)
    assert date_span(corpus.articles).model_dump() == {"start": "2024-11-18", "end": "2024-11-18"}
    events = timeline([], corpus.index, {article.id: corpus.articles[0].published}, limit=6)
    assert [e.date.when for e in events] == ["2024-11-11", "2024-11-17", "2025-03"]
    assert not [s.text for s in corpus.index.sentences if "SPRINGFIELD" in s.text]  # the dateline is no sentence
    labelled = "Published: 17 November 2024\n\nThe council approved the budget on Sunday after a long debate."
    cleaned = prepare([Article(id=Article.make_id(labelled), text=labelled, origin="post")], make_settings())
    assert cleaned.articles[0].published == datetime(2024, 11, 17, 12, tzinfo=UTC)
    assert [d.reason for d in cleaned.articles[0].dropped] == ["the article's date line, no content"]
    given = article.model_copy(update={"published": MONDAY.replace(day=25)})  # a date it was given comes first
    assert prepare([given], make_settings()).articles[0].published == given.published
