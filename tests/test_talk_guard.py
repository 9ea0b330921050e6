"""The coach's-talk guard: advice only when wanted, no stock phrases, no thanks nobody gave, no
invented facts — on hand-written sentences, and on the scripted backend through the reply steps."""

from __future__ import annotations

import logging

import pytest
from joi_coach.cognition.reply_steps import OPEN_QUESTION, stream_reply
from joi_coach.cognition.talk_guard import TalkGuard, asks_for_advice
from joi_coach.config import CoachSettings
from joi_coach.llm.priority import PriorityLLM
from scripted_llm import ScriptedLLM

KNOWN = "Sam said: my sister Maya runs the 5k with me in May, five days of it. Samaritans: 116 123"
VENTING = "I skipped my run again today and I feel lazy."


def reason(sentence: str, message: str = VENTING, previous: str = "") -> str:
    return TalkGuard(message, previous, KNOWN, "Sam").reason(sentence)


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        ("Take some deep breaths and be gentle.", "unsolicited advice"),
        ("Maybe try a shorter run tomorrow.", "unsolicited advice"),
        ("You could try running with Maya in the mornings.", "unsolicited advice"),
        ("It might be helpful to set a reminder on your phone.", "unsolicited advice"),
        ("Consistency is key.", "unsolicited advice"),
        ("It's important to talk to someone about your feelings and concerns.", "unsolicited advice"),
        ("Have you tried stretching before bed?", "unsolicited advice"),
        (
            "Consider talking with a trusted support system or seeking professional help.",
            "unsolicited advice",
        ),
        ("Every day is a gift.", "platitude"),
        ("Life is full of ups and downs.", "platitude"),
        ("Remember, you've got this!", "platitude"),
        ("Thank you for sharing your thoughts.", "platitude"),
        ("Thank you for sharing that information.", "platitude"),
        ("Thank you so much for sharing that information.", "platitude"),
        ("Thanks for sharing all that with me!", "platitude"),
        ("Thank you for sharing that, Sam.", "platitude"),
        ("Thank you so much for sharing your new rule!", "platitude"),
        ("Thanks for sharing your cousin's hen do plan.", "platitude"),
        ("Thank you for your kindness.", "thanks nobody gave"),
        ("Is there anything else I can help you with?", "platitude"),
        ("You're welcome!", "thanks nobody gave"),
        ("Thank you for your kind words.", "thanks nobody gave"),
        ("You can call the counselling line on 0800 555 0199 any time.", "invented fact"),
        ("Running for 20 minutes is plenty.", "invented fact"),
        ("Did you tell Jessica how it went?", "invented fact"),
        ("You can run again after five weeks.", "invented fact"),  # a count in words, never given
        ("Maya said the 5k is three months away.", "invented fact"),
    ],
)
def test_what_a_coach_would_not_say_is_caught(sentence, why):
    assert reason(sentence) == why


@pytest.mark.parametrize(
    "sentence",
    [
        "It sounds like today felt heavy, Sam.",
        "Thanks for sharing that, it sounds like it was a hard day.",  # a reflection rides on it
        "What got in the way this time?",
        "You're hard on yourself for one missed run.",
        "You should be proud that you keep coming back to it.",
        "Would it help if I shared an idea that worked for others?",
        "Did you get to tell Maya about it?",  # a name Joi was told
        "The 5k in May is still weeks away.",  # numbers the person gave
        "If things feel unsafe, Samaritans are there on 116 123.",  # Joi's own resources, in the prompt
        "So, Sam, what would make tomorrow a little easier?",
        "I wonder what lazy means to you here.",  # a reflection, with the person's word
        "Five days in May with Maya sounds like a lot to hold.",  # "five days" is in what Joi knows
        "What would one small step look like?",  # "one" is not a count of anything
    ],
)
def test_what_a_coach_would_say_is_left_alone(sentence):
    assert reason(sentence) == ""


def test_a_count_said_another_way_is_not_invented():
    assert reason("Two runs in one week is a real rhythm.", "I ran twice this week.") == ""
    assert reason("Three runs in one week is a real rhythm.", "I ran twice this week.") == "invented fact"
    assert reason("Three kilometres is no small thing.", "I ran 3k today.") == ""
    assert reason("You ran twice, and that shows effort.", "I went out for a run.") == ""
    assert reason("Twenty minutes a day adds up.", "I did 20mins of yoga.") == ""
    assert reason("Four kilometres is no small thing.", "I ran 3k today.") == "invented fact"
    assert (
        reason("Two weeks of ² days is a lot.", "² days, ٣ days") == "invented fact"
    )  # odd digits: no crash


