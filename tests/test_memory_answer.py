"""Answering a question about what the person said before: detection, grounding, the step itself."""

from __future__ import annotations

import pytest
from joi_coach.cognition.memory_answer import (
    OPENING,
    Note,
    answer_from_memory,
    answer_messages,
    asks_about_the_past,
    clean_answer,
    grounded,
    notes_from,
    to_second_person,
)
from joi_coach.cognition.reply_steps import stream_reply
from joi_coach.config import CoachSettings
from joi_coach.llm.priority import PriorityLLM
from joi_coach.memory.models import Memory, Stream
from joi_coach.memory.retrieval import Recollection
from joi_coach.memory.scoring import ScoreBreakdown
from scripted_llm import ScriptedLLM

NOTES = [
    Note("9 days ago (2 Mar 2026)", "I signed up for a 5k in May. My sister Maya is running it with me."),
    Note("3 days ago (8 Mar 2026)", "I ran 4 km on Sunday without stopping."),
]


@pytest.mark.parametrize(
    "message",
    [
        "Who did I say I'm running with?",
        "Remind me what date I picked as my quit date?",
        "What was my savings target again?",
        "How long had I been smoking before I quit?",
        "Do you remember which app I said was eating my mornings?",
        "By how much did I miss passing the first time? I want to compare.",
        "What was the name of the woman at the climbing gym?",
        "Where did I say my parents live?",
        "Who offered to mentor me?",
    ],
)
def test_questions_about_what_was_said_before_are_recognised(message):
    assert asks_about_the_past(message)


@pytest.mark.parametrize(
    "message",
    [
        "I skipped two runs this week.",
        "What should I do about my boss?",
        "How do I stop procrastinating?",
        "Any ideas for my sister's birthday?",
        "What is wrong with me?",
        "Why do I always do this?",
        "Where do I even start?",
        "What if I fail the exam again",
        "I told my manager I need a break.",
        "What do you think about my plan?",
        "How was your day?",
    ],
)
def test_other_messages_are_not_taken_for_memory_questions(message):
    assert not asks_about_the_past(message)


def test_a_question_that_names_the_person_is_about_them():
    assert asks_about_the_past("What is Caroline's identity?", "Caroline")
    assert not asks_about_the_past("What is Caroline's identity?", "Sam")
    assert not asks_about_the_past("Caroline, what should I do?", "Caroline")


def test_an_answer_must_rest_on_the_notes():
    question = "Who did I say I'm running with?"
    assert grounded("You told me that your sister Maya is running it with you.", NOTES, question)
    # A name or number the notes never gave is made up.
    assert not grounded("You told me that your brother Tom is running with you.", NOTES, question)
    assert not grounded("You told me that you run 5 days a week.", NOTES, "How many days do I run?")
    # Words of the question alone say nothing new.
    assert not grounded("You told me that you are running with someone.", NOTES, question)
    # The date of a note counts as given.
    assert grounded("You told me that on 2 Mar 2026 you signed up for a 5k.", NOTES, "When did I sign up?")


def test_clean_answer_keeps_the_first_sentence_and_drops_what_is_not_grounded():
    question = "Who did I say I'm running with?"
    text = "You told me that Maya is running it with you. She is your sister! And more."
    assert clean_answer(text, NOTES, question) == "You told me that Maya is running it with you."
    assert clean_answer(
        "You told me that Mr. Okafor teaches you.", [Note("x", "Mr. Okafor")], "Teacher?"
    ) == ("You told me that Mr. Okafor teaches you.")
    assert clean_answer("", NOTES, question) == ""
    assert clean_answer("You told me that Jenny runs with you.", NOTES, question) == ""


def test_the_persons_words_are_turned_to_them():
    assert to_second_person(" my sister and I run; I'm slow, I was tired") == (
        " your sister and you run; you're slow, you were tired"
    )
    assert to_second_person(" Tunde walks with you") == " Tunde walks with you"
    assert to_second_person(" Maya runs with me, since you first talked to me") == (
        " Maya runs with you, since you first talked to me"
    )


def memory(id_: int, speaker: str, text: str, created_at: float) -> Recollection:
    m = Memory(
        id=id_,
        stream=Stream.DIALOGUE,
        text=text,
        created_at=created_at,
        last_accessed=created_at,
        importance=5,
        speaker=speaker,
    )
    return Recollection(m, ScoreBreakdown(0.5, 0.0, 0.5, 0.5, 1.5, 0.6, 0.0, 1.0))


