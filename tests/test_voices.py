"""The three-voice parser: real-model-like outputs, deviations, and arbitrary chunkings."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from joi_coach.cognition.voices import (
    PREAMBLE_LIMIT,
    Section,
    VoiceDelta,
    VoiceParser,
    match_label,
    parse_reply,
    unquote,
)


def stream(text: str, cuts: list[int]) -> tuple[dict[Section, str], object]:
    parser = VoiceParser()
    out = {s: "" for s in Section}
    bounds = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    for start, end in itertools.pairwise(bounds):
        for delta in parser.feed(text[start:end]):
            out[delta.section] += delta.text
    for delta in parser.finish():
        out[delta.section] += delta.text
    return out, parser.result()


def test_canonical_format():
    reply = parse_reply("Empathetic voice: They feel sad.\nTherapist voice: Ask gently.\nJoi: I hear you.")
    assert (reply.empathetic, reply.therapeutic, reply.dialogue) == (
        "They feel sad.",
        "Ask gently.",
        "I hear you.",
    )
    assert reply.labelled


def test_markdown_and_renamed_labels():
    reply = parse_reply(
        "**Inner Empathetic Voice:** sad\n\n### Inner Theoretical Therapist Voice:\nask why\n\n**Response**: Hey."
    )
    assert reply.empathetic == "sad"
    assert reply.therapeutic == "ask why"
    assert reply.dialogue == "Hey."


def test_quotes_around_a_whole_section_are_dropped():
    reply = parse_reply("Empathetic voice: \"They feel lost.\"\nJoi: “You said 'maybe' twice.”")
    assert reply.empathetic == "They feel lost."
    assert reply.dialogue == "You said 'maybe' twice."
    assert parse_reply('Joi: "Yes," she said, "go."').dialogue == '"Yes," she said, "go."'


def test_no_labels_is_all_dialogue():
    assert parse_reply("Just a plain answer.\nTwo lines.").dialogue == "Just a plain answer.\nTwo lines."


def test_missing_voice_keeps_the_rest():
    reply = parse_reply("Therapist voice: reframe it\nJoi: What would a friend say?")
    assert reply.empathetic == ""
    assert reply.therapeutic == "reframe it"
    assert reply.dialogue == "What would a friend say?"


def test_short_preamble_joins_first_section_long_one_is_dialogue():
    reply = parse_reply("Sure.\nEmpathetic voice: tired\nJoi: Rest.")
    assert reply.empathetic.startswith("Sure.") and "tired" in reply.empathetic
    long_intro = "x" * (PREAMBLE_LIMIT + 5)
    reply = parse_reply(f"{long_intro}\nJoi: Rest.")
    assert reply.dialogue.startswith(long_intro) and reply.dialogue.endswith("Rest.")


def test_words_that_look_like_labels_mid_text_are_kept():
    reply = parse_reply("Joi: I think joi: is a word, and Response: too.\nresponses matter")
    assert reply.dialogue == "I think joi: is a word, and Response: too.\nresponses matter"


def test_label_with_parenthetical_and_odd_colon():
    assert match_label("Joi (warmly)： hello") is not None
    assert match_label("Joint pain: is real") is None
    assert match_label("Note: Joi: hi") is None


# -- property tests -----------------------------------------------------------------------
LABELS = [
    "Empathetic voice:",
    "Inner Empathetic Voice:",
    "**Empathetic voice:**",
    "Therapist voice:",
    "Inner Theoretical Therapist Voice:",
    "### Therapist voice:",
    "Joi:",
    "**Joi:**",
    "Response:",
]
words = st.text(alphabet="abcdefgh <>&é😀.,!?*", min_size=1, max_size=20).filter(
    lambda w: w.strip() and not match_label(w)
)
line = st.lists(words, min_size=1, max_size=6).map(" ".join)
block = st.tuples(st.sampled_from([*LABELS, "", ""]), st.lists(line, min_size=1, max_size=3))


@st.composite
def replies(draw):
    blocks = draw(st.lists(block, min_size=1, max_size=5))
    lines = []
    for label, body in blocks:
        lines.append(f"{label} {body[0]}".strip() if label else body[0])
        lines.extend(body[1:])
    return "\n".join(lines)


def _content_chars(text: str) -> str:
    """Characters that must survive; emphasis marks right by a label are legitimately dropped."""
    return re.sub(r"[\s*]", "", text)


@settings(max_examples=300, deadline=None)
@given(replies(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_chunking_never_changes_the_result_and_loses_no_text(text, cuts):
    whole = parse_reply(text)
    streamed, result = stream(text, cuts)
    for section in Section:
        assert unquote(streamed[section]) == whole.get(section) == result.get(section)
    # every non-label character survives, in order, across the three sections
    label_free = text
    for label in sorted(LABELS, key=len, reverse=True):
        label_free = label_free.replace(label, "")
    kept = "".join(whole.get(s) for s in Section)
    assert sorted(_content_chars(kept)) == sorted(_content_chars(label_free))


@settings(max_examples=200, deadline=None)
@given(replies(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_labels_never_leak_into_dialogue(text, cuts):
    streamed, _ = stream(text, cuts)
    for dialogue_line in streamed[Section.DIALOGUE].splitlines():
        assert match_label(dialogue_line) is None or not dialogue_line.strip()


def test_thoughts_inside_think_tags_and_bracketed_like_the_format_are_unwrapped():
    reply = parse_reply(
        "<think>Empathetic voice: (Sam feels stuck.)\nTherapist voice: (Ask about mornings.)\n</think>\nHow are mornings?"
    )
    assert (reply.empathetic, reply.therapeutic, reply.dialogue) == (
        "Sam feels stuck.",
        "Ask about mornings.",
        "How are mornings?",
    )
    assert (
        parse_reply("Empathetic voice: tired (very)\n</think> Rest (a little).").empathetic == "tired (very)"
    )


def test_a_line_that_starts_no_label_is_shown_before_it_ends():
    parser = VoiceParser()
    parser.feed("<think>\nEmpathetic voice: Sam is tired.\n</think>\n")
    shown = parser.feed("Hi Sam!")
    assert [(d.section, d.text) for d in shown] == [(Section.DIALOGUE, "Hi Sam!")]
    assert parser.feed(" I hear") == [VoiceDelta(Section.DIALOGUE, " I hear")]


def test_a_line_that_may_still_become_a_label_waits():
    for start, label in [
        ("Th", "Therapist voice: ask."),
        ("Joi", "Joi (warmly): hi"),
        ("**Empathetic", "**Empathetic voice:** sad"),
        ("Inner Theoretical", "Inner Theoretical Therapist Voice: ask"),
        ("Coaching", "Coaching voice: ask"),
        ("<th", "<think>"),
    ]:
        parser = VoiceParser()
        parser.feed("<think>\nEmpathetic voice: Sam is tired.\n</think>\n")
        assert parser.feed(start) == [], start
        parser.feed(label[len(start) :] + "\n")
        assert not parser.result().dialogue.startswith(start), label