def test_advice_is_shown_when_the_person_asks_for_it_or_agrees_to_an_idea():
    tip = "Maybe try a shorter run tomorrow."
    assert reason(tip, "I keep skipping runs. What should I do?") == ""
    assert reason(tip, "any tips for getting out the door?") == ""
    offer = "Would it help if I shared an idea?"
    assert reason(tip, "yes please", previous=offer) == ""
    assert reason(tip, "yes please", previous="How did the week go?") == "unsolicited advice"
    assert reason(tip, "I don't know what to do with myself lately, honestly.") == "unsolicited advice"
    assert not asks_for_advice("I ran twice this week!")


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        ("Those exercises matter for Sam's recovery.", "speaks of the person"),
        ("How often does Sam water it now?", "speaks of the person"),
        ("Sam is feeling a little overwhelmed.", "speaks of the person"),
        ("I heard Sam say the week was long.", "speaks of the person"),
        ("Sam replied that the run was hard.", "speaks of the person"),
        ("What Sam really wants to know is how to rest.", "speaks of the person"),
        ('You said, "I skipped my run again today and I feel lazy."', "quotes the person back"),
        ('"I skipped my run again today', "quotes the person back"),  # the quote runs on
        ('So "lazy" is the word that came to you today.', ""),  # one word of theirs, quoted
        ("Sam, what helped this week?", ""),
        ("That is good news for you, Sam.", ""),
    ],
)
def test_the_person_is_spoken_to_not_about(sentence, why):
    assert reason(sentence) == why


def test_thanks_fit_when_the_person_thanked_joi():
    assert reason("You're welcome, Sam.", "thanks, that really helped") == ""


def reply(script: list[str], message: str = VENTING) -> tuple[str, ScriptedLLM]:
    backend = ScriptedLLM(script)
    messages = [
        {"role": "system", "content": f"You are Joi.\n{KNOWN}"},
        {"role": "assistant", "content": "How did the week go?"},
        {"role": "user", "content": message},
    ]
    text = "".join(
        chunk
        for chunk, _ in stream_reply(PriorityLLM(backend), CoachSettings().reply, "Joi", "Sam", messages)
    )
    return text.split("</think>\n", 1)[1], backend


def test_the_spoken_line_drops_advice_and_goes_on(caplog):
    with caplog.at_level(logging.INFO, logger="joi_coach.cognition.talk_guard"):
        spoken, backend = reply(
            [
                " down on himself.",
                " to be heard.",
                "That sounds frustrating. Try a shorter run tomorrow. What got in the way?",
            ]
        )
    assert spoken == "That sounds frustrating. What got in the way?"
    assert len(backend.calls) == 3, "nothing was asked again"
    dropped = [r for r in caplog.records if getattr(r, "talk_guard", None)]
    assert [r.talk_guard for r in dropped] == ["unsolicited advice"]
    assert "shorter run" not in caplog.text, "the log names the reason, never the sentence"


def test_a_line_that_is_all_advice_is_asked_for_again_with_the_reason():
    spoken, backend = reply(
        [
            " down on himself.",
            " to be heard.",
            "Try a shorter run tomorrow. Set a reminder on your phone.",
            "Missing a run can feel like a verdict on yourself. What happened today?",
        ]
    )
    assert spoken == "Missing a run can feel like a verdict on yourself. What happened today?"
    note = backend.calls[3].messages[-1]["content"]
    assert "unsolicited advice" in note and "open question" in note


def test_twice_all_advice_ends_in_an_open_question_not_in_the_advice():
    spoken, _ = reply(
        [
            " down on himself.",
            " to be heard.",
            "Try a shorter run tomorrow.",
            "Make sure you rest. Consider yoga.",
        ]
    )
    assert spoken == OPEN_QUESTION.format(user="Sam")


def test_asked_for_advice_the_line_keeps_it():
    spoken, _ = reply(
        [" stuck.", " an idea.", "One idea: try a shorter run tomorrow. What do you think?"],
        message="I keep skipping runs. What should I do?",
    )
    assert "shorter run" in spoken


# -- thoughts that copy ------------------------------------------------------------------------
EARLIER_THOUGHT = "Sam is worried that the new job will take all of his time away from running."


