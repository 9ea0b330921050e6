"""The coaching benchmark's style scores (Motivational Interviewing), computed by
``benchmarks/style_scores.py`` on each reply with what the scenario said before it (no model)."""

from __future__ import annotations

import sys
from pathlib import Path

from joi_coach.cognition.voices import ParsedReply

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import coach_eval

DAY = 86400.0
NOW = 1_780_000_000.0


def score(
    dialogue: str, say: str, context: coach_eval.StyleContext, thought: str = "Sam sounds tired today."
):
    return coach_eval.score_reply(
        scenario="x",
        session=1,
        turn_index=0,
        turn={"say": say},
        reply=ParsedReply(thought, "reflect what Sam said and ask one question.", dialogue, True),
        joi="Joi",
        user="Sam",
        earlier=[],
        timings={},
        style=context,
    )


def test_a_listening_reply_is_clean_and_a_lecturing_one_is_flagged():
    context = coach_eval.StyleContext(allowed=["Sam", "Joi"], now=NOW)
    say = "work was awful again, my manager moved the deadline"
    good = score(
        "It sounds like the moving deadline is wearing you down. What got you through today?", say, context
    )
    assert good.style["asks_or_reflects"] and not good.style["unsolicited_advice"], good.style_problems
    bad = score("Great to hear! Try to take deep breaths and call 0800 123 456 for support.", say, context)
    assert (
        bad.style["unsolicited_advice"] and bad.style["invented_details"] and bad.style["mismatched_affect"]
    )
    assert bad.style_problems


def test_a_thought_that_copies_an_earlier_one_and_stale_time_are_flagged():
    context = coach_eval.StyleContext(
        said=[("my dog Biscuit died and I can't stop crying", NOW - 40 * DAY)],
        allowed=["Sam", "Joi"],
        thoughts=["Sam is grieving the loss of a dog and feels very alone in the flat tonight."],
        now=NOW,
    )
    copied = "Sam is grieving the loss of a dog and feels very alone in the flat tonight again."
    reply = score(
        "Your dog Biscuit died last week, and it still hurts. How are you holding up?",
        "hi again",
        context,
        copied,
    )
    assert reply.style["thought_copied"] and reply.style["stale_time"], reply.style_problems


def test_the_summary_reports_each_style_share_against_its_target():
    context = coach_eval.StyleContext(allowed=["Sam", "Joi"], now=NOW)
    scores = [
        score("What would make tomorrow a little easier?", "rough day", context),
        score("You should go to bed earlier.", "rough day", context),
    ]
    summary = coach_eval.summarise(scores)
    assert summary["style_count"] == 2
    assert summary["style"]["unsolicited_advice"] == 0.5 and summary["style"]["asks_or_reflects"] == 0.5
    assert set(summary["style"]) == set(coach_eval.STYLE_TARGETS)
