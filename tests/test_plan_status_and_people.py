"""The focused parts of plan noting: people read by code from their relation, and each touched
ledger entry's status decided by its own one-word question (a scripted model answers)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from joi_coach.cognition.people import people_in, with_people
from joi_coach.cognition.plan_cues import cued_sentences, with_cued_notes
from joi_coach.cognition.plan_notes import Line, NewEntry, StatusChange, parse_proposals
from joi_coach.cognition.plan_status import check_statuses, read_answer, touched
from joi_coach.memory.plans import PlanEntry, PlanKind, PlanStatus

FRIDAY = datetime(2026, 7, 22, 20, 0, tzinfo=timezone.utc).timestamp()


def entry(id_: int, kind: PlanKind, text: str, status: PlanStatus = PlanStatus.ACTIVE) -> PlanEntry:
    return PlanEntry(id_, kind, text, status, None, 0.0, 0.0, "joi")


@pytest.mark.parametrize(
    ("text", "notes"),
    [
        ("My brother Tomasz keeps texting me", ["Tomasz, my brother"]),
        (
            "so my mum, Adaeze, moves in soon and my husband Chidi is not thrilled",
            ["Adaeze, my mum", "Chidi, my husband"],
        ),
        ("maybe my old coworker Priya? we had lunch every day", ["Priya, my coworker"]),
        ("Jess, my flatmate, left the bins again", ["Jess, my flatmate"]),
        (
            "patience with my twins. Ife and Tolu, they're 4",
            ["Ife, one of my twins", "Tolu, one of my twins"],
        ),
    ],
)
def test_people_named_with_their_relation_are_found(text, notes):
    assert [someone.note for someone in people_in(text, "Sam")] == notes


@pytest.mark.parametrize(
    "text",
    [
        "my friend said I should rest",  # no name
        "my brother. He said no",  # a pronoun after a full stop
        "my boss Monday was awful",  # a weekday is not a name
        "I told Maria. my sister knows too",  # never across a full stop
        "Sam, my friend says hi",  # the person's own name
        "my roommate jess was loud",  # a lowercase word is not taken for a name
    ],
)
def test_no_one_is_invented(text):
    assert people_in(text, "Sam") == []


def test_code_found_people_replace_the_models_and_known_people_are_not_added_again():
    lines = [Line(1, "my sister Leila got engaged and my friend Dario called", FRIDAY)]
    known = [entry(3, PlanKind.PERSON, "Dario, my friend")]
    model = [
        NewEntry(PlanKind.PERSON, "Leila, sister", None, (1,)),
        NewEntry(PlanKind.GOAL, "call more", None, (1,)),
    ]
    kept = with_people(model, lines, known, "Sam")
    people = [p.text for p in kept if isinstance(p, NewEntry) and p.kind is PlanKind.PERSON]
    assert people == ["Leila, my sister"], "the code's note, once; Dario is known already"
    assert any(isinstance(p, NewEntry) and p.kind is PlanKind.GOAL for p in kept)


LINES = [
    Line(0, "Hey! How did the gym plan go this week?", FRIDAY),
    Line(1, "did both!! legs are dead", FRIDAY),
    Line(2, "also I had to push dinner with Sofia to friday next week", FRIDAY),
]
GYM = entry(1, PlanKind.COMMITMENT, "go to the gym on Monday and Thursday")
DINNER = entry(2, PlanKind.COMMITMENT, "dinner with Sofia on Friday")
SOFIA = entry(3, PlanKind.PERSON, "Sofia, my best friend")


def test_an_entry_is_touched_by_a_shared_word_or_by_an_answer_to_joi_asking_about_it():
    assert touched(GYM, LINES) == (1,), "line 1 answers Joi's question about the gym"
    assert touched(DINNER, LINES) == (2,)
    assert touched(entry(9, PlanKind.GOAL, "learn the cello"), LINES) == ()


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("done", PlanStatus.DONE),
        ("Missed.", PlanStatus.MISSED),
        (" dropped", PlanStatus.DROPPED),
        ("same", None),
        ("I think it is done", None),
        ("", None),
    ],
)
def test_one_word_answers_are_read_strictly(answer, status):
    assert read_answer(answer) is status


class Scripted:
    """Answers the questions in order; records what it was asked."""

    def __init__(self, *answers: str) -> None:
        self.answers, self.asked = list(answers), []

    def __call__(self, messages, params):
        self.asked.append(messages[-1]["content"])
        return self.answers.pop(0)


def test_the_focused_answer_adds_a_missed_change_and_overrules_a_wrong_one():
    model = Scripted("did", "same")
    noted = [StatusChange(2, PlanStatus.DONE, (2,))]  # the noting step got the dinner wrong
    kept = check_statuses(model, "Sam", LINES, [GYM, DINNER, SOFIA], noted)
    assert kept == [StatusChange(1, PlanStatus.DONE, (1,))]
    assert len(model.asked) == 2, "people are not asked about"
    assert '"go to the gym on Monday and Thursday"' in model.asked[0] and "did both" in model.asked[0]


def test_a_changed_entry_gets_its_new_version_checked_like_any_note():
    model = Scripted("changed", "dinner with Sofia (when: friday next week)")
    (replacement,) = check_statuses(model, "Sam", LINES, [DINNER], [])
    assert isinstance(replacement, NewEntry) and replacement.replaces == 2
    assert replacement.text == "dinner with Sofia" and replacement.lines == (2,)
    assert datetime.fromtimestamp(replacement.due_at, tz=timezone.utc).date().isoformat() == "2026-07-31"


def test_a_new_version_with_an_invented_number_is_dropped():
    model = Scripted("changed", "dinner with Sofia at 8 (when: none)")
    assert check_statuses(model, "Sam", LINES, [DINNER], []) == []


def test_notes_with_nothing_to_keep_are_dropped():
    lines = [Line(1, "I feel guilt about it, no change there", FRIDAY)]
    answer = "[1] limit: guilt\n[1] limit: no change\n[1] goal: <the note>\n[1] goal: feel less guilt"
    assert parse_proposals(answer, lines, []) == [NewEntry(PlanKind.GOAL, "feel less guilt", None, (1,))]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "idk, guilt mostly. but ok. I'm calling him tomorrow after work. no more excuses",
            PlanKind.COMMITMENT,
        ),
        ("I'll message her by wednesday", PlanKind.COMMITMENT),
        ("gonna install a site blocker for youtube during work hours", PlanKind.COMMITMENT),
        ("doc says I can jog again but max 20 minutes on flat ground", PlanKind.LIMIT),
        ("with the commute I'll only have 30 minutes for exercise", PlanKind.LIMIT),
        ("my GP told me to cut caffeine to one cup a day", PlanKind.LIMIT),
    ],
)
def test_stated_commitments_and_limits_are_found_by_their_cue_words(text, kind):
    (cue,) = cued_sentences([Line(1, text, FRIDAY)])
    assert cue.kind is kind and cue.line == 1 and cue.sentence in text


@pytest.mark.parametrize(
    "text",
    [
        "maybe I'll go running tomorrow",  # a maybe
        "should I call him tomorrow?",  # a question
        "I'll try I guess",  # "try" is no step
        "if it rains I'll stay in",  # a condition
        "my cousin keeps telling me to try yoga",  # someone else's idea
    ],
)
def test_wishes_questions_and_conditions_are_no_cues(text):
    assert cued_sentences([Line(1, text, FRIDAY)]) == []


def test_joi_lines_are_never_read_for_cues():
    assert cued_sentences([Line(0, "I'll remind you tomorrow", FRIDAY)]) == []


def test_a_cued_note_names_who_and_replaces_the_noting_steps_note_from_that_line():
    lines = [
        Line(1, "My brother Tomasz keeps texting me", FRIDAY),
        Line(0, "What's made it hard to reply?", FRIDAY),
        Line(2, "guilt mostly. I'm calling him tomorrow after work", FRIDAY),
    ]
    model = Scripted("call Tomasz after work (when: tomorrow)")
    noted = [
        NewEntry(PlanKind.COMMITMENT, "call him", None, (2,)),
        NewEntry(PlanKind.GOAL, "feel less guilt", None, (2,)),
    ]
    kept = with_cued_notes(model, "Sam", lines, [], noted)
    (call,) = [p for p in kept if isinstance(p, NewEntry) and p.kind is PlanKind.COMMITMENT]
    assert call.text == "call Tomasz after work" and call.lines == (1, 2), "the line naming him is cited too"
    assert datetime.fromtimestamp(call.due_at, tz=timezone.utc).date().isoformat() == "2026-07-23"
    assert any(isinstance(p, NewEntry) and p.kind is PlanKind.GOAL for p in kept), "other kinds stay"
    assert '"guilt mostly. I\'m calling him tomorrow after work"' in model.asked[0]


def test_a_cued_note_with_a_name_the_line_lacks_is_dropped():
    lines = [Line(1, "I'm calling him tomorrow after work", FRIDAY)]
    assert with_cued_notes(Scripted("call Tomasz (when: tomorrow)"), "Sam", lines, [], []) == []


def test_a_commitment_is_cued_from_its_cue_words_on():
    text = "plan is stretches every morning, and I'm gonna ring the clinic on Monday. keep forgetting"
    (cue,) = cued_sentences([Line(1, text, FRIDAY)])
    assert cue.sentence == "I'm gonna ring the clinic on Monday."


@pytest.mark.parametrize(
    ("note", "why"),
    [
        ("stretch for ten minutes after work", "an example's note, not the person's words"),
        ("practice strength training exercises before work", "Joi's suggestion, not the person's"),
    ],
)
def test_a_note_whose_words_are_not_the_cited_lines_is_dropped(note, why):
    lines = [
        Line(0, "You could practice strength training exercises before work.", FRIDAY),
        Line(1, "I do quad sets and heel slides every morning", FRIDAY),
    ]
    assert parse_proposals(f"[1] commitment: {note}", lines, []) == [], why
    assert parse_proposals("[1] commitment: quad sets and heel slides every morning", lines, [])