def test_notes_are_the_persons_best_lines_in_the_order_said():
    recalled = [
        memory(3, "Sam", "Maya runs with me.", 3000.0),
        memory(2, "Joi", "That sounds lovely.", 2000.0),
        memory(1, "Sam", "I signed up for a 5k.", 1000.0),
    ]
    notes = notes_from(recalled, "Joi", now=10_000.0, user="Sam")
    assert [n.text for n in notes] == ["I signed up for a 5k.", "Maya runs with me."]
    assert [n.speaker for n in notes] == ["", ""]
    # In an imported talk between two people, the other speaker is named in the prompt.
    other = notes_from([memory(4, "Mel", "I paint sunsets.", 500.0)], "Joi", now=10_000.0, user="Sam")
    assert other[0].speaker == "Mel"
    prompt = answer_messages("Sam", "Joi", other, "What does Mel paint?")[1]["content"]
    assert 'Mel said: "I paint sunsets."' in prompt


def test_the_answer_step_reads_only_the_notes_and_the_question():
    backend = ScriptedLLM([" my sister Maya is running it with me.\nNext line"])
    answer = answer_from_memory(backend, "Sam", "Joi", NOTES, "Who did I say I'm running with?")
    assert answer == "You told me that your sister Maya is running it with you."
    [call] = backend.calls
    assert call.assistant_prefix == OPENING and call.params.temperature == 0.0
    prompt = "\n".join(m["content"] for m in call.messages)
    assert "Maya is running it with me" in prompt and "Who did I say I'm running with?" in prompt


def test_no_answer_without_notes_or_without_a_forced_prefix():
    assert answer_from_memory(ScriptedLLM([]), "Sam", "Joi", [], "Who did I say?") == ""
    one_pass = ScriptedLLM([], supports_prefix=False)
    assert answer_from_memory(one_pass, "Sam", "Joi", NOTES, "Who did I say I'm running with?") == ""
    assert not one_pass.calls


MESSAGES = [
    {"role": "system", "content": "You are Joi."},
    {"role": "user", "content": "Who did I say I'm running with?"},
]


def answered(backend: ScriptedLLM, said_before: tuple[str, ...] = ()) -> str:
    """The whole streamed reply to MESSAGES, with NOTES for the answer step."""
    steps = stream_reply(
        PriorityLLM(backend),
        CoachSettings().reply,
        "Joi",
        "Sam",
        MESSAGES,
        said_before=said_before,
        memory_notes=NOTES,
    )
    return "".join(chunk for chunk, _ in steps)


def test_the_spoken_line_opens_with_the_answer_and_the_model_goes_on_from_it():
    backend = ScriptedLLM(
        [
            " curious.",
            " a clear answer.",
            " Maya is running it with me.",
            " How are your runs going with her?",
        ]
    )
    text = answered(backend)
    assert text.endswith(
        "</think>\nYou told me that Maya is running it with you. How are your runs going with her?"
    )
    assert backend.calls[3].assistant_prefix == "You told me that Maya is running it with you."
    assert "You have begun by answering" in backend.calls[3].messages[-1]["content"]


def test_an_answer_that_repeats_an_earlier_line_twice_is_said_again_rather_than_not_at_all():
    earlier = "You told me that Maya is running it with you, and that is lovely."
    backend = ScriptedLLM(
        [
            " curious.",
            " a clear answer.",
            " Maya is running it with me.",
            " Maya is running it with me.",
            " How are your runs with her?",
        ]
    )
    text = answered(backend, said_before=(earlier,))
    assert text.endswith(
        "</think>\nYou told me that Maya is running it with you. How are your runs with her?"
    )
    assert "at most ten words" in backend.calls[3].messages[0]["content"]  # asked briefly first
    assert backend.calls[4].assistant_prefix == "You told me that Maya is running it with you."


def test_an_answer_that_repeats_is_asked_for_again_briefly():
    earlier = "You told me that your sister Maya is running it with you in May."
    backend = ScriptedLLM(
        [
            " curious.",
            " a clear answer.",
            " my sister Maya is running it with me in May.",
            " Maya runs with you.",
            " How are your runs with her?",
        ]
    )
    text = answered(backend, said_before=(earlier,))
    assert text.endswith("</think>\nYou told me that Maya runs with you. How are your runs with her?")
    plain, brief = backend.calls[2], backend.calls[3]
    assert "at most ten words" in brief.messages[0]["content"]
    assert "at most ten words" not in plain.messages[0]["content"]


def test_an_answer_with_a_count_the_person_never_gave_is_not_used():
    """The notes say a 5k in May; an answer of "six weeks" is the model's, not the person's."""
    backend = ScriptedLLM(
        [
            " curious.",
            " a clear answer.",
            " my sister Maya is running it with me for six weeks.",
            " Maya is running it with me.",
            " How are your runs going with her?",
        ]
    )
    text = answered(backend)
    assert text.endswith(
        "</think>\nYou told me that Maya is running it with you. How are your runs going with her?"
    )
