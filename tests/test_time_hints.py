"""Past days named in a message, and recall of the memories made on them (real store, real MiniLM)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import date, datetime

import pytest
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.retrieval import RetrievalSettings
from joi_coach.memory.time_hints import named_days


@pytest.fixture(autouse=True)
def utc():
    """Days run in the process's local time zone: pin it for the test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def at(day: str, hour: int = 12) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00").timestamp()


NOW = at("2023-05-07", 20)  # a Sunday


def days(text: str, now: float = NOW) -> list[str]:
    return [date.fromtimestamp(start).isoformat() for start, _ in named_days(text, now)]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("I mentioned on May 2nd that I went to the museum.", ["2023-05-02"]),
        ("What did we talk about on 30th of April?", ["2023-04-30"]),
        ("What happened on 2023-05-01?", ["2023-05-01"]),
        ("Yesterday was rough.", ["2023-05-06"]),
        ("The day before yesterday I ran.", ["2023-05-05"]),
        ("Three days ago I told you about Ana.", ["2023-05-04"]),
        ("What did I tell you last Monday?", ["2023-05-01"]),
        ("On Friday I tried the new route.", ["2023-05-05"]),
        ("What did I say on May 2 and on May 4, 2023?", ["2023-05-02", "2023-05-04"]),
    ],
)
def test_past_days_are_read(text, named):
    assert days(text) == named


@pytest.mark.parametrize(
    "text",
    [
        "My exam is on May 14.",  # later this year: a plan
        "On Friday I will try again.",  # a weekday with no past tense
        "I was born on 30 February.",  # no such day
        "What is my sister's name?",
        "I feel so tired today.",  # today's talk is in the prompt already
        "On May 14, 2024 I will move.",  # a later year
    ],
)
def test_plans_and_other_words_name_no_past_day(text):
    assert days(text) == []


def test_a_date_ahead_this_year_asked_about_in_the_past_tense_is_last_years():
    january = at("2024-01-03")
    assert days("What did I say on December 30th?", january) == ["2023-12-30"]
    assert days("My trip is on December 30th.", january) == []


def test_the_day_named_brings_its_memories_first(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    lines = [
        ("2023-05-01", "I went to the museum and saw the impressionist exhibition."),
        ("2023-05-02", "Work was busy and I felt tired all day."),
        ("2023-05-02", "In the evening I cooked pasta with my flatmate."),
        ("2023-05-03", "I made plans for the museum visit next month."),
        ("2023-05-04", "My sister called and we argued about money."),
    ]
    ids = bank.add([NewMemory(Stream.DIALOGUE, text, at(day)) for day, text in lines])
    question = "What topics did we talk about on May 2nd?"
    recalled = bank.recall(question, {Stream.DIALOGUE: 2}, now=NOW, touch=False)[Stream.DIALOGUE]
    assert {r.memory.id for r in recalled} == {ids[1], ids[2]}
    assert all(r.score.named_day == 1.0 for r in recalled)
    bank.settings = replace(bank.settings, named_day_weight=0.0)  # the lever off: the day is not read
    off = bank.recall(question, {Stream.DIALOGUE: 2}, now=NOW, touch=False)[Stream.DIALOGUE]
    assert {r.memory.id for r in off} != {ids[1], ids[2]} and all(r.score.named_day == 0 for r in off)


def test_of_two_like_memories_the_one_from_the_named_day_comes_first(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    ids = bank.add(
        [
            NewMemory(Stream.DIALOGUE, "I went to the museum and loved the paintings.", at("2023-05-01")),
            NewMemory(
                Stream.DIALOGUE, "I went to the museum again and loved the sculptures.", at("2023-05-03")
            ),
        ]
    )
    for day, expected in (("May 1st", ids[0]), ("May 3rd", ids[1])):
        question = f"What did I see at the museum on {day}?"
        top = bank.recall(question, {Stream.DIALOGUE: 1}, now=NOW, touch=False)[Stream.DIALOGUE][0]
        assert top.memory.id == expected


def test_a_named_day_outside_every_other_candidate_list_is_still_found(tmp_path, embedder):
    settings = RetrievalSettings(candidate_pool=4)  # the day's memory is neither near, lexical nor recent
    bank = MemoryBank(tmp_path, embedder, settings)
    old = bank.add([NewMemory(Stream.DIALOGUE, "We spoke about nothing much.", at("2023-04-01"))])[0]
    bank.add([NewMemory(Stream.DIALOGUE, f"Museum talk number {i}.", at("2023-05-06")) for i in range(20)])
    recalled = bank.recall("What did we talk about on April 1st?", {Stream.DIALOGUE: 1}, now=NOW, touch=False)
    assert recalled[Stream.DIALOGUE][0].memory.id == old


def test_the_weight_is_checked():
    with pytest.raises(ValueError, match="named_day_weight"):
        RetrievalSettings(named_day_weight=-1)
