"""Crisis handling beyond English patterns: languages, the card that fits the danger, laughter,
the thoughts shown in a crisis, and the model's second opinion."""

from __future__ import annotations

import pytest
from joi_coach.coach import CareShown, TurnDone
from joi_coach.safety.detection import CrisisDetector, CrisisKind, CrisisSignal
from joi_coach.safety.language import guess_language
from joi_coach.safety.llm_opinion import ask_model
from joi_coach.safety.pattern_tables import (
    PATTERN_DIR,
    PatternTableError,
    load_tables,
    match_tables,
    read_table,
)
from joi_coach.safety.plan import SafetyPlan
from joi_coach.safety.resources import CrisisDirectory
from joi_coach.safety.response import build_card, crisis_thought_check
from joi_coach.safety.settings import SafetySettings
from joi_coach.safety.text_prep import clean, fold
from scripted_llm import ScriptedLLM

DIRECTORY = CrisisDirectory.load()
PATTERNS = CrisisDetector()


# -- languages ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ich weiß nicht mehr weiter, es ist alles zu viel", "de"),
        ("Je ne sais plus quoi faire, tout est trop lourd", "fr"),
        ("No sé qué hacer, ya no puedo más con todo esto", "es"),
        ("I don't know what to do any more, it's all too much", "en"),
        ("Ciao, come stai?", "en"),  # another language: the English card with international lines
    ],
)
def test_the_language_of_a_message_is_told_apart(text, language):
    assert guess_language(text) == language


def test_a_message_too_short_to_tell_takes_the_language_of_earlier_turns():
    assert guess_language("ok") == "en"
    assert guess_language("ok", ["Ich bin heute so müde und habe keine Lust mehr auf irgendwas"]) == "de"


def test_folding_drops_accents_for_the_tables():
    assert (
        fold(clean("Ich MÖCHTE nicht mehr – ça, años, Straße")) == "ich mochte nicht mehr – ca, anos, strasse"
    )


def test_every_shipped_pattern_table_loads_and_names_its_rules_once():
    rules = load_tables()
    names = [rule.name for rule in rules]
    assert len(names) == len(set(names))
    tables = sorted(PATTERN_DIR.glob("*.yaml"))
    assert {path.stem for path in tables} >= {"de", "fr", "es"}
    for path in tables:
        assert read_table(path), f"{path.name} has no rules"


def test_a_broken_pattern_table_is_refused_with_its_file_and_rule(tmp_path):
    bad = tmp_path / "xx.yaml"
    bad.write_text("language: xx\nrules:\n  - {name: xx_a, kind: suicidal, score: 0.9, any: ['(']}\n")
    with pytest.raises(PatternTableError, match=r"xx.yaml: rules\[0\].any"):
        read_table(bad)
    bad.write_text("language: xx\nrules:\n  - {name: xx_a, kind: sad, score: 0.9, any: ['a']}\n")
    with pytest.raises(PatternTableError, match="kind must be one of"):
        read_table(bad)


def test_a_table_rule_is_held_back_by_its_unless(tmp_path):
    table = tmp_path / "xx.yaml"
    table.write_text(
        "language: xx\nrules:\n"
        "  - {name: xx_die, kind: suicidal, score: 0.9, any: ['\\bquiero morir\\b'], unless: ['\\bde risa\\b']}\n"
    )
    rules = read_table(table)
    assert match_tables(clean("Quiero morir."), rules) is not None
    assert match_tables(clean("quiero morir de risa"), rules) is None


# -- laughter ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "i'm going to kill myself lol",
        "gonna end it tonight haha",
        "i want to die lmao not even joking",
        "kms lol",
    ],
)
def test_laughter_never_switches_off_a_statement_of_intent(text):
    assert PATTERNS.check(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "im gonna kill myself if i have to sit through one more zoom call lol",
        "ugh kill me now, this homework lol",
        "i want to die lmao this exam was brutal",
    ],
)
def test_laughter_beside_a_trivial_reason_is_hyperbole(text):
    assert PATTERNS.check(text) is None


# -- the card fits the danger ---------------------------------------------------------------
def card_lines(kind: CrisisKind, country: str = "", language: str = "") -> list[str]:
    card = build_card(
        CrisisSignal(kind, 0.9, "t"), DIRECTORY, SafetySettings(country=country), SafetyPlan(), language
    )
    return [name for name, _ in card.lines]


def test_with_no_country_danger_at_home_leads_with_emergency_and_abuse_lines():
    lines = card_lines(CrisisKind.ABUSE_OR_DANGER)
    assert lines[0] == "Emergency services"
    assert any("Domestic" in line for line in lines[:3])
    first_suicide = next(i for i, line in enumerate(lines) if "Suicide" in line or "Samaritans" in line)
    assert all("Suicide" not in line for line in lines[:first_suicide])
    assert first_suicide >= 4


def test_with_no_country_a_medical_emergency_lists_no_suicide_lines():
    lines = card_lines(CrisisKind.MEDICAL_EMERGENCY)
    assert lines[0] == "Emergency services"
    assert not any("Suicide" in line or "Samaritans" in line or "Lifeline" in line for line in lines)


def test_suicide_lines_lead_for_suicidal_kinds_only():
    assert "Suicide" in card_lines(CrisisKind.SUICIDAL)[0]
    us = card_lines(CrisisKind.ABUSE_OR_DANGER, "US")
    assert us[0] == "National Domestic Violence Hotline"


