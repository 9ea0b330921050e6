"""The steps of a reply on a scripted backend: two thoughts, then the guarded spoken line."""

from __future__ import annotations

from joi_coach.cognition.reply_steps import OPEN_QUESTION, SECOND_PERSON, stream_reply, with_guide
from joi_coach.cognition.voices import parse_reply
from joi_coach.config import CoachSettings
from joi_coach.llm.priority import PriorityLLM
from scripted_llm import ScriptedLLM

MESSAGES = [
    {"role": "system", "content": "You are Joi."},
    {"role": "assistant", "content": "It's important to enjoy the journey as much as the finish line."},
    {"role": "user", "content": "I skipped two runs this week."},
]


def reply_text(script: list[str]) -> tuple[str, ScriptedLLM]:
    backend = ScriptedLLM(script)
    text = "".join(
        chunk
        for chunk, _ in stream_reply(PriorityLLM(backend), CoachSettings().reply, "Joi", "Sam", MESSAGES)
    )
    return text, backend


def test_thoughts_then_the_spoken_line_as_its_own_turn():
    text, backend = reply_text(
        [
            " disappointed in himself.\nmore",
            " to hear what got in the way.",
            "That happens, Sam. What got in the way?",
        ]
    )
    assert text == (
        "<think>\nEmpathetic voice: Sam is disappointed in himself.\n"
        "Therapist voice: What would help Sam most now is to hear what got in the way.\n</think>\n"
        "That happens, Sam. What got in the way?"
    )
    thoughts, spoken = backend.calls[:2], backend.calls[2]
    assert all(call.params.avoid_words == SECOND_PERSON for call in thoughts)
    assert thoughts[1].assistant_prefix.endswith("Therapist voice: What would help Sam most now is")
    # The spoken line: the thoughts' own prompt (the conversation, the speaking guide just before
    # the message) plus the thoughts as private notes, no forced prefix.
    assert spoken.messages[:-1] == thoughts[0].messages == with_guide(MESSAGES, "Joi", "Sam")
    assert spoken.messages[-2] == MESSAGES[-1] and "two to four warm" in spoken.messages[-3]["content"]
    assert spoken.messages[-1]["role"] == "system"
    assert "disappointed in himself" in spoken.messages[-1]["content"]
    assert spoken.assistant_prefix == "" and not spoken.params.avoid_words


def test_a_sentence_that_slips_is_tried_again_from_what_was_already_shown():
    text, backend = reply_text(
        [
            " tired.",
            " rest.",
            "That happens, Sam. Thanks for the advice, Joi.",
            " What got in the way this week?",
        ]
    )
    assert text.endswith("</think>\nThat happens, Sam. What got in the way this week?")
    retry = backend.calls[3]
    assert retry.assistant_prefix == "That happens, Sam."
    assert retry.params.seed != backend.calls[2].params.seed and retry.params.temperature >= 0.9
    assert "say it afresh" in retry.messages[-1]["content"]


def test_a_copy_from_a_sentences_first_word_is_asked_for_afresh():
    text, backend = reply_text(
        [
            " tired.",
            " rest.",
            "That happens, Sam. It's important to enjoy the journey as much as the finish line.",
            " What got in the way this week?",
        ]
    )
    assert text.endswith("</think>\nThat happens, Sam. What got in the way this week?")
    first, retry = backend.calls[2:]
    assert retry.assistant_prefix == "That happens, Sam." and "say it afresh" in retry.messages[-1]["content"]
    assert retry.params.seed != first.params.seed and retry.params.temperature >= 0.9


def test_a_copy_after_only_a_name_is_asked_for_afresh_not_gone_on_from():
    text, backend = reply_text(
        [
            " tired.",
            " rest.",
            "That happens. Sam, it's important to enjoy the journey as much as the finish line.",
            " What got in the way this week?",
        ]
    )
    # kept, "Sam," would leave the next try a new sentence to begin after a bare name
    assert text.endswith("</think>\nThat happens. What got in the way this week?")
    retry = backend.calls[3]
    assert retry.assistant_prefix == "That happens." and "say it afresh" in retry.messages[-1]["content"]
    assert retry.params.max_tokens != 1