def test_a_streaming_thought_stops_where_it_starts_copying_and_shows_nothing_of_the_copy():
    from joi_coach.cognition.thought_guard import CopyWatch

    watch = CopyWatch([EARLIER_THOUGHT])
    shown = "".join(
        watch.feed(c) for c in [" tired today, and", " worried that the new", " job will take all of", " his"]
    )
    assert watch.copied
    assert shown == " tired today, and"
    assert "worried that the new job" not in shown


def test_a_thought_sharing_a_few_words_is_shown_whole():
    from joi_coach.cognition.thought_guard import CopyWatch

    watch = CopyWatch([EARLIER_THOUGHT])
    text = " worried that the promotion will change how his week looks."
    shown = watch.feed(text[:20]) + watch.feed(text[20:]) + watch.finish()
    assert shown == text and not watch.copied


def test_a_copying_thought_is_asked_for_again_from_where_the_copy_began():
    backend = ScriptedLLM(
        [
            " tired today, and worried that the new job will take all of his time away from running.",
            " unsure how the week will go.",  # the second try, from where the copy began
            " to hear what he wants from this week.",
            "That sounds like a lot at once. What matters most to you this week?",
        ]
    )
    messages = [
        {"role": "system", "content": f"You are Joi.\nJoi thought: {EARLIER_THOUGHT}"},
        {"role": "user", "content": "New job starts Monday and I'm wiped."},
    ]
    text = "".join(
        chunk
        for chunk, _ in stream_reply(PriorityLLM(backend), CoachSettings().reply, "Joi", "Sam", messages)
    )
    assert "Empathetic voice: Sam is tired today, and unsure how the week will go." in text
    assert "take all of his time" not in text
    retry = backend.calls[1]
    assert retry.assistant_prefix.endswith("Sam is tired today, and")
    assert retry.params.temperature >= 0.9
    assert "worried" in retry.params.avoid_words, "the next try cannot start the copy again"


def test_a_thought_that_copies_on_every_try_ends_where_the_copy_began_never_empty():
    copy = " worried that the new job will take all of his time away from running."
    backend = ScriptedLLM(
        [copy, copy, copy, " to be heard.", "That sounds like a lot at once. What matters most this week?"]
    )
    messages = [
        {"role": "system", "content": f"You are Joi.\nJoi thought: {EARLIER_THOUGHT}"},
        {"role": "user", "content": "New job starts Monday and I'm wiped."},
    ]
    text = "".join(
        chunk
        for chunk, _ in stream_reply(PriorityLLM(backend), CoachSettings().reply, "Joi", "Sam", messages)
    )
    first = text.split("Empathetic voice: Sam is", 1)[1].split("\n", 1)[0]
    assert first.strip() and "new job will take all of his time" not in first, text
    assert len(backend.calls) == 5
    assert all("that" in call.params.avoid_words for call in backend.calls[1:3]), (
        "the copy's next word, kept out"
    )


def test_the_benchmark_counts_what_the_guard_did_from_its_log_reasons():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import coach_eval

    with coach_eval.guard_tally() as tally:
        reply(
            [
                " down on himself.",
                " to be heard.",
                "Try a shorter run tomorrow. Every day is a gift.",
                "That sounds like a hard day. What happened?",
            ]
        )
    assert tally.take() == {
        "dropped: unsolicited advice": 1,
        "dropped: platitude": 1,
        "line asked again": 1,
    }


def test_an_opening_that_asks_nothing_is_never_left_alone():
    """A connection's opening ("You told me …") and no usable sentence after it, twice: the line
    goes on with an open question instead of ending flat on the opening."""
    from joi_coach.cognition.reply_steps import LineFrame

    backend = ScriptedLLM([" down on himself.", " to be heard.", "Try a shorter run.", "Consider yoga."])
    messages = [
        {"role": "system", "content": f"You are Joi.\n{KNOWN}"},
        {"role": "user", "content": VENTING},
    ]
    frame = LineFrame(opening="You told me last week your plan: run with Maya on Sundays.")
    text = "".join(
        chunk
        for chunk, _ in stream_reply(
            PriorityLLM(backend), CoachSettings().reply, "Joi", "Sam", messages, frame=frame
        )
    )
    spoken = text.split("</think>\n", 1)[1]
    assert spoken == f"{frame.opening} {OPEN_QUESTION.format(user='Sam')}"
    assert len(backend.calls) == 4, "the model was asked again before Joi's own question"
