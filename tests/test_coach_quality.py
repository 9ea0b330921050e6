"""Two short scenarios through the real coach on the embedded model: every reply in format, and Joi's.

The acceptance layer of ``benchmarks/coach_eval.py``: the same harness and checks, on two
people it was not tuned on, with sessions days apart so recall comes from memory.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from joi_coach.coach import Coach
from joi_coach.config import CoachSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import coach_eval
from reply_paths import CoachPath

pytestmark = pytest.mark.llm

SCENARIOS = [
    {
        "name": "guitar",
        "user": "Noor",
        "sessions": [
            {
                "after_days": 0,
                "turns": [
                    {
                        "say": "I bought a second-hand guitar last week. I want to play one song for my mum's 60th."
                    },
                    {"say": "I practise maybe ten minutes a day but my fingers hurt."},
                ],
            },
            {
                "after_days": 6,
                "turns": [
                    {"say": "Whose birthday did I say I'm practising for?", "expect_any": ["mum", "mother"]},
                    {
                        "say": "I skipped practice three days in a row.",
                        "expect_none": ["Thank you for the advice"],
                    },
                ],
            },
        ],
    },
    {
        "name": "sleep",
        "user": "Ravi",
        "sessions": [
            {
                "after_days": 0,
                "turns": [{"say": "I scroll on my phone until 2am and then I'm wrecked at work."}],
            },
            {
                "after_days": 3,
                "turns": [
                    {"say": "I left my phone in the kitchen two nights this week!"},
                    {"say": "Work was calmer today, my manager Jo even thanked me."},
                ],
            },
        ],
    },
]


def test_every_reply_is_in_format_spoken_by_joi_and_remembers(tmp_path, embedder, embedded_llm):
    defaults = CoachSettings()
    settings = replace(defaults, reply=replace(defaults.reply, seed=0))
    coach = Coach(embedded_llm, embedder, tmp_path, settings=settings)
    try:
        scores = [
            s
            for i, scenario in enumerate(SCENARIOS)
            for s in coach_eval.run_scenario(CoachPath(coach, "embedded"), scenario, i, None).scores
        ]
    finally:
        coach.close()
    assert len(scores) == 7
    transcript = "\n".join(f"{s.say!r} -> {s.dialogue!r} {s.problems}" for s in scores)
    assert all(s.format_ok for s in scores), transcript
    assert all(s.speaks_as_joi for s in scores), transcript
    assert all(s.repeated_words < coach_eval.REPEAT_LIMIT for s in scores), transcript
    # The one memory probe, asked six days later, is answered from what Noor said.
    assert [s.probe for s in scores if s.probe is not None] == [True], transcript
    # A coach's talk, scored by the benchmark's own rules (written apart from the run-time guard):
    # nobody asked for advice here, so at most one reply gives it; most reflect, ask or affirm.
    style = "\n".join(f"{s.dialogue!r} {s.style_problems}" for s in scores)
    assert sum(s.style["unsolicited_advice"] for s in scores) <= 1, style
    assert sum(s.style["asks_or_reflects"] for s in scores) >= 4, style
    assert not any(s.style["platitude"] or s.style["thought_copied"] for s in scores), style
