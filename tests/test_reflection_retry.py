"""Reflection asks again for its salient questions when a small model answers in another shape."""

from __future__ import annotations

from joi_coach.cognition.reflection import QUESTION_SEEDS, Reflector
from joi_coach.memory.models import Memory, Stream

RECENT = [Memory(i, Stream.DIALOGUE, f"Sam said thing number {i} about running.", 1.0, 1.0) for i in (1, 2)]


def reflector(replies: list[str], seeds: list[int | None]) -> Reflector:
    def complete(messages, params) -> str:
        seeds.append(params.seed)
        return replies.pop(0) if replies else ""

    return Reflector(complete)


def test_questions_that_do_not_parse_are_asked_for_again():
    seeds: list[int | None] = []
    replies = [
        "Sure! Here are my thoughts about Sam.",  # no question at all
        "1. What keeps Sam running?",
        "Sam runs for his sister (because of 1, 2)",
    ]
    stored = reflector(replies, seeds).reflect(RECENT, lambda q: RECENT, "Sam", now=10.0)
    assert seeds[:2] == [0, 1], "a second try, with another seed"
    assert [m.text for m in stored] == ["Sam runs for his sister"] and stored[0].evidence == (1, 2)


def test_reflection_gives_up_after_its_tries():
    seeds: list[int | None] = []
    stored = reflector(["no questions here"] * 5, seeds).reflect(RECENT, lambda q: RECENT, "Sam", now=10.0)
    assert stored == [] and seeds == list(QUESTION_SEEDS)
