"""The hooks' rules, without generating: activation, injection, splitting, storing, failures.

The extension is loaded by the stand-in host exactly as the webui loads it; no model is
loaded (``shared.model`` is None), so these run in seconds on the real embedding model.
"""

from __future__ import annotations

import html
import sys

import pytest
from joi_coach.memory.models import Stream

from .conftest import REPO, chat_state


def chat_turn(script, state: dict) -> dict:
    """The host's chat-turn start: ``history_modifier`` then ``state_modifier``, on one thread."""
    script.history_modifier(state["history"])
    return script.state_modifier(state)


@pytest.fixture()
def loaded(tmp_path, embedder):
    """joi_coach loaded by the stand-in host, with settings.yaml-style overrides."""
    from modules import extensions, shared

    (tmp_path / "extensions").mkdir()
    (tmp_path / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    shared.user_data_dir = tmp_path
    shared.args.extensions = ["joi_coach"]
    shared.settings = {"joi_coach-background": False, "joi_coach-reply_prefix": "first voice"}
    shared.model = None
    extensions.setup_called.clear()
    extensions.load_extensions()
    script = sys.modules["user_ext_joi_coach"]
    yield script
    script.joi.close()


def test_the_host_loads_the_script_as_a_bare_module_and_applies_settings_overrides(loaded, tmp_path):
    assert loaded.params["display_name"] == "Joi Coach" and loaded.params["is_tab"] is True
    assert loaded.params["background"] is False  # from the host's settings
    assert loaded.joi.coach.data_dir == tmp_path / "joi_coach"  # under the host's user_data


def test_joi_acts_only_for_its_character_in_chat_modes_unless_switched_on(loaded):
    turns = loaded.joi.turns
    assert turns.is_active(chat_state("Joi", "Sam", "chat"))
    assert turns.is_active(chat_state("Joi", "Sam", "chat-instruct"))
    assert not turns.is_active(chat_state("Joi", "Sam", "instruct"))
    assert not turns.is_active(chat_state("Assistant", "Sam", "chat"))
    assert turns.is_active({**chat_state("Assistant", "Sam", "chat"), "character_menu": "Joi"})
    assert not turns.is_active({**chat_state("Joi", "Sam", "chat"), "joi_coach_internal": True})
    loaded.joi.set_always_on(True)
    assert loaded.joi.turns.is_active(chat_state("Assistant", "Sam", "instruct"))


def test_another_characters_state_and_reply_pass_through_untouched(loaded):
    state = chat_state("Assistant", "Sam", "chat")
    assert chat_turn(loaded, state) is state
    assert loaded.chat_input_modifier("hi <b>", "hi &lt;b&gt;", state) == ("hi <b>", "hi &lt;b&gt;")
    assert loaded.bot_prefix_modifier("", state) == ""
    assert loaded.output_modifier("Hello &lt;3", state, is_chat=True) == "Hello &lt;3"


def test_memories_go_into_a_copy_of_the_state_for_this_generation(loaded):
    bank = loaded.joi.coach.bank("Sam & Joi")
    loaded.joi.coach.remember_message(bank, "My sister Mia gave me a running plan.", "Sam", "old", 1.0)
    original = chat_state("Joi", "Sam", "chat")
    context_before = original["context"]
    state = chat_turn(loaded, original)
    text, visible = loaded.chat_input_modifier("What did Mia give me?", "What did Mia give me?", state)
    assert (text, visible) == ("What did Mia give me?", "What did Mia give me?")
    assert state is not original and original["context"] == context_before and original["mode"] == "chat"
    assert state["mode"] == "chat-instruct"  # chat mode runs as chat-instruct for Joi
    assert state["context"].startswith(context_before.rstrip())
    assert "running plan" in state["context"].split("What you remember", 1)[1]


def test_instruct_mode_when_switched_on_puts_persona_and_memories_in_the_system_message(loaded):
    loaded.joi.set_always_on(True)
    bank = loaded.joi.coach.bank("Sam & Assistant")
    loaded.joi.coach.remember_message(bank, "I promised to call my mother on Sundays.", "Sam", "old", 1.0)
    state = chat_turn(
        loaded, {**chat_state("Assistant", "Sam", "instruct"), "custom_system_message": "Be brief."}
    )
    loaded.chat_input_modifier("Who should I call on Sunday?", "", state)
    system = state["custom_system_message"]
    assert system.startswith("Be brief.") and "You are Joi" in system
    assert "call my mother" in system.split("What you remember", 1)[1]


def test_a_finished_reply_is_split_into_the_hosts_think_block_and_stored_once(loaded):
    state = chat_turn(loaded, chat_state("Joi", "Sam", "chat"))
    loaded.chat_input_modifier("I skipped the gym <again>.", "", state)
    prefix = loaded.bot_prefix_modifier("", state)
    assert prefix == "<think>\nEmpathetic voice:"
    generated = " Sam is <annoyed> with himself.\nTherapist voice: I will ask what got in the way.\n</think>\nWhat got in the way <today>?"
    visible = html.escape(generated)  # what the host hands to output_modifier
    shown = loaded.output_modifier(visible, state, is_chat=True)
    assert shown == (
        "&lt;think&gt;\nEmpathetic voice: Sam is &lt;annoyed&gt; with himself.\n\n"
        "Therapist voice: I will ask what got in the way.\n&lt;/think&gt;\n\nWhat got in the way &lt;today&gt;?"
    )
    assert loaded.output_modifier(visible, state, is_chat=True) == shown  # a second call stores nothing
    bank = loaded.joi.coach.bank("Sam & Joi")
    by_stream = {s: [m.text for m in bank.memories(s, limit=10)] for s in Stream}
    assert sorted(by_stream[Stream.DIALOGUE]) == sorted(
        ["I skipped the gym <again>.", "What got in the way <today>?"]
    )
    assert by_stream[Stream.EMPATHETIC] == ["Sam is <annoyed> with himself."]
    assert by_stream[Stream.THERAPEUTIC] == ["I will ask what got in the way."]


def test_a_reply_that_ignores_the_format_is_kept_whole_as_dialogue(loaded):
    state = chat_turn(loaded, chat_state("Joi", "Sam", "chat"))
    loaded.chat_input_modifier("Hello", "", state)
    loaded.bot_prefix_modifier("", state)  # forced "Empathetic voice:", which the model ignored
    shown = loaded.output_modifier("Just words, no format &amp; no tags.", state, is_chat=True)
    assert shown == "Just words, no format &amp; no tags."
    bank = loaded.joi.coach.bank("Sam & Joi")
    assert "Just words, no format & no tags." in [m.text for m in bank.memories(Stream.DIALOGUE, limit=10)]
    assert bank.count(Stream.EMPATHETIC) == 0


def test_empty_or_oversized_messages_are_not_remembered_and_do_not_break_the_turn(loaded):
    state = chat_turn(loaded, chat_state("Joi", "Sam", "chat"))
    assert loaded.chat_input_modifier("   ", "", state) == ("   ", "")
    huge = "x" * 200_000
    assert loaded.chat_input_modifier(huge, "v", state) == (huge, "v")
    assert loaded.joi.coach.bank("Sam & Joi").count(Stream.DIALOGUE) == 0


def test_a_failing_hook_hands_the_host_its_input_back(loaded, caplog):
    state = chat_state("Joi", "Sam", "chat")
    state["history"] = "not a history"  # a host that changed its state shape
    assert chat_turn(loaded, state) is state
    assert "Joi Coach skipped state_modifier" in caplog.text
    assert "not a history" not in caplog.text


def test_internal_prompts_of_joi_are_not_touched_by_its_own_hooks(loaded):
    from joi_coach.llm.base import GenerationParams
    from joi_coach.webui.host_generation import internal_state

    base = chat_turn(loaded, chat_state("Joi", "Sam", "chat"))
    internal = internal_state(base, GenerationParams(max_tokens=8, stop=("\n",)))
    assert "history" not in internal and not any(k.startswith("joi_coach_turn") for k in internal)
    assert internal["max_new_tokens"] == 8 and internal["stream"] is True
    assert loaded.state_modifier(internal) is internal
    assert loaded.output_modifier("7", internal, is_chat=False) == "7"


def test_profiles_are_listed_for_the_tab_and_survive_a_restart(loaded, tmp_path):
    chat_turn(loaded, chat_state("Joi", "Sam", "chat"))
    chat_turn(loaded, chat_state("Joi", "Alex", "chat-instruct"))
    assert loaded.joi.turns.known_profiles() == ["Sam & Joi", "Alex & Joi"]
    from joi_coach.webui.turns import WebuiTurns

    reopened = WebuiTurns(loaded.joi.coach, loaded.joi.turns.options)  # as after a restart
    assert reopened.known_profiles() == ["Sam & Joi", "Alex & Joi"]
    (tmp_path / "joi_coach" / "webui-profiles.json").write_text("{not json", encoding="utf-8")
    assert WebuiTurns(loaded.joi.coach, loaded.joi.turns.options).known_profiles() == []


def test_in_chat_instruct_the_reply_also_stops_where_the_person_would_speak(loaded):
    import ast

    state = chat_turn(loaded, {**chat_state("Joi", "Sam", "chat"), "custom_stopping_strings": '"###"'})
    assert ast.literal_eval(f"[{state['custom_stopping_strings']}]") == ["###", "\nSam:"]
    listed = chat_turn(loaded, {**chat_state("Joi", "Sam", "chat-instruct"), "custom_stopping_strings": []})
    assert listed["custom_stopping_strings"] == ["\nSam:"]


def test_a_memory_forgotten_in_the_tab_is_not_injected_again_from_the_last_recall(loaded):
    coach = loaded.joi.coach
    bank = coach.bank("Sam & Joi")
    [secret] = [coach.remember_message(bank, "My PIN hint is the cat's birthday.", "Sam", "old", 1.0)]
    history = {"internal": [["What is my PIN hint about?", "Let me think."]], "visible": [], "metadata": {}}
    state = chat_turn(loaded, {**chat_state("Joi", "Sam", "chat"), "history": history})
    assert "cat's birthday" in state["context"]
    again = chat_turn(loaded, {**chat_state("Joi", "Sam", "chat"), "history": history})  # e.g. a regenerate
    assert "cat's birthday" in again["context"]
    bank.forget(secret)
    after = chat_turn(loaded, {**chat_state("Joi", "Sam", "chat"), "history": history})
    assert "cat's birthday" not in after["context"]
