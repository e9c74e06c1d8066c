"""The one neutrality check every shipped sentence passes, whoever wrote it."""

from __future__ import annotations

import pytest

from service.neutral import neutral_form, neutrality_problem, point_form, source_origin


@pytest.mark.parametrize("sentence", [
    "President Joe Biden has made a landmark decision, authorizing Ukraine to use the missiles.",
    "This move signals that the United States is committed to protecting its sovereignty.",
    "This move is an important step towards strengthening Ukraine's defence.",
    "Biden's decision, influenced by the deployment of North Korean troops, marks a departure from his stance.",
    "The decision represents a significant shift in U.S. policy.",
    "The decision comes at a critical juncture for the war.",
    "Russia could respond by escalating the conflict.",
    "Let's delve into what this means for the region.",
    "The strike is expected to mark a significant escalation.",  # "expected" names no one who expects it
    # an attribution covers its own clause, not the writer's reading after a colon or semicolon
    "Sybiha added that the attack was Moscow's response: his words seem to refer to the German chancellor.",
    "Officials said the strikes hit two depots; the move marks a significant shift in U.S. policy.",
])
def test_judgements_in_the_briefings_own_voice_are_not_neutral(sentence: str) -> None:
    assert neutrality_problem(sentence)


@pytest.mark.parametrize("sentence", [
    "Biden authorised Ukraine to use ATACMS missiles inside Russia.",
    "The Senate approved the bill by 78 votes to 18 in May 2024.",  # the month May is no hedge
    "Zelensky said the rockets would speak for themselves.",
    "Kremlin officials said the decision marks a significant escalation.",  # a judgement, attributed
    "Moscow warned that Russia could respond, according to state media.",
    "U.S. officials believe that deploying ATACMS could enable Ukraine to strike ammunition depots.",
    "Some advisers argue the risks of a Russian response are exaggerated.",
    "Peskov warned: Russia may respond to any strike on its territory.",  # the clause is what he warned
    "“If confirmed, it will mean one thing: the United States could be at war,” Slutsky said.",
    "Kyiv asked for the missiles in August; Moscow said the strikes could trigger a response.",
    "A retail analyst told the Financial Times: prices will likely keep falling this year.",
])
def test_reported_facts_and_attributed_views_are_neutral(sentence: str) -> None:
    assert neutrality_problem(sentence) is None


@pytest.mark.parametrize(("sentence", "form", "ships"), [
    ("President Joe Biden has made a landmark decision, authorizing Ukraine to use the missiles.",
     "President Joe Biden has made a decision, authorizing Ukraine to use the missiles.", True),
    ("An unprecedented attack hit the grid overnight.", "An attack hit the grid overnight.", True),
    ("Massive protests erupted in the capital.", "Protests erupted in the capital.", True),
    ("Russia launched a massive attack on the grid.", "Russia launched an attack on the grid.", True),
    ("Zelensky called it a historic decision, his office said.",  # a judgement reported as his stays his
     "Zelensky called it a historic decision, his office said.", True),
    ("The cost of the repairs was huge and rising.", "The cost of the repairs was huge and rising.", False),
    ("The regime slammed the decision.", "The regime slammed the decision.", False),  # no grading word
    ("Officials at Historic England listed a massive warehouse.",  # a name keeps its words
     "Officials at Historic England listed a warehouse.", False),
])
def test_a_sentence_s_neutral_form_leaves_out_the_words_that_grade_what_follows(
    sentence: str, form: str, ships: bool
) -> None:
    assert neutral_form(sentence) == form
    assert (neutrality_problem(form) is None) is ships


_LONG_FACT = ("The council of Springfield approved a budget of 40 million dollars for the new harbour "
              "bridge and two schools on the east side of the river on Monday")


@pytest.mark.parametrize(("sentence", "cut"), [
    (f"{_LONG_FACT}, which will be built over the next three years by a firm from the north.", f"{_LONG_FACT}."),
    (f"{_LONG_FACT} – the largest sum it has spent on a single project in a decade.", f"{_LONG_FACT}."),
])
def test_a_long_source_sentence_ships_as_a_point_cut_before_a_trailing_clause(sentence: str, cut: str) -> None:
    assert len(sentence.split()) > 30 and point_form(sentence) == cut and len(cut.split()) <= 30
    assert source_origin(point_form(sentence), sentence) == "edited"


@pytest.mark.parametrize("sentence", [
    f"{_LONG_FACT}, which the mayor said would be built over the next three years.",  # who said it
    f"{_LONG_FACT}, with work to begin only if the state pays for half of the bridge.",  # a condition
    f"{_LONG_FACT}, and the opposition voted against the plan after a long debate in the hall.",  # a list, an and
    "The mayor said the council had “approved a budget of 40 million dollars for the new bridge and the schools "
    "on Monday evening – the largest sum in a decade” after the vote.",  # inside a quote
    "Officials said the budget passed.",  # short: as written
])
def test_a_sentence_is_not_cut_where_the_cut_would_drop_its_speaker_condition_or_quote(sentence: str) -> None:
    assert point_form(sentence) == neutral_form(sentence)
