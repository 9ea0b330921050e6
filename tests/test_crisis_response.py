"""What Joi does when a message signals a crisis: the card, the instruction, the note, the
follow-up, the person's safety plan and crisis-line settings. Scripted backend, real store
and embedder."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from joi_coach.coach import CareShown, Recalled, TurnDone, collect
from joi_coach.memory.models import Stream
from joi_coach.safety.detection import CrisisKind, CrisisSignal
from joi_coach.safety.plan import SafetyPlan, load_plan, save_plan
from joi_coach.safety.resources import INTERNATIONAL, CrisisDirectory, ResourcesError
from joi_coach.safety.response import (
    CARD_MARKER,
    CRISIS_IMPORTANCE,
    build_card,
    follow_up_note,
    md_text,
    strip_card,
)
from joi_coach.safety.settings import SafetySettings
from scripted_llm import ScriptedLLM

CRISIS = "I don't want to be alive anymore. I've been thinking about how I would do it."
EVERYDAY = "This deadline is killing me, but I think I'll make it if I start early tomorrow."
DIRECTORY = CrisisDirectory.load()


CRISIS_SPOKEN = "I'm really glad you told me. Are you safe right now?"


def script(spoken: str = CRISIS_SPOKEN) -> list[str]:
    if spoken != CRISIS_SPOKEN:  # an everyday turn's thoughts (a thought that copies one is asked again)
        return [" tired but steady today.", " to hear how the day went.", spoken]
    return [" in deep pain and exhausted.", " to stay with them and ask if they are safe.", spoken]


# -- the turn -------------------------------------------------------------------------------
def test_a_crisis_message_gets_the_card_first_the_instruction_and_a_kept_note(coach_on):
    backend = ScriptedLLM(script())
    coach = coach_on(backend, country="GB")
    events = list(coach.reply("sam", CRISIS, user_name="Sam", conversation="c1", now=1_700_000_000))
    assert isinstance(events[0], CareShown), "the card comes before anything else"
    assert events[0].signal.kind is CrisisKind.SUICIDAL
    card = events[0].card.markdown()
    assert "116 123" in card and "(999)" in card, "the person's country's lines and emergency number"
    turn = next(e for e in events if isinstance(e, TurnDone)).turn
    assert turn.crisis is not None and turn.care == card
    # the model was told, for the spoken line, which opens with Joi's words and ends asking about safety
    spoken_call = backend.calls[-1]
    assert "Safety note for this reply" in str(spoken_call.messages[-1]["content"])
    assert "no tips" in str(spoken_call.messages[-1]["content"]).lower()
    assert spoken_call.assistant_prefix.startswith("Sam, I'm really glad you told me")
    assert turn.reply.dialogue.startswith("Sam, I'm really glad you told me, and I'm here with you.")
    assert turn.reply.dialogue.endswith(
        "Are you safe right now?"
    )  # the model's own question: no closing added
    # Joi's note: high importance, the kind and date, never the person's words
    bank = coach.bank("sam")
    [note] = [m for m in bank.memories(Stream.THERAPEUTIC) if m.importance_source == "safety"]
    assert note.importance == CRISIS_IMPORTANCE and "ending their life" in note.text
    assert "alive" not in note.text and "do it" not in note.text
    assert note.id in turn.memory_ids[Stream.THERAPEUTIC]


def test_an_everyday_message_with_killing_me_gets_no_card(coach_on):
    backend = ScriptedLLM(script("Sounds like a crunch. What's the first piece?"))
    coach = coach_on(backend)
    events = list(coach.reply("sam", EVERYDAY, user_name="Sam"))
    assert not any(isinstance(e, CareShown) for e in events)
    _, _, turn = collect(iter(events))
    assert turn is not None and turn.crisis is None and turn.care == ""
    assert "Safety note" not in str(backend.calls[0].messages)


def test_the_card_is_shown_and_the_note_kept_even_when_the_model_fails(coach_on):
    coach = coach_on(ScriptedLLM([]))  # every generation raises LLMError
    events = []
    with pytest.raises(Exception, match="no completion"):
        for event in coach.reply("sam", CRISIS, user_name="Sam"):
            events.append(event)
    assert isinstance(events[0], CareShown) and "988" in events[0].card.markdown()
    notes = [m for m in coach.bank("sam").memories(Stream.THERAPEUTIC) if m.importance_source == "safety"]
    assert len(notes) == 1


def test_the_next_conversation_opens_with_a_gentle_check_in_once(coach_on):
    backend = ScriptedLLM(script() + script("Good to see you.") + script("Okay."))
    coach = coach_on(backend)
    day = 86_400.0
    collect(coach.reply("sam", CRISIS, user_name="Sam", conversation="c1", now=1_700_000_000))
    collect(
        coach.reply(
            "sam", "Morning. Slept a bit.", user_name="Sam", conversation="c2", now=1_700_000_000 + day
        )
    )
    check_in = str(backend.calls[5].messages[-1]["content"])
    assert "check in" in check_in and "ending their life" in check_in
    collect(
        coach.reply("sam", "Work is fine.", user_name="Sam", conversation="c2", now=1_700_000_000 + day + 60)
    )
    assert "check in" not in str(backend.calls[8].messages[-1]["content"]), "only once"


def test_follow_up_waits_for_a_new_conversation_or_hours_and_ends_after_a_month():
    from joi_coach.safety.response import follow_up_record

    record = follow_up_record(CrisisSignal(CrisisKind.SELF_HARM, 0.9, "pattern:x"), 1000.0, "c1")
    assert follow_up_note(record, "Sam", 1060.0, "c1") == ""  # same conversation, a minute later
    assert "hurting themselves" in follow_up_note(record, "Sam", 1060.0, "c2")
    assert follow_up_note(record, "Sam", 1000.0 + 7 * 3600, "c1")
    assert follow_up_note(record, "Sam", 1000.0 + 40 * 86_400, "c2") == ""
    assert follow_up_note("{not json", "Sam", 2000.0, "c2") == ""


def test_the_card_shows_the_safety_plan_and_own_contacts(coach_on):
    coach = coach_on(ScriptedLLM(script()), own_contacts=("My sister Ana: 07700 900123",))
    save_plan(coach.bank("sam"), SafetyPlan(people_to_ask="Ana\nDr. Lee <script>x</script>"), time.time())
    events = list(coach.reply("sam", CRISIS, user_name="Sam"))
    card = events[0].card
    assert card.shows_plan
    text = card.markdown()
    assert "07700 900123" in text and "People I can ask for help" in text and "Ana; Dr. Lee" in text
    assert "<script>" not in text and "&lt;script&gt;" in text
    note = next(m for m in coach.bank("sam").memories(Stream.THERAPEUTIC) if m.importance_source == "safety")
    assert "safety plan" in note.text


# -- the card -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "country", "expected", "absent"),
    [
        (CrisisKind.ABUSE_OR_DANGER, "US", "1-800-799-7233", "Poison Control"),
        (CrisisKind.MEDICAL_EMERGENCY, "US", "1-800-222-1222", "Domestic Violence"),
        (CrisisKind.SUICIDAL, "", "findahelpline.com", None),
        (CrisisKind.SUICIDAL, "zz", "findahelpline.com", None),  # unknown: the international list
        (CrisisKind.SELF_HARM, "de", "TelefonSeelsorge", None),
    ],
)
def test_the_lines_fit_the_country_and_the_kind(kind, country, expected, absent):
    card = build_card(CrisisSignal(kind, 0.9, "t"), DIRECTORY, SafetySettings(country=country), SafetyPlan())
    text = card.markdown()
    assert expected in text
    assert "emergency" in text.lower() or "Notruf" in text  # the German card says "Notruf"
    if absent:
        assert absent not in text


def test_the_card_speaks_the_chosen_language_and_always_has_the_emergency_line():
    signal = CrisisSignal(CrisisKind.SUICIDAL, 0.9, "t")
    german = build_card(signal, DIRECTORY, SafetySettings(country="DE"), SafetyPlan()).markdown()
    assert "Notruf (112)" in german
    english_in_germany = build_card(
        signal, DIRECTORY, SafetySettings(country="DE", language="en"), SafetyPlan()
    )
    assert "emergency number (112)" in english_in_germany.markdown()
    international = build_card(signal, DIRECTORY, SafetySettings(), SafetyPlan()).markdown()
    assert "call your local emergency number now" in international


def test_every_shipped_country_and_language_builds_a_card():
    signal = CrisisSignal(CrisisKind.HARM_TO_OTHERS, 0.9, "t")
    assert INTERNATIONAL in DIRECTORY.countries and len(DIRECTORY.countries) >= 12
    for code in DIRECTORY.countries:
        for language in DIRECTORY.texts:
            card = build_card(
                signal, DIRECTORY, SafetySettings(country=code, language=language), SafetyPlan()
            )
            assert card.lines and card.markdown().startswith(CARD_MARKER)


def test_a_host_that_stored_the_card_gets_the_reply_back_without_it():
    card = build_card(CrisisSignal(CrisisKind.SUICIDAL, 0.9, "t"), DIRECTORY, SafetySettings(), SafetyPlan())
    assert strip_card(card.markdown() + "\n\nI'm here with you, Sam.") == "I'm here with you, Sam."
    assert strip_card("> a quote the model wrote\nand more") == "> a quote the model wrote\nand more"


def test_markdown_text_is_neutralised():
    assert md_text("<b>*hi*</b> [x](y) #1") == r"&lt;b&gt;\*hi\*&lt;/b&gt; \[x\](y) \#1"


# -- configuration ----------------------------------------------------------------------------
def test_a_deployment_file_adds_and_replaces_countries(tmp_path: Path):
    extra = tmp_path / "lines.yaml"
    extra.write_text(
        "countries:\n  GB:\n    name: UK (clinic)\n    emergency: '999'\n    lines:\n"
        "      - {name: Our clinic, contact: call 01234 567890}\n"
        "  PT:\n    name: Portugal\n    emergency: '112'\n    lines:\n      - {name: SOS Voz Amiga, contact: '213 544 545'}\n",
        encoding="utf-8",
    )
    directory = CrisisDirectory.load(extra)
    assert directory.country("gb").lines[0].name == "Our clinic"
    assert directory.country("PT").emergency == "112"
    assert directory.country("US").lines  # the shipped ones stay


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("countries: [1, 2]", "mapping"),
        ("countries:\n  XX: {name: X, lines: []}", "non-empty"),
        ("countries:\n  XX: {lines: [{name: A, contact: B, for: [sadness]}]}", "the kinds are"),
        ("texts:\n  pt: {title: T}", "missing"),
        ("countries: {XX: {lines: [{name: A}]}}", "text"),
        ("[unclosed", "not valid YAML"),
    ],
)
def test_a_bad_lines_file_gets_a_clear_error(tmp_path: Path, text: str, problem: str):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ResourcesError, match=problem):
        CrisisDirectory.load(path)


def test_safety_settings_are_checked_and_persist_per_profile(coach_on):
    coach = coach_on(ScriptedLLM([]))
    with pytest.raises(ValueError, match="short code"):
        coach.update_settings("sam", {"safety": {"country": "<script>"}})
    with pytest.raises(ValueError, match="own_contacts"):
        coach.update_settings("sam", {"safety": {"own_contacts": ["x" * 500]}})
    coach.update_settings("sam", {"safety": {"country": "AU", "own_contacts": ["GP: 02 5550 1234", " "]}})
    assert coach.settings_for("sam").safety.own_contacts == ("GP: 02 5550 1234",)
    assert coach.settings_for("alex").safety.country == ""  # another person's stay their own
    assert coach.settings_for("sam").to_dict()["safety"]["country"] == "AU"


# -- the plan ---------------------------------------------------------------------------------
def test_the_plan_is_kept_per_profile_and_survives_a_restart(coach_on, tmp_path):
    coach = coach_on(ScriptedLLM([]))
    plan = SafetyPlan(
        warning_signs="Not sleeping", what_helps="Music; a hot shower", professionals="Dr Lee 555"
    )
    save_plan(coach.bank("sam"), plan, 1.0)
    assert load_plan(coach.bank("alex")).is_empty
    coach.close()
    again = coach_on(ScriptedLLM([]))
    assert load_plan(again.bank("sam")) == plan
    save_plan(again.bank("sam"), SafetyPlan(what_helps="Music"), 2.0)  # cleared sections are gone
    assert again.safety_plan("sam").sections() == {"what_helps": "Music"}


def test_plan_sections_are_checked():
    with pytest.raises(ValueError, match="unknown"):
        SafetyPlan.from_sections({"favourite_colour": "blue"})
    with pytest.raises(ValueError, match="longer than"):
        SafetyPlan(what_helps="x" * 5000)


def test_an_unreadable_plan_still_shows_the_lines(coach_on, tmp_path):
    coach = coach_on(ScriptedLLM(script()))
    bank = coach.bank("sam")
    bank.save_safety_plan({"what_helps": "x" * 9000}, 1.0)  # too long for SafetyPlan: unreadable
    events = list(coach.reply("sam", CRISIS, user_name="Sam"))
    assert isinstance(events[0], CareShown) and not events[0].card.shows_plan
    assert isinstance(events[1], Recalled)


def test_the_plan_lives_in_the_profiles_store(coach_on, tmp_path):
    coach = coach_on(ScriptedLLM([]))
    save_plan(coach.bank("sam"), SafetyPlan(what_helps="Calling Ana"), 1.0)
    coach.bank("sam").flush()
    [db_path] = [p for p in tmp_path.rglob("*.sqlite3")]
    rows = sqlite3.connect(db_path).execute("SELECT section, text FROM safety_plan").fetchall()
    assert rows == [("what_helps", "Calling Ana")]


def test_a_generic_spoken_line_is_opened_and_closed_with_joi_s_own_words(coach_on):
    coach = coach_on(ScriptedLLM(script("It sounds difficult. What do you want to talk about?")))
    _, _, turn = collect(coach.reply("sam", CRISIS, user_name="Sam"))
    assert turn is not None
    dialogue = turn.reply.dialogue
    assert dialogue.startswith("Sam, I'm really glad you told me, and I'm here with you.")
    assert "What do you want to talk about?" in dialogue
    assert dialogue.endswith("Are you safe right now, and is there someone you could reach out to tonight?")


@pytest.mark.parametrize(
    ("kind", "spoken", "closed"),
    [
        (
            CrisisKind.SUICIDAL,
            "Sam, I'm really glad you told me, and I'm here with you. Are you safe tonight?",
            False,
        ),
        (CrisisKind.SUICIDAL, "Sam, I'm really glad you told me, and I'm here with you.", True),
        (CrisisKind.MEDICAL_EMERGENCY, "Please call 999. Can you do that now?", False),
        (CrisisKind.MEDICAL_EMERGENCY, "That sounds frightening.", True),
        (CrisisKind.ABUSE_OR_DANGER, "Is there somewhere safe you can go?", False),
    ],
)
def test_the_closing_is_added_only_when_the_line_lacks_it(kind, spoken, closed):
    from joi_coach.safety.response import crisis_closing

    assert bool(crisis_closing(CrisisSignal(kind, 0.9, "t"))(spoken)) is closed


def test_after_a_restart_the_transcript_marks_where_the_lines_were_shown(coach_on):
    from joi_coach.conversations import load_transcript

    coach = coach_on(ScriptedLLM(script() + script("Okay.")))
    collect(coach.reply("sam", CRISIS, user_name="Sam", conversation="c1", now=1000.0))
    collect(coach.reply("sam", EVERYDAY, user_name="Sam", conversation="c1", now=1060.0))
    lines = load_transcript(coach.bank("sam"), "c1", coach.character.name)
    joi_lines = [line for line in lines if line.from_joi]
    assert [line.care_shown for line in joi_lines] == [True, False]
    assert "ending their life" not in joi_lines[0].therapeutic, "Joi's note is not shown as a thought"


def test_the_persona_says_joi_is_an_ai_and_never_claims_to_be_a_person_or_professional():
    from joi_coach.persona import Character

    joi = Character.load()
    context = joi.context.lower()
    assert "ai coach" in context and "never claim to be a person or a licensed professional" in context
    for claim in ("i am human", "i'm human", "licensed therapist", "i am a therapist", "i'm a therapist"):
        assert claim not in (joi.greeting + joi.context).lower()


def test_in_a_crisis_the_model_s_advice_is_not_shown_and_the_line_stays_short(coach_on):
    spoken = (
        "It sounds like you're carrying so much right now. Try gradually increasing the time you spend outside. "
        "Experimenting with a new sleep routine can help. What has tonight been like? One more thing."
    )
    coach = coach_on(ScriptedLLM(script(spoken)))
    _, _, turn = collect(coach.reply("sam", CRISIS, user_name="Sam"))
    assert turn is not None
    dialogue = turn.reply.dialogue
    assert "carrying so much" in dialogue and "What has tonight been like?" in dialogue
    assert "gradually" not in dialogue and "routine" not in dialogue and "One more thing" not in dialogue
    assert dialogue.endswith("Are you safe right now, and is there someone you could reach out to tonight?")


@pytest.mark.parametrize(
    ("sentence", "advice"),
    [
        # seen from the embedded model in crisis turns of benchmarks/coach_eval.py
        (" Try gradually increasing the length of your bedtime and waking times.", True),
        ("The best way to do that is to spend some time together.", True),
        ("Maybe try a quiet walk or talk.", True),
        ("Can we talk about how you might feel if you choose to cut yourself tonight?", True),
        ("It's important to take care of yourself and your boyfriend.", True),
        ("Maybe think about how you're making a difference in someone else's life.", True),
        ("Remember, there are crisis lines available: 1-800-273-TALK (800-273-8255).", True),
        ("It sounds like your arm was a reminder of something that made you feel better.", True),
        ("It sounds like you're carrying so much right now.", False),
        ("Can you please let me know what happened?", False),
        ("You could reach out to someone you trust tonight.", False),
    ],
)
def test_advice_in_a_crisis_is_recognised(sentence, advice):
    from joi_coach.safety.response import gives_advice

    assert gives_advice(sentence) is advice
