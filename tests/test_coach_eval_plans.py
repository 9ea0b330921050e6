"""The coaching benchmark's scoring of what Joi does unasked with what it knows: follow-ups,
connections and no forced connection, each scored apart from the memory probes (no model)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from joi_coach.cognition.voices import ParsedReply

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import coach_eval


def score(dialogue: str, **expect: list[str]):
    return coach_eval.score_reply(
        scenario="x",
        session=1,
        turn_index=0,
        turn={"say": "hey", **expect},
        reply=ParsedReply("Sam is back.", "ask about the week.", dialogue, True),
        joi="Joi",
        user="Sam",
        earlier=[],
        timings={},
    )


def test_each_field_is_met_or_missed_on_the_dialogue():
    hit = score(
        "Last week you planned to call your brother on Sunday. How did it go?", expect_followup=["brother"]
    )
    miss = score("Hi Sam! How are you today?", expect_followup=["brother"])
    assert (hit.followup, miss.followup) == (True, False) and hit.probe is None
    assert score("You told me the stitches come out Friday.", expect_connection=["stitch"]).connection is True
    assert score("Lovely cake!", expect_no_connection=["stitch", "physio"]).no_forced is True
    assert (
        score("Remember your physio's limit.", expect_no_connection=["stitch", "physio"]).no_forced is False
    )


def test_the_summary_reports_each_share_with_its_count_and_target(capsys):
    scores = [
        score("your brother?", expect_followup=["brother"]),
        score("hello", expect_followup=["brother"]),
        score("the stitches", expect_connection=["stitch"]),
        score("a cake", expect_no_connection=["stitch"]),
    ]
    summary = coach_eval.summarise(scores)
    assert summary["followups"] == 0.5 and summary["followup_count"] == 2
    assert summary["connections"] == 1.0 and summary["no_forced_connection"] == 1.0
    coach_eval.print_summary(summary, scores)
    out = capsys.readouterr().out
    assert "follow-ups: 50.0% of 2 (target ≥ 80%: NOT met)" in out
    assert "connections: 100.0% of 1 (target ≥ 70%: met)" in out


@pytest.mark.parametrize("key", ["expect_followup", "expect_connection", "expect_no_connection"])
def test_the_fields_are_lists_of_strings(tmp_path, key):
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"user": "Sam", "sessions": [{"turns": [{"say": "hi", key: "brother"}]}]}]))
    with pytest.raises(coach_eval.ScenarioError, match=key):
        coach_eval.load_scenarios(path)
