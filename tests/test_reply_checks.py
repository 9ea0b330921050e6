"""The checks that score a reply (and guard the spoken line), on hand-written good and bad replies."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from joi_coach.cognition.reply_checks import (
    check_reply,
    claims_the_persons_things,
    copies_the_person,
    dialogue_problems,
    echoes_in_first_person,
    longest_shared_run,
    matches_any,
    sentence_count,
    thought_problems,
)
from joi_coach.cognition.spoken_guard import SpokenLineGuard, lines_joi_wrote, without_leading_label
from joi_coach.cognition.voices import ParsedReply

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import coach_eval

GOOD_LINES = [
    "Your first run in months, Priya: that is a real win. What made today possible?",
    "Three days without a cigarette is hard work, Priya. What has helped most at the office?",
    "You said Anika asked you to stop. How does it feel to do this for her, and for you?",
    "Here's an idea: try ten minutes before breakfast. Would that fit your mornings?",
    "That sounds heavy. Remember: progress is rarely a straight line.",
    "Hi Priya! Three days is a real start.",
    "Hi there, Priya. How was today?",
]
BAD_LINES = {
    "Thank you, Priya. That's helpful advice. What do you suggest for managing anxiety?": "the person's voice",
    "Thanks for the tips, Joi! I'll try that tomorrow.": "addresses Joi",
    "Priya: I know it's hard to stop.": "starts with a label",
    "Joi: Well done.": "starts with a label",
    "Empathetic voice: she is scared.": "starts with a label",
    "Priya is feeling anxious about her exam.": "about the person, not to them",
    "The person seems tired today.": "about the person, not to them",
    "I will ask her what helped this week.": "a thought spoken aloud",
    "That is great.\nTherapist voice: ask about work.": "a label mid-reply",
    "Your private notes say you are tired.": "reads the prompt out",
    "Ok.</think> Well done!": "think tag",
    "I'm sorry, but I can't assist with that.": "a refusal",
    "As an AI, I don't have feelings.": "a refusal",
    "Hi Tunde! It's great that you're still coming to walk with me.": "talks to someone else",
    "<reflect>": "reads the prompt out",
    "I will definitely try sticking to them and see if it helps.": "the person's voice",
    'Reflect: "Yes, I did book it for next Thursday."': "starts with a label",
    "Open question: what helped this week?": "starts with a label",
    "Thank you for giving me the sleep rules.": "the person's voice",
    "": "empty",
}


@pytest.mark.parametrize("line", GOOD_LINES)
def test_joi_talking_to_the_person_passes(line):
    assert dialogue_problems(line, "Joi", "Priya", "I'm three days in.") == []


@pytest.mark.parametrize(("line", "problem"), BAD_LINES.items())
def test_each_way_out_of_role_is_named(line, problem):
    assert problem in dialogue_problems(line, "Joi", "Priya")


def test_the_persons_words_said_back_in_the_first_person_are_their_voice():
    message = "I skipped two runs this week and I feel lazy."
    assert echoes_in_first_person("You're right, I skipped two runs this week.", message)
    assert "the person's voice" in dialogue_problems(
        "Yes, I skipped two runs this week.", "Joi", "Sam", message
    )
    assert not echoes_in_first_person("You skipped two runs this week; that happens.", message)
    assert (
        dialogue_problems("You skipped two runs this week. What got in the way?", "Joi", "Sam", message) == []
    )


def test_the_persons_message_said_back_word_for_word_in_their_voice_is_their_voice():
    message = (
        "yeah done, booked it for next Thursday. exercises have been ok, missed two mornings cos I overslept"
    )
    parrot = "Exercises have been ok, but missed two mornings cos I overslept. What else is going on?"
    assert copies_the_person(parrot, message)
    assert "the person's voice" in dialogue_problems(parrot, "Joi", "Emeka", message)
    reflection = "You booked it and kept the exercises going, even with two mornings missed. What helped?"
    assert not copies_the_person(reflection, message)
    assert dialogue_problems(reflection, "Joi", "Emeka", message) == []
    assert not copies_the_person('You said "missed two mornings cos I overslept".', message)  # a quote
    assert not copies_the_person("So exercises have been ok, even with two missed mornings.", message)


def test_the_persons_things_spoken_of_as_jois_own_are_their_voice():
    message = "I practise maybe ten minutes a day but my fingers hurt."
    slip = "Yes, I've been practicing for a while now but my fingers are still hurting."
    assert claims_the_persons_things(slip, message)
    assert "the person's voice" in dialogue_problems(slip, "Joi", "Noor", message)
    assert not claims_the_persons_things("Your fingers hurt after ten minutes a day.", message)
    assert not claims_the_persons_things('You said "my fingers hurt". What helps?', message)
    assert not claims_the_persons_things("It's my pleasure, my friend.", "my friend and my pleasure")


def test_a_thought_is_about_the_person_not_to_them():
    assert thought_problems("Priya is proud and a little afraid it will not last.", "Priya") == []
    assert thought_problems('ask her "What do you need?" and listen.', "Priya") == []
    assert thought_problems("Priya, you're doing great.", "Priya") == ["addressed to the person"]
    assert thought_problems("I will help you plan the week.", "Priya") == ["addressed to the person"]
    assert thought_problems("Priya! Well done.", "Priya") == ["addressed to the person"]
    assert thought_problems("  ", "Priya") == ["empty"]


def test_check_reply_needs_all_three_parts_under_labels():
    good = ParsedReply(
        "Sam is proud.", "celebrate, then ask what helped.", "Well done, Sam. What helped?", True
    )
    assert check_reply(good, "Joi", "Sam").speaks_as_joi
    unlabelled = ParsedReply("", "", "Well done, Sam.", False)
    check = check_reply(unlabelled, "Joi", "Sam")
    assert not check.format_ok and not check.speaks_as_joi and "format" in check.problems
    addressed = ParsedReply("Sam, you did it.", "celebrate.", "Well done, Sam.", True)
    check = check_reply(addressed, "Joi", "Sam")
    assert check.format_ok and not check.speaks_as_joi
    assert check.problems == ["empathetic: addressed to the person"]


def test_sentences_words_and_shared_runs():
    assert sentence_count("Well done. What helped? I'm glad") == 3
    assert sentence_count("One... and a trailing thought!") == 2
    assert sentence_count("") == 0
    earlier = ["It's important to enjoy the journey as much as the finish line."]
    assert (
        longest_shared_run("Remember, it's important to enjoy the journey as much as you can.", earlier) == 9
    )
    assert longest_shared_run("Enjoy the finish.", earlier) == 2  # "the finish"
    assert longest_shared_run("anything", []) == 0
    assert matches_any("You run with MAYA.", ["maya", "sister"])
    assert not matches_any("You run alone.", ["Maya"])


def guarded(text: str, earlier: list[str] | None = None, message: str = "", step: int = 3) -> SpokenLineGuard:
    guard = SpokenLineGuard("Joi", "Sam", earlier or [], message=message)
    shown = ""
    for start in range(0, len(text), step):
        shown += guard.feed(text[start : start + step])
        if guard.done:
            break
    else:
        shown += guard.finish()
    assert shown == guard.released
    return guard


def test_the_guard_releases_whole_sentences_and_drops_a_leading_label():
    guard = SpokenLineGuard("Joi", "Sam", [])
    assert guard.feed("Joi: Well done, Sa") == ""  # a sentence is held until it is complete
    assert guard.feed("m. What hel") == "Well done, Sam."
    assert guard.feed("ped?") == ""
    assert guard.finish() == " What helped?"
    assert not guard.rejected


def test_a_quote_mark_left_from_a_sentence_not_shown_is_not_shown_either():
    guard = SpokenLineGuard("Joi", "Sam", [], drop=lambda sentence: sentence.startswith("I heard"))
    shown = (
        guard.feed('I heard you say: "I will go and watch instead." " That sounds fair. ') + guard.finish()
    )
    assert shown == "That sounds fair."
    assert (
        guarded('You said "no football". That is clear.').released == 'You said "no football". That is clear.'
    )


def test_a_word_the_model_never_finished_is_not_shown_after_the_line():
    assert guarded("That took courage, Sam.\n\nWhat").released == "That took courage, Sam."
    assert guarded("That took courage, Sam. What made it possible").released.endswith("made it possible")
    assert guarded("Hi Sam").released == "Hi Sam"  # the whole line is never dropped


def test_the_guard_stops_at_a_repeat_a_slip_of_role_or_a_second_paragraph():
    earlier = ["What helped me last time was knowing that there are resources available to help."]
    repeat = guarded(
        "I hear you. What helped me last time was knowing that there are resources available.", earlier
    )
    assert repeat.released == "I hear you." and repeat.rejected == "repeats an earlier line"
    slip = guarded("Thanks for the advice, Joi. I will try.")
    assert slip.failed_at_start and slip.released == ""
    paragraphs = guarded("That is a lot. You kept going anyway.\n\nAnother paragraph that goes on.")
    assert paragraphs.released == "That is a lot. You kept going anyway." and not paragraphs.rejected
    long = guarded("Well done, Sam. " * 3 + "You kept at it. You showed up. You did well. You rested.")
    assert long.released == "Well done, Sam. " * 3 + "You kept at it. You showed up."


def test_the_guard_skips_thoughts_the_model_writes_again():
    guard = guarded("<think>\nEmpathetic voice: Sam is x.\n</think>\nThat is great, Sam. How did it feel?")
    assert guard.released == "That is great, Sam. How did it feel?"
    assert guarded("<think>\nonly thoughts, never closed").released == ""


def test_lines_joi_wrote_leave_out_the_persons_words():
    messages = [
        {"role": "system", "content": "You are Joi."},
        {"role": "user", "content": "I ran today."},
        {"role": "assistant", "content": "Well done."},
        {"role": "system", "content": '- 2 days ago, Sam said: "x"\n- 2 days ago, you said: "y"'},
    ]
    assert lines_joi_wrote(messages, "Sam") == ["You are Joi.", "Well done.", '- 2 days ago, you said: "y"']
    assert without_leading_label("Sam: hello there", "Joi", "Sam") == "hello there"
    assert without_leading_label("Joi: hello", "Joi", "Sam") == "hello"
    assert without_leading_label("Remember: it takes time.", "Joi", "Sam") == "Remember: it takes time."


# -- the benchmark's own scoring ----------------------------------------------------------------
def test_token_f1_and_contains_follow_squad_normalisation():
    assert coach_eval.token_f1("The answer is 7 May 2023.", "7 May 2023") == pytest.approx(2 * 0.6 * 1 / 1.6)
    assert coach_eval.token_f1("nothing", "7 May 2023") == 0.0
    assert coach_eval.contains_answer("It was on 7 May, 2023!", "7 May 2023")
    assert not coach_eval.contains_answer("It was in May.", "7 May 2023")
    assert not coach_eval.contains_answer("17 May 2023", "7 May 2023")


def test_a_reply_score_counts_probes_avoidance_repetition_and_length():
    reply = ParsedReply("Sam is glad.", "ask about Maya.", "You run with Maya. How is training going?", True)
    score = coach_eval.score_reply(
        scenario="x",
        session=1,
        turn_index=0,
        turn={"say": "Who am I running with?", "expect_any": ["Maya"], "expect_none": ["Thank you"]},
        reply=reply,
        joi="Joi",
        user="Sam",
        earlier=["How is training going with the plan?"],
        timings={"first_token": 1000.0, "total": 3000.0},
    )
    assert score.probe is True and score.avoided is True and score.speaks_as_joi
    assert score.repeated_words == 4 and score.words == 8 and score.sentences == 2
    missed = coach_eval.score_reply(
        scenario="x",
        session=1,
        turn_index=1,
        turn={"say": "Who?", "expect_any": ["Maya"], "expect_none": ["thank you"]},
        reply=ParsedReply("Sam is glad.", "ask.", "Thank you, Sam. Who is it?", True),
        joi="Joi",
        user="Sam",
        earlier=[],
        timings={},
    )
    assert missed.probe is False and missed.avoided is False
    summary = coach_eval.summarise(
        [score, missed], [{"person": [6, 8], "joi": [2]}, {"person": [4], "joi": [4]}]
    )
    assert summary["probes"] == 0.5 and summary["avoided"] == 0.5 and summary["replies"] == 2
    assert summary["importance_person_mean"] == 6 and summary["importance_joi_mean"] == 3


def test_scenario_files_are_validated_with_a_clear_error(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps([{"user": "Sam", "sessions": [{"turns": [{"say": ""}]}]}]), encoding="utf-8")
    with pytest.raises(coach_eval.ScenarioError, match="say"):
        coach_eval.load_scenarios(path)
    path.write_text(
        json.dumps([{"user": "Sam", "sessions": [{"turns": [{"say": "hi", "expect_any": "Maya"}]}]}])
    )
    with pytest.raises(coach_eval.ScenarioError, match="expect_any"):
        coach_eval.load_scenarios(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(coach_eval.ScenarioError, match="cannot read"):
        coach_eval.load_scenarios(path)


def test_the_shipped_dev_scenarios_are_valid_and_big_enough():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "scenarios" / "coach-dev.json"
    scenarios = coach_eval.load_scenarios(path)
    probes = [
        t for s in scenarios for session in s["sessions"] for t in session["turns"] if t.get("expect_any")
    ]
    assert len(scenarios) >= 12 and all(len(s["sessions"]) >= 3 for s in scenarios) and len(probes) >= 40


def test_a_judges_answer_is_read_from_its_first_json_object():
    answer = 'Sure! {"empathy": 4, "partnership": 2, "cultivating_change_talk": 5, "no_unasked_advice": 9, "uses_memory": true} ok'
    assert coach_eval.parse_judgement(answer) == {
        "empathy": 4,
        "partnership": 2,
        "cultivating_change_talk": 5,
    }
    assert coach_eval.parse_judgement("no json here") == {}
    assert coach_eval.parse_judgement("{broken") == {}


def test_a_resumed_guard_keeps_what_was_shown_and_goes_on():
    guard = guarded("Well done, Sam. Thanks for the advice, Joi.")
    assert guard.released == "Well done, Sam." and guard.rejected
    guard.resume()
    assert guard.feed("What helped") == "" and guard.finish() == " What helped"
    assert guard.released == "Well done, Sam. What helped" and not guard.rejected


def test_a_letter_style_greeting_joins_the_line_and_is_not_a_sentence():
    guard = guarded(
        "Hi Sam,\n\nThank you for the update. Skipping happens. What got in the way?\n\nMore text."
    )
    assert guard.released == "Hi Sam, thank you for the update. Skipping happens. What got in the way?"


def test_after_a_name_and_comma_a_common_word_is_lower_case_but_a_name_or_i_is_not():
    earlier = ["It sounds like Diego wants to help with the budget."]
    guard = SpokenLineGuard("Joi", "Valentina", earlier)
    assert (
        guard.feed("Valentina,\n\nCould we look at it together? ")
        == "Valentina, could we look at it together?"
    )
    for said in ("Diego sounds ready to help.", "I hear how much this matters."):
        guard = SpokenLineGuard("Joi", "Valentina", earlier)
        assert guard.feed(f"Valentina,\n\n{said} ") == f"Valentina, {said}"
    guard = SpokenLineGuard("Joi", "Mary Ann", [])  # each word of the person's name is a name
    assert guard.feed("Hey,\n\nMary Ann, well done. ") == "Hey, Mary Ann, well done."
    guard = SpokenLineGuard("Joi", "Sam", [])
    assert guard.feed("Hi Sam!\n\nWhat helped? ") == "Hi Sam! What helped?"  # not after a comma


def test_a_greeting_and_the_next_sentence_are_joined_by_one_space():
    assert (
        guarded("Hi Sam!  Well done on the run. What helped?").released
        == "Hi Sam!  Well done on the run. What helped?"
    )
    assert (
        guarded("Hi Sam!\n Well done on the run. What helped?").released
        == "Hi Sam! Well done on the run. What helped?"
    )


def test_the_judge_reads_the_mi_rubric_and_the_conversation_before_the_reply():
    from scripted_llm import ScriptedLLM

    judge = coach_eval.Judge.__new__(coach_eval.Judge)  # its model behind an API is not run here
    judge.llm = ScriptedLLM(['{"cultivating_change_talk": 4, "softening_sustain_talk": 3, "partnership": 5}'])
    judge.rubric = coach_eval.JUDGE_PROMPT.read_text(encoding="utf-8")
    earlier = [f"Sam: line {n}" for n in range(6)]
    rated = judge.rate(
        "Joi", "Sam", "I skipped my run.", "That sounds frustrating. What got in the way?", earlier
    )
    assert rated == {"cultivating_change_talk": 4, "softening_sustain_talk": 3, "partnership": 5}
    prompt = judge.llm.calls[0].messages[0]["content"]
    assert "MITI 4.2" in prompt and "line 5" in prompt and "line 1" not in prompt
    assert prompt.rstrip().endswith('"That sounds frustrating. What got in the way?"')
    means = coach_eval.judge_means([rated, {"partnership": 3}])
    assert means == {"cultivating_change_talk": 4, "softening_sustain_talk": 3, "partnership": 4}


def test_the_guard_stops_a_copy_as_it_is_written_and_keeps_the_words_before_it():
    earlier = ["It's important to enjoy the journey as much as the finish line."]
    guard = SpokenLineGuard("Joi", "Sam", earlier)
    shown = guard.feed("That happens, Sam. I can tell it's important to enjoy the journey as")
    assert shown == "That happens, Sam." and not guard.done  # seven words in a row: not yet a copy
    assert guard.feed(" mu") == "" and not guard.done  # a word still being written does not count
    guard.feed("ch ")
    assert guard.done and guard.rejected == "repeats an earlier line"
    assert guard.released == "That happens, Sam."
    assert guard.copy is not None and (guard.copy.before, guard.copy.word) == (" I can tell", "it's")
    assert guard.go_on_after_copy() == "That happens, Sam. I can tell"
    assert guard.feed(" how much it means. What") == " I can tell how much it means."
    assert guard.finish() == ""  # (a last word never finished is not shown)


def test_a_copy_that_begins_the_line_leaves_nothing_before_it():
    guard = SpokenLineGuard("Joi", "Sam", ["Sam is feeling judged and anxious about joining a gym."])
    guard.feed("Joi: Feeling judged and anxious about joining a gym is hard. ")
    assert guard.failed_at_start and guard.copy is not None and guard.copy.before == ""
    assert guard.go_on_after_copy() == ""


def test_an_answer_from_memory_may_say_what_a_note_says_but_the_line_may_not_read_it_out():
    note = "Sam used to run 5k three times a week before his daughter was born."
    guard = SpokenLineGuard("Joi", "Sam", ["What got in the way of your runs this week?"], notes=[note])
    answer = "You told me you used to run 5k three times a week before your daughter was born."
    assert guard.acceptable(answer)
    guard.feed(f"Well. {answer} ")
    assert guard.rejected == "repeats an earlier line" and guard.released == "Well."
    assert not guard.acceptable("So what got in the way of your runs this week, Sam?")
