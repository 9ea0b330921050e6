"""The HTML views escape every text a person or the model wrote."""

from __future__ import annotations

from joi_coach.coach import Recalled
from joi_coach.memory.models import Memory, Stream
from joi_coach.memory.retrieval import Recollection
from joi_coach.memory.scoring import ScoreBreakdown
from joi_coach.ui.views import (
    as_plain_markdown,
    as_safe_markdown,
    memory_detail_html,
    memory_rows,
    recalled_html,
    reflection_tree_html,
    thoughts_html,
)

EVIL = '<script>alert("x")</script> <img src=x onerror=alert(1)> **bold** # heading'


def mem(i: int, text: str, stream: Stream = Stream.DIALOGUE, evidence: tuple[int, ...] = ()) -> Memory:
    return Memory(i, stream, text, 1000.0 * i, 1000.0 * i, importance=5, evidence=evidence)


def test_person_text_is_shown_exactly_as_typed():
    shown = as_plain_markdown(EVIL)
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "<img" not in shown
    assert r"\*\*bold\*\*" in shown and r"\# heading" in shown
    assert "<" not in as_safe_markdown("Joi says <b>hi</b> **warmly**") and "**warmly**" in as_safe_markdown(
        "**warmly**"
    )


def test_every_view_escapes_memory_text():
    evil = mem(1, EVIL)
    score = ScoreBreakdown(0.5, 0.2, 0.9, 0.4, 2.0, 0.7, 1.0, 3.0)
    views = [
        thoughts_html(EVIL, EVIL, EVIL),
        recalled_html(Recalled({Stream.DIALOGUE: [Recollection(evil, score)]})),
        memory_detail_html(evil, [evil], [evil]),
        reflection_tree_html([mem(2, EVIL, Stream.REFLECTION, (1,))], {1: evil}),
    ]
    for html in views:
        assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert "2.00" in views[1] and "0.50" in views[1]  # the score breakdown is shown


def test_reflection_tree_nests_evidence_and_survives_a_cycle():
    a = mem(1, "ran a 5k")
    b = mem(2, "likes running", Stream.REFLECTION, (1, 3))
    c = mem(3, "deeper", Stream.REFLECTION, (2,))  # a cycle b <-> c must not loop forever
    html = reflection_tree_html([b, c], {1: a, 2: b, 3: c})
    assert html.count("<details>") >= 2 and "ran a 5k" in html


def test_memory_rows_shorten_long_text_but_keep_the_id():
    [row] = memory_rows([mem(7, "word " * 200)])
    assert row[0] == 7 and row[1] == "dialogue" and len(row[4]) <= 240 and row[4].endswith("…")