def test_a_copy_is_stopped_as_it_is_written_and_its_sentence_kept_up_to_there():
    text, backend = reply_text(
        [
            " tired.",
            " rest.",
            "That happens, Sam. I can tell it's important to enjoy the journey as much as the finish line, "
            "and that matters so much.",
            " how",
            " much the runs mean to you. What got in the way?",
        ]
    )
    assert text.endswith(
        "</think>\nThat happens, Sam. I can tell how much the runs mean to you. What got in the way?"
    )
    first, one_word, rest = backend.calls[2:]
    # the same prompt, read already: no note asking for the line afresh
    assert one_word.messages == rest.messages == first.messages
    assert one_word.assistant_prefix == "That happens, Sam. I can tell" and one_word.params.max_tokens == 1
    assert "it" in one_word.params.avoid_words  # "it's" began the copy: its first word is ruled out
    assert (
        rest.assistant_prefix == "That happens, Sam. I can tell how" and "it" not in rest.params.avoid_words
    )
    assert one_word.params.seed != first.params.seed and one_word.params.temperature >= 0.9


def test_two_bad_starts_show_the_models_own_words_rather_than_nothing():
    text, backend = reply_text(
        [" tired.", " rest.", "Thanks for the advice, Joi.", "Sam: Thanks for the tips, Joi!"]
    )
    assert text.endswith("</think>\nThanks for the tips, Joi!")
    assert len(backend.calls) == 4


def test_after_two_bad_starts_the_good_sentences_of_the_second_try_are_kept():
    text, _ = reply_text(
        [
            " tired.",
            " rest.",
            "Hi Tunde! Walk with me.",
            "Hi Tunde! A rest day is part of training, Sam. What would make tomorrow easier?",
        ]
    )
    assert text.endswith("</think>\nA rest day is part of training, Sam. What would make tomorrow easier?")


def test_the_coach_keeps_joi_from_repeating_a_line_from_an_earlier_conversation(tmp_path, embedder):
    from dataclasses import replace

    from joi_coach.coach import Coach, collect

    old_line = "Two runs in one week is a real rhythm, and it shows how much this matters to you."
    backend = ScriptedLLM(
        [
            " hopeful.",
            " to plan.",
            old_line,
            " tired.",
            " rest.",
            f"Well done, Sam. {old_line}",
            " What helped today?",
        ]
    )
    from joi_coach.memory.models import Stream

    nothing_recalled = replace(CoachSettings(), background=False, k=dict.fromkeys(Stream, 0))
    coach = Coach(backend, embedder, tmp_path, settings=nothing_recalled)  # the old line is not in the prompt
    try:
        collect(coach.reply("sam", "I ran twice this week.", user_name="Sam", conversation="monday"))
        _, _, turn = collect(coach.reply("sam", "I ran again today!", user_name="Sam", conversation="friday"))
    finally:
        coach.close()
    assert turn.reply.dialogue == "Well done, Sam. What helped today?"
    assert backend.calls[-1].assistant_prefix == "Well done, Sam."


def test_a_letter_to_someone_else_keeps_only_what_is_said_to_the_person():
    text, _ = reply_text(
        [
            " tired.",
            " rest.",
            "Dear Tunde,\n\nThanks for walking with me.",
            "Dear Tunde,\n\nA missed run is not a failure, Sam. What got in the way?",
        ]
    )
    assert text.endswith("</think>\nA missed run is not a failure, Sam. What got in the way?")


def test_a_small_word_said_twice_is_said_once():
    from joi_coach.cognition.spoken_guard import SpokenLineGuard

    guard = SpokenLineGuard("Joi", "Sam", [])
    shown = guard.feed("You told me me that you signed up for a 5k. That is that. ") + guard.finish()
    assert shown.startswith("You told me that you signed up") and "That is that." in shown


def test_a_model_that_stops_after_its_thoughts_is_asked_again():
    text, backend = reply_text([" tired.", " rest.", "", "That happens, Sam. What got in the way?"])
    assert text.endswith("</think>\nThat happens, Sam. What got in the way?")
    assert len(backend.calls) == 4


def test_a_reply_is_never_empty_even_when_the_model_says_nothing_twice():
    text, _ = reply_text([" tired.", " rest.", "", "  \n"])
    spoken = text.split("</think>\n", 1)[1]
    assert spoken.startswith("I'm listening, Sam.") and spoken.endswith("?")


def chat_only_text(script: list[str]) -> tuple[str, ScriptedLLM]:
    backend = ScriptedLLM(script, supports_prefix=False)
    text = "".join(
        chunk
        for chunk, _ in stream_reply(PriorityLLM(backend), CoachSettings().reply, "Joi", "Sam", MESSAGES)
    )
    return text, backend