def test_a_person_writing_german_with_no_country_gets_the_german_card_and_lines():
    card = build_card(
        CrisisSignal(CrisisKind.SUICIDAL, 0.9, "t"), DIRECTORY, SafetySettings(), SafetyPlan(), "de"
    ).markdown()
    assert "Du musst das nicht allein tragen" in card
    assert "TelefonSeelsorge" in card and "0800 111 0 111" in card
    assert "findahelpline.com" in card
    assert "988" not in card


def test_the_chosen_language_wins_over_the_written_one():
    card = build_card(
        CrisisSignal(CrisisKind.SUICIDAL, 0.9, "t"),
        DIRECTORY,
        SafetySettings(language="en"),
        SafetyPlan(),
        "de",
    ).markdown()
    assert "You don't have to carry this alone" in card


# -- the thoughts in a crisis ---------------------------------------------------------------
def test_a_thought_that_misreads_a_crisis_or_gives_advice_is_replaced():
    check = crisis_thought_check(CrisisSignal(CrisisKind.SUICIDAL, 0.9, "t"))
    misread = " looking forward to a quiet night of sleep and getting comfortable in bed."
    assert check(0, misread) != misread
    tip = " to clean one room a day, which might help her feel better."
    assert check(1, tip) != tip
    seen = " in so much pain that she is thinking about ending her life."
    assert check(0, seen) == seen
    safety = " being asked plainly whether she is safe right now and reaching someone who can be with her."
    assert check(1, safety) == safety


def test_in_a_crisis_the_thoughts_read_the_safety_note_and_a_misreading_is_never_shown(coach_on):
    backend = ScriptedLLM(
        [
            " looking forward to a quiet night of sleep.",  # a misreading
            " to get comfortable in bed and try a relaxing bath.",  # advice
            "I'm here with you. Are you safe right now?",
        ]
    )
    coach = coach_on(backend, country="GB")
    message = "I've saved up my sleeping pills and tonight I'm going to take them all."
    events = list(coach.reply("sam", message, user_name="Sam", conversation="c1", now=1_700_000_000))
    assert isinstance(events[0], CareShown)
    turn = next(e for e in events if isinstance(e, TurnDone)).turn
    shown = turn.reply.empathetic + " " + turn.reply.therapeutic
    assert "quiet night" not in shown and "bath" not in shown
    assert "danger" in turn.reply.empathetic and "safe" in turn.reply.therapeutic
    for call in backend.calls[:2]:  # the two thought steps
        assert any("Safety note for these thoughts" in str(m["content"]) for m in call.messages)
        assert call.messages[-1]["content"] == message, "the message stays last"


def test_an_everyday_turn_streams_its_thoughts_unchanged(coach_on):
    backend = ScriptedLLM([" proud of the run.", " to plan the next one.", "That's great, Sam!"])
    coach = coach_on(backend)
    events = list(
        coach.reply("sam", "I ran 5k today!", user_name="Sam", conversation="c1", now=1_700_000_000)
    )
    turn = next(e for e in events if isinstance(e, TurnDone)).turn
    assert "proud of the run" in turn.reply.empathetic
    assert not any("Safety note" in str(m["content"]) for m in backend.calls[0].messages)


# -- the model's second opinion -------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "crisis"), [("yes", True), (" Yes.", True), ("no", False), ("maybe", False)]
)
def test_the_models_answer_decides_an_unsure_message(answer, crisis):
    backend = ScriptedLLM([answer])
    signal = ask_model(
        backend, "it'll all be over soon", ["I took my cat to my brother for good"], CrisisKind.SUICIDAL
    )
    assert (signal is not None) is crisis
    if signal is not None:
        assert signal.kind is CrisisKind.SUICIDAL and signal.reason == "model:yes"
    [call] = backend.calls
    assert "I took my cat to my brother for good" in call.messages[-1]["content"]
    assert call.params.max_tokens <= 3 and call.params.temperature == 0


def test_a_failing_model_leaves_the_message_as_screened():
    assert ask_model(ScriptedLLM([]), "it'll all be over soon", [], CrisisKind.SUICIDAL) is None


UNSURE = "signed up on saturday, been three times already, my forearms are destroyed"


def test_the_models_opinion_is_asked_only_when_turned_on(coach_on, embedder):
    from joi_coach.coach import collect
    from joi_coach.safety.detection import CrisisDetector

    assert CrisisDetector(embedder).screen(UNSURE).uncertain is not None, "precondition: an unsure message"
    reply = [" thinking.", " to listen.", " That sounds like a big week. What got you there?"]
    off = ScriptedLLM(list(reply))
    _, _, turn = collect(coach_on(off).reply("p", UNSURE, user_name="Ann", conversation="c"))
    assert turn.crisis is None and len(off.calls) == 3, "off by default: no question, no card"
    on = ScriptedLLM(["yes", *reply])
    _, _, turn = collect(coach_on(on, llm_opinion=True).reply("q", UNSURE, user_name="Ann", conversation="c"))
    assert on.calls[0].params.max_tokens <= 3, "the model was asked first"
    assert turn.crisis is not None and turn.crisis.reason == "model:yes" and turn.care, (
        "its yes brings the card"
    )
