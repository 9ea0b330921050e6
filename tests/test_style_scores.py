"""The benchmark's MI style scorer (benchmarks/style_scores.py): hand-written replies, good and bad,
each a behaviour that can fail; and the scorer kept apart from the run-time guard."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import style_scores
from style_scores import StyleScore, asked_for_advice, copied_thought, score_reply

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

DAY = 86400.0
NOW = 1_750_000_000.0
OFFER = "Would it help if I shared an idea?"


# ---------------------------------------------------------------- advice


@pytest.mark.parametrize(
    ("reply", "message", "previous", "unsolicited"),
    [
        ("Try going to bed at the same time each night.", "I can't sleep.", "", True),
        ("You should talk to a therapist about this.", "Work has been so stressful.", "", True),
        ("It might help to write down three things before bed.", "My mind races at night.", "", True),
        ("Maybe set a reminder for your evening walk.", "I keep forgetting to walk.", "", True),
        ("Why not try a short run tomorrow?", "I skipped my runs again.", "", True),
        ("Have you tried meditating before bed?", "I lie awake for hours.", "", True),
        ("I'd suggest breaking the essay into smaller pieces.", "The essay feels huge.", "", True),
        ("Take a deep breath. You can get through the meeting.", "I'm nervous about the meeting.", "", True),
        ("One idea: keep the phone out of the bedroom.", "What should I do about my sleep?", "", False),
        ("You could start with ten minutes a day.", "Any tips for getting back into reading?", "", False),
        ("Would it help if I shared an idea?", "I keep snacking at night.", "", False),
        ("Would you like some ideas, or would you rather just vent?", "Work was awful.", "", False),
        ("What might help you get through the evenings?", "Evenings are the worst.", "", False),
        ("What do you think you could do differently next time?", "I blew up at my sister.", "", False),
        ("Maybe set a reminder for the evening.", "yes please", OFFER, False),
        ("Maybe set a reminder for the evening.", "yes please", "", True),
        (
            "Some people write the worry down and close the notebook.",
            "sure, go ahead",
            "Can I offer a thought?",
            False,
        ),
        ("You should be really proud of that.", "I finally ran the whole 5k!", "", False),
    ],
)
def test_advice_is_unsolicited_only_when_not_asked_for(reply, message, previous, unsolicited):
    assert score_reply(reply, message, previous_joi_line=previous).unsolicited_advice is unsolicited


@pytest.mark.parametrize(
    ("message", "previous", "asked"),
    [
        ("What should I do?", "", True),
        ("any tips for falling asleep?", "", True),
        ("How do I stay motivated when it rains?", "", True),
        ("Can you suggest something for the mornings?", "", True),
        ("What would you do in my place?", "", True),
        ("ideas?", "", True),
        ("Help me figure out a plan for the week.", "", True),
        ("yes please", OFFER, True),
        ("ok sure", "Would you like some ideas?", True),
        ("yes please", "", False),
        ("ok", "How was your day?", False),
        ("I had a rough day at work.", "", False),
        ("I don't know what to do.", "", False),
        ("Yes, and then my boss walked in and everything went wrong from there.", OFFER, False),
    ],
)
def test_asked_for_advice(message, previous, asked):
    assert asked_for_advice(message, previous_joi_line=previous) is asked


# ---------------------------------------------------------------- questions, reflections, affirmations


@pytest.mark.parametrize(
    ("reply", "message", "expected"),
    [
        (
            "So part of you wants to quit, and part of you wants to stay?",
            "I hate the job but love the team.",
            True,
        ),
        ("It sounds like the evenings are the hardest part.", "Evenings are hard.", True),
        ("What got in the way this time?", "I skipped the gym again.", True),
        ("You said the run hurt — how is it now?", "hey", True),
        ("Tell me more about that.", "My brother called.", True),
        ("You went to the gym three times this week.", "I went to the gym three times this week!", True),
        ("You managed to get out of bed on a hard day.", "I got up today.", True),
        ("That took courage.", "I told my boss I was struggling.", True),
        ("You must be exhausted after that week.", "Three night shifts in a row.", True),
        ("I hope you feel better soon.", "I have the flu.", False),
        ("Do you want to talk about it?", "Bad day.", False),
        ("Would it help if I shared an idea?", "I keep snacking.", False),
        ("Are you feeling any better?", "I was ill.", False),
        ("Why didn't you just go?", "I skipped the class.", False),
        ("Okay. Good luck!", "I have an exam.", False),
        ("Try a walk after lunch.", "I feel sluggish.", False),
    ],
)
def test_asks_or_reflects(reply, message, expected):
    assert score_reply(reply, message).asks_or_reflects is expected


# ---------------------------------------------------------------- platitudes


@pytest.mark.parametrize(
    ("reply", "message", "expected"),
    [
        ("Everything happens for a reason.", "I lost my job.", True),
        ("You've got this!", "Exam tomorrow.", True),
        ("Just take it one day at a time.", "Quitting smoking is hard.", True),
        ("It's okay to not be okay.", "I feel low.", True),
        ("Life is full of ups and downs.", "Rough week.", True),
        ("Remember to be kind to yourself.", "I messed up.", True),
        ("I'm here for you.", "Bad day.", True),
        ("You're not alone in this.", "My dad died.", True),
        ("Every day is a gift.", "I'm bored.", True),
        ("What keeps you going on the hard days?", "Some days are hard.", False),
        ("Is that something you can do this week?", "I want to call my mum.", False),
        ("I'm here for you while you grieve your dad.", "My dad died last month.", False),
        ("It sounds like losing the job shook you.", "I lost my job.", False),
    ],
)
def test_platitudes(reply, message, expected):
    assert score_reply(reply, message).platitude is expected


# ---------------------------------------------------------------- affect


@pytest.mark.parametrize(
    ("reply", "message", "expected"),
    [
        ("Great to hear! What's the plan?", "I'm so anxious about tomorrow.", True),
        ("That's wonderful. What's next?", "I relapsed last night.", True),
        ("Glad to hear! What happened?", "I failed my driving test.", True),
        ("You're welcome! What's next?", "I missed my run again.", True),
        ("You're welcome! How's the week going?", "thanks!", False),
        ("Glad to hear it! What helped?", "I finally slept 8 hours.", False),
        ("Glad to hear! How did you do it?", "I was anxious but I managed the presentation.", False),
        ("You're welcome to message me any time. What's weighing on you?", "I'm sad.", False),
        ("That sounds so hard. What's the loneliest part?", "I'm lonely.", False),
        ("No problem at all. How have you been?", "Sorry I vanished last week.", False),
    ],
)
def test_mismatched_affect(reply, message, expected):
    assert score_reply(reply, message).mismatched_affect is expected


# ---------------------------------------------------------------- invented details


@pytest.mark.parametrize(
    ("reply", "message", "known", "allowed", "invented"),
    [
        ("5k is a real step. How did it feel?", "I ran 5k today!", (), (), ()),
        ("Your 3 runs this week add up.", "I ran three times this week.", (), (), ()),
        ("How did the 10am meeting with Priya go?", "hi", ("Meeting with Priya at 10am on Tuesday",), (), ()),
        ("Please call 116 123 now.", "I can't go on.", (), ("Samaritans: 116 123",), ()),
        ("Call 0800 555 0199 tonight.", "I feel awful.", (), ("Samaritans: 116 123",), ("0800 555 0199",)),
        ("How is Sarah doing?", "My sister is visiting.", (), (), ("Sarah",)),
        ("You planned the race for 12 May.", "I signed up for a race.", (), (), ("12 May",)),
        ("It's on May 12th, right?", "The race is on 12 May.", (), (), ()),
        ("Sam, how was it?", "hi", (), (), ("Sam",)),
        ("Sam, how was it?", "hi", ("The person's name is Sam.",), (), ()),
        ("What's on for Monday?", "hi", (), (), ()),
        ("That's a lot. How long has it been?", "My back hurts.", (), (), ()),
        ("1. Pick a time.\n2. Set an alarm.", "What should I do?", (), (), ()),
        ("You said you'd save £50 a week.", "I'm saving.", ("Wants to save 40 pounds a week",), (), ("£50",)),
        ("See you at 7pm, Maya's waiting.", "Maya and I train at seven.", (), (), ()),
    ],
)
def test_invented_details(reply, message, known, allowed, invented):
    assert score_reply(reply, message, known=known, allowed=allowed).invented_details == invented


# ---------------------------------------------------------------- stale time


@pytest.mark.parametrize(
    ("reply", "message", "memory", "age_days", "stale"),
    [
        (
            "Last week you said your knee was sore after the run.",
            "hey",
            "My knee was sore after the run",
            30,
            True,
        ),
        (
            "Last week you said your knee was sore after the run.",
            "hey",
            "My knee was sore after the run",
            3,
            False,
        ),
        (
            "Yesterday you had the big interview at the bank.",
            "hi",
            "Big interview at the bank on Friday",
            3,
            True,
        ),
        (
            "Yesterday you had the big interview at the bank.",
            "hi",
            "Big interview at the bank on Friday",
            1,
            False,
        ),
        ("Recently you started painting again.", "hi", "Started painting again after years", 40, True),
        (
            "Last week you said your knee was sore after the run.",
            "hey",
            "Bought new curtains for the flat",
            30,
            False,
        ),
        (
            "Yesterday your knee hurt after the run?",
            "My knee hurt after the run yesterday.",
            "Knee hurt after the run",
            30,
            False,
        ),
    ],
)
def test_stale_time(reply, message, memory, age_days, stale):
    dated = [(memory, NOW - age_days * DAY)]
    assert score_reply(reply, message, dated=dated, now=NOW).stale_time is stale


# ---------------------------------------------------------------- copied thoughts


@pytest.mark.parametrize(
    ("thought", "earlier", "copied"),
    [
        (
            "Sam seems tired and the run keeps slipping this week.",
            ["Sam seems tired and the run keeps slipping."],
            True,
        ),
        (
            "Now: sam seems tired and the run keeps slipping away.",
            ["SAM seems tired, and the run keeps..."],
            False,
        ),
        (
            "Sam, seems TIRED and the run keeps slipping!",
            ["sam seems tired and the run keeps slipping"],
            True,
        ),
        ("He is happy about the new job today.", ["She is happy about the new job.", "He is happy"], False),
        ("Short thought.", ["Short thought."], False),
    ],
)
def test_copied_thought(thought, earlier, copied):
    assert copied_thought(thought, earlier) is copied


def test_copied_thought_counts_exactly_min_words():
    eight = "one two three four five six seven eight"
    assert copied_thought(f"x {eight} y", [f"z {eight} w"]) is True
    seven = "one two three four five six seven"
    assert copied_thought(f"x {seven} y", [f"z {seven} w"]) is False
    assert copied_thought(f"x {seven} y", [f"z {seven} w"], min_words=7) is True


# ---------------------------------------------------------------- the whole score


def test_a_good_reply_has_no_problems():
    score = score_reply(
        "It sounds like the 5k took more out of you than you expected. What was the hardest stretch?",
        "I ran the 5k but it wrecked me.",
    )
    assert score == StyleScore(False, True, False, False, (), False)
    assert score.problems() == []


def test_a_bad_reply_lists_each_problem():
    score = score_reply(
        "Great to hear! You've got this. Call Dr Patel at 9am last week like you said.",
        "I'm so stressed, I can't face the clinic.",
        dated=[("Dr Patel at the clinic wanted a call", NOW - 60 * DAY)],
        now=NOW,
    )
    assert score.unsolicited_advice and score.platitude and score.mismatched_affect and score.stale_time
    assert not score.asks_or_reflects
    assert score.invented_details == ("9am", "Patel")
    assert len(score.problems()) == 6
    assert "9am" in score.problems()[4]


def test_the_scorer_is_written_apart_from_the_run_time_guard():
    forbidden = ("spoken_guard", "reply_checks", "reply_format")
    source = (BENCHMARKS / "style_scores.py").read_text(encoding="utf-8")
    imported: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported += [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
    assert imported, "the scorer imports nothing?"
    assert not [name for name in imported if any(part in name for part in forbidden)]
    assert all(
        name.split(".")[0] in {"__future__", "re", "time", "collections", "dataclasses", "yaml"}
        for name in imported
    )
    rules = BENCHMARKS / "style_rules.yaml"
    if rules.exists():
        assert not any(part in rules.read_text(encoding="utf-8") for part in forbidden)
    assert style_scores.__doc__ and "Advice" in style_scores.__doc__


def test_how_long_ago_worked_out_from_the_clock_is_not_invented():
    dated = [("I'll practise ten minutes a day", NOW - 6 * DAY)]
    said = "You told me 6 days ago your plan: practise ten minutes a day. How did it go?"
    assert score_reply(said, "hi", dated=dated, now=NOW).invented_details == ()
    wrong = "You told me 9 days ago your plan: practise ten minutes a day. How did it go?"
    assert score_reply(wrong, "hi", dated=dated, now=NOW).invented_details == ("9",)
