"""The one neutrality check every shipped sentence passes, whoever wrote it."""

from __future__ import annotations

import pytest

from service.neutral import neutrality_problem


@pytest.mark.parametrize("sentence", [
    "President Joe Biden has made a landmark decision, authorizing Ukraine to use the missiles.",
    "This move signals that the United States is committed to protecting its sovereignty.",
    "This move is an important step towards strengthening Ukraine's defence.",
    "Biden's decision, influenced by the deployment of North Korean troops, marks a departure from his stance.",
    "The decision represents a significant shift in U.S. policy.",
    "The decision comes at a critical juncture for the war.",
    "Russia could respond by escalating the conflict.",
    "Let's delve into what this means for the region.",
])
def test_judgements_in_the_briefings_own_voice_are_not_neutral(sentence: str) -> None:
    assert neutrality_problem(sentence)


@pytest.mark.parametrize("sentence", [
    "Biden authorised Ukraine to use ATACMS missiles inside Russia.",
    "The Senate approved the bill by 78 votes to 18 in May 2024.",  # the month May is no hedge
    "Zelensky said the rockets would speak for themselves.",
    "Kremlin officials said the decision marks a significant escalation.",  # a judgement, attributed
    "Moscow warned that Russia could respond, according to state media.",
])
def test_reported_facts_and_attributed_views_are_neutral(sentence: str) -> None:
    assert neutrality_problem(sentence) is None