def test_a_chat_only_backend_answers_in_one_pass():
    one_pass = (
        "<think>\nEmpathetic voice: Sam is let down.\nTherapist voice: Ask.\n</think>\nWhat got in the way?"
    )
    text, backend = chat_only_text([one_pass])
    assert text == one_pass and len(backend.calls) == 1 and backend.calls[0].assistant_prefix == ""


def test_a_chat_only_pass_with_only_thoughts_gets_its_spoken_line_as_its_own_turn():
    thoughts = (
        "<think>\nEmpathetic voice: Sam is let down.\nTherapist voice: Ask what got in the way.\n</think>\n"
    )
    text, backend = chat_only_text([thoughts, "Joi: That happens, Sam. What got in the way?"])
    assert text == thoughts + "\nThat happens, Sam. What got in the way?"  # no label, no empty reply
    spoken = backend.calls[1]
    assert spoken.assistant_prefix == "" and "Sam is let down." in spoken.messages[-1]["content"]


def test_a_spoken_line_written_as_voice_labels_never_files_its_words_as_thoughts():
    """Seen on the embedded model: the spoken turn imitated the notes, twice. The last resort
    (the failed try's words) would have been parsed as two more thought lines, no spoken line."""
    notes_again = (
        "Empathetic voice: (Sam is tired of starting over.)\n"
        "Therapist voice: Affirm Sam's feelings, then ask what he would like to do next."
    )
    text, _ = reply_text([" tired of starting over.", " to feel heard.", notes_again, notes_again])
    reply = parse_reply(text)
    assert reply.empathetic == "Sam is tired of starting over."
    assert reply.therapeutic == "What would help Sam most now is to feel heard."
    assert reply.dialogue == OPEN_QUESTION.format(user="Sam")


def test_a_thought_stopped_after_a_title_goes_on_past_it():
    text, backend = reply_text(
        [
            " worried about seeing Dr. Patel tomorrow. He said more.",
            " Patel tomorrow about his knee. And more.",
            " to name what scares him. More.",
            "Seeing a doctor can feel big, Sam. What worries you most about it?",
        ]
    )
    assert "Empathetic voice: Sam is worried about seeing Dr. Patel tomorrow about his knee.\n" in text
    assert "He said more" not in text and "And more" not in text
    assert backend.calls[1].assistant_prefix.endswith("Sam is worried about seeing Dr.")
    assert "Therapist voice: What would help Sam most now is to name what scares him.\n" in text
    backend = ScriptedLLM([" seeing Dr. Patel. x", " Patel tomorrow. y", " to talk. z", "What worries you?"])
    chunks = list(stream_reply(PriorityLLM(backend), CoachSettings().reply, "Joi", "Sam", MESSAGES))
    after_title = chunks.index((" Pa", True))  # the model's words go on after Joi's full stop
    assert chunks[after_title - 2 : after_title] == [(" Dr", True), (".", False)]


def test_a_thought_that_ends_a_sentence_is_not_continued():
    text, backend = reply_text(
        [" saying no. Then more.", " to be heard.", "I hear you, Sam. What matters most?"]
    )
    assert "Sam is saying no.\n" in text and len(backend.calls) == 3


def test_a_note_read_out_to_the_person_counts_as_a_repeat():
    text, backend = reply_text(
        [
            " worn out.",
            " to ask a friend who runs at lunch for ideas.",
            "That happens, Sam. What would help you most now is to ask a friend who runs at lunch.",
            " How could lunch runs fit your week?",
        ]
    )
    assert text.endswith("</think>\nThat happens, Sam. How could lunch runs fit your week?")
    assert backend.calls[3].assistant_prefix == "That happens, Sam."


def test_a_lists_heading_is_not_said():
    text, _ = reply_text(
        [" tired.", " rest.", "That happens, Sam. Here's how you could approach this:\nWhat helped?"]
    )
    assert text.endswith("</think>\nThat happens, Sam. What helped?")


def test_a_greeting_is_never_the_whole_line():
    text, _ = reply_text(
        [" tired.", " rest.", "Hi Sam! Thanks for the advice, Joi.", " Sam is doing fine, and Sam will rest."]
    )
    assert text.endswith("</think>\nHi Sam! " + OPEN_QUESTION.format(user="Sam"))
