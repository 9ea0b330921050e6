"""The character card's example can never be taken for the person: it names nobody."""

from __future__ import annotations

import re

import pytest
from joi_coach.persona import Character

NAMES = ["Dana", "Sam", "Priya", "Alex", "Maya"]


@pytest.mark.parametrize("person", NAMES)
def test_the_only_person_the_card_names_is_the_one_talking_to_joi(person):
    card = Character.load()
    filled = card.fill(card.context, person)
    assert filled.count(person) == card.context.count("{{user}}")  # every mention is {{user}}


def test_the_example_reply_names_nobody_and_thanks_nobody():
    card = Character.load()
    example = card.context.split("</think>")[-1].strip().splitlines()[0]
    capitalised = set(re.findall(r"\b[A-Z][a-z]+\b", example)) - {"A", "What", "I", "The"}
    assert capitalised == set(), capitalised
    assert "thank" not in example.lower()
