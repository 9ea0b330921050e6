"""Crisis safety in the webui, through the stand-in host with scripted model output.

A message that signals a crisis gets the model's instruction, the care card in the chat
(after the thoughts, before the dialogue) and in the reply the host keeps (so in its API's
``content``, streamed or not), one note of Joi's, and a follow-up in the next conversation.
The card is never stored as Joi's dialogue. Everyday language gets none of it, and every
generation that is not one of Joi's chat turns passes through ``custom_generate_reply``
untouched. The extension, its memories, the crisis detector and the embedding model are real.
"""

from __future__ import annotations

import html
import itertools
import sys

import pytest
from joi_coach.cognition.voices import ParsedReply
from joi_coach.llm.base import GenerationParams
from joi_coach.memory.models import Stream
from joi_coach.safety.response import CARD_MARKER, FOLLOW_UP_KEY
from joi_coach.webui.host_generation import internal_state
from joi_coach.webui.turns import CardPlacer, ReplyPlan, render_visible

from .conftest import REPO, Conversation, LlamaServer, ScriptedModel, chat_state

CRISIS = "I don't want to be alive anymore. I've been thinking about how I would do it."
EVERYDAY = "This deadline is killing me, but I think I'll make it if I start early tomorrow."
EMPATHETIC = "Sam is in deep pain and exhausted."
THERAPEUTIC = "I will stay with Sam and ask whether Sam is safe."
THOUGHTS = f"\nEmpathetic voice: {EMPATHETIC}\nTherapist voice: {THERAPEUTIC}\n"
DIALOGUE = "I'm really glad you told me, Sam. Are you safe right now?"
REPLY = f"{THOUGHTS}</think>\n\n{DIALOGUE}"
SAFETY_NOTE = "Safety note for this reply"
CHECK_IN = "check in warmly"
PROFILE = "Sam & Joi"

OTHER_GENERATOR = """
params = {"display_name": "Other generator"}

def custom_generate_reply(question, original_question, state, stopping_strings=None, is_chat=False):
    from modules import shared
    for text in shared.model.generate_with_streaming(question, state):
        yield text.replace("Sam", "Samuel")
"""


def written(prefix: str) -> str:
    """What the model writes after Joi's prefix (``reply_prefix``) in a chat turn."""
    if prefix == "first voice":
        return f" {EMPATHETIC}\nTherapist voice: {THERAPEUTIC}\n</think>\n\n{DIALOGUE}"
    return DIALOGUE if prefix == "none" else REPLY


def load(tmp_path, prefix: str = "think", before: str = "", after: str = ""):
    """The stand-in host with joi_coach (and another extension before or after it) loaded."""
    from modules import extensions, shared

    (tmp_path / "extensions").mkdir()
    (tmp_path / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    names = ["joi_coach"]
    for name, where in (("before", before), ("after", after)):
        if where:
            (tmp_path / "extensions" / name).mkdir()
            (tmp_path / "extensions" / name / "script.py").write_text(where, encoding="utf-8")
            names = [name, *names] if name == "before" else [*names, name]
    shared.user_data_dir = tmp_path
    shared.args.extensions = names
    shared.args.parallel, shared.args.idle_timeout = 1, 0
    # The card's placement in the host's one pass over its prompt (Continue, reply_steps off);
    # in Joi's steps: test_webui_reply_steps.py.
    shared.settings = {
        "joi_coach-background": False,
        "joi_coach-reply_prefix": prefix,
        "joi_coach-reply_steps": False,
    }
    shared.model, shared.model_name, shared.stop_everything = (
        ScriptedModel(written(prefix)),
        "scripted",
        False,
    )
    extensions.setup_called.clear()
    extensions.load_extensions()
    return sys.modules["user_ext_joi_coach"]


@pytest.fixture()
def script(tmp_path, embedder):
    loaded = load(tmp_path)
    yield loaded
    loaded.joi.close()
    unload()


def unload() -> None:
    from modules import shared

    shared.model, shared.model_name = None, "None"


def joi_state(conversation: str = "c1", **changes) -> dict:
    state = chat_state("Joi", "Sam", "chat")
    state.update(unique_id=conversation, **changes)
    return state


def shown_card(joi) -> str:
    """The care card as the chat shows it: HTML-safe markdown."""
    coach = joi.coach
    signal = coach.check_crisis(CRISIS)
    return coach.care_card(coach.bank(PROFILE), coach.settings_for(PROFILE), signal).markdown()


def card_for(joi) -> str:
    """The care card in the reply the host keeps and its API sends: the same, unescaped."""
    card = html.unescape(shown_card(joi))
    assert "& Crisis Lifeline" in card  # (a card with something to unescape)
    return card


def model_prompt() -> str:
    from modules import shared

    return shared.model.prompts[-1]


def spoken(joi) -> list[str]:
    return [m.text for m in joi.coach.bank(PROFILE).memories(Stream.DIALOGUE, limit=50) if m.speaker == "Joi"]


def notes(joi) -> list[str]:
    bank = joi.coach.bank(PROFILE)
    return [m.text for m in bank.memories(Stream.THERAPEUTIC, limit=50) if m.importance_source == "safety"]


def expected_visible(joi) -> str:
    return render_visible(ParsedReply(EMPATHETIC, THERAPEUTIC, DIALOGUE), shown_card(joi))


# -- the chat --------------------------------------------------------------------------------
def test_a_crisis_message_gets_the_instruction_the_card_after_the_thoughts_and_one_note(script):
    card = card_for(script.joi)
    history = Conversation(joi_state()).send(CRISIS)
    assert SAFETY_NOTE in model_prompt()
    visible = history["visible"][-1][1]
    assert visible == expected_visible(script.joi)
    thoughts, _, said = visible.partition("&lt;/think&gt;\n\n")
    assert "Therapist voice:" in thoughts and said.startswith(CARD_MARKER)  # after the Thought block
    assert history["internal"][-1][1] == f"<think>{THOUGHTS}</think>\n\n{card}\n\n{DIALOGUE}"
    assert spoken(script.joi) == [DIALOGUE]  # the card is not Joi's dialogue
    [note] = notes(script.joi)
    assert "ending their life" in note and "alive" not in note
    assert script.joi.coach.bank(PROFILE).get_meta(FOLLOW_UP_KEY)


@pytest.mark.parametrize(
    ("prefix", "stream"),
    [
        ("think", False),
        ("think", True),
        ("first voice", False),  # streamed, the host cannot tell its thoughts (docs/webui.md)
        ("none", False),
        ("none", True),
    ],
)
def test_the_api_content_starts_with_the_card_streamed_or_not(tmp_path, embedder, prefix, stream):
    from modules.api.completions import chat_completion

    joi = load(tmp_path, prefix).joi
    try:
        card = card_for(joi)
        answer, history = chat_completion(CRISIS, joi_state(), stream=stream)
        if stream:
            content = "".join(chunk["content"] or "" for chunk in answer)
            reasoning = "".join(chunk["reasoning_content"] or "" for chunk in answer)
            assert any(CARD_MARKER in (chunk["content"] or "") for chunk in answer)
        else:
            content, reasoning = answer["content"], answer.get("reasoning_content", "")
        assert content == f"{card}\n\n{DIALOGUE}"
        assert CARD_MARKER not in reasoning
        if prefix == "think":  # (streamed, the host may send a "</think" it is still reading)
            assert reasoning.strip().removesuffix("</think").strip() == THOUGHTS.strip()
        assert history["visible"][-1][1].count(CARD_MARKER) == 1
        assert spoken(joi) == [DIALOGUE] and len(notes(joi)) == 1
    finally:
        joi.close()
        unload()


def test_everyday_language_gets_no_card_no_instruction_and_no_note(script):
    from modules.api.completions import chat_completion

    history = Conversation(joi_state()).send(EVERYDAY)
    assert SAFETY_NOTE not in model_prompt()
    assert CARD_MARKER not in history["visible"][-1][1] + history["internal"][-1][1]
    answer, _ = chat_completion(EVERYDAY, joi_state(), stream=False)
    assert answer["content"] == DIALOGUE
    assert notes(script.joi) == [] and not script.joi.coach.bank(PROFILE).get_meta(FOLLOW_UP_KEY)


def test_the_next_message_is_judged_on_its_own_and_earlier_cards_stay_out_of_the_prompt(script):
    from modules import text_generation

    conversation = Conversation(joi_state())
    conversation.send(CRISIS)
    history = conversation.send(EVERYDAY)  # state_modifier saw the crisis message last
    assert SAFETY_NOTE not in model_prompt()
    assert CARD_MARKER not in history["internal"][-1][1] + history["visible"][-1][1]
    assert CARD_MARKER in text_generation.calls[-1][0]  # the host's prompt has the earlier reply's card
    assert CARD_MARKER not in model_prompt() and f"Joi: {DIALOGUE}" in model_prompt()  # the model's has not
    assert len(notes(script.joi)) == 1


def test_regenerate_shows_the_card_again_and_keeps_one_note(script):
    conversation = Conversation(joi_state())
    conversation.send(CRISIS)
    history = conversation.send("", regenerate=True)
    assert SAFETY_NOTE in model_prompt()
    assert history["visible"][-1][1] == expected_visible(script.joi)
    assert history["internal"][-1][1].count(CARD_MARKER) == 1
    assert spoken(script.joi) == [DIALOGUE] and len(notes(script.joi)) == 1
    said = [m.text for m in script.joi.coach.bank(PROFILE).memories(Stream.DIALOGUE) if m.speaker == "Sam"]
    assert said == [CRISIS]


def test_continue_shows_the_card_once_and_stores_the_dialogue_without_it(script):
    from modules import shared

    card = card_for(script.joi)
    cut = (len(THOUGHTS) + len("</think>\n\n") + 20) // 4 * 4  # the first try stops inside the dialogue
    said = REPLY[len(THOUGHTS) + len("</think>\n\n") : cut]
    shared.model = ScriptedModel(lambda prompt: REPLY[cut:] if prompt.endswith(said) else REPLY)
    conversation = Conversation(joi_state(max_new_tokens=cut // 4))
    first = conversation.send(CRISIS)
    assert first["internal"][-1][1].count(CARD_MARKER) == 1
    conversation.state["max_new_tokens"] = 500
    history = conversation.send("", _continue=True)
    assert CARD_MARKER not in model_prompt()  # the model continues the dialogue, not the card
    assert history["internal"][-1][1] == f"<think>{THOUGHTS}</think>\n\n{card}\n\n{DIALOGUE}"
    assert history["visible"][-1][1] == expected_visible(script.joi)
    assert spoken(script.joi) == [DIALOGUE] and len(notes(script.joi)) == 1
    assert [m.text for m in script.joi.coach.bank(PROFILE).memories(Stream.EMPATHETIC)] == [EMPATHETIC]


def test_the_next_conversation_starts_with_a_check_in_once(script):
    Conversation(joi_state("c1")).send(CRISIS)
    later = Conversation(joi_state("c2"))
    later.send("Hi Joi, I'm back.")
    assert CHECK_IN in model_prompt() and SAFETY_NOTE not in model_prompt()
    assert not script.joi.coach.bank(PROFILE).get_meta(FOLLOW_UP_KEY)
    later.send("Work was fine today.")
    assert CHECK_IN not in model_prompt()


def test_the_card_reaches_the_chat_and_the_api_when_the_thoughts_never_end(script):
    from modules import shared
    from modules.api.completions import chat_completion

    card = card_for(script.joi)
    shared.model = ScriptedModel(THOUGHTS)  # no </think>, no dialogue
    answer, history = chat_completion(CRISIS, joi_state(), stream=False)
    assert answer["content"] == card
    assert history["internal"][-1][1] == f"<think>{THOUGHTS}\n</think>\n\n{card}"
    assert history["visible"][-1][1].endswith(f"&lt;/think&gt;\n\n{shown_card(script.joi)}")


def test_a_stopping_string_in_the_card_keeps_it_in_the_chat_only(script):
    from modules.api.completions import chat_completion

    answer, history = chat_completion(CRISIS, joi_state(custom_stopping_strings='"**"'), stream=False)
    assert answer["content"] == DIALOGUE  # not cut inside the card
    assert history["visible"][-1][1] == expected_visible(script.joi)


def test_another_characters_crisis_turn_is_not_touched(script):
    history = Conversation(chat_state("Assistant", "Sam", "chat")).send(CRISIS)
    assert history["internal"][-1][1] == REPLY.lstrip()
    assert SAFETY_NOTE not in model_prompt() and notes(script.joi) == []


# -- custom_generate_reply for everything else ------------------------------------------------
@pytest.mark.parametrize("loader", [ScriptedModel, LlamaServer])
def test_generations_that_are_not_joi_chat_turns_pass_through_byte_for_byte(script, loader):
    from modules import shared, text_generation

    shared.model = loader(
        lambda prompt: f"{CARD_MARKER}model text\n\n{len(prompt)} {prompt[-9:]} </think> end"
    )
    Conversation(joi_state()).send(CRISIS)  # a crisis turn just ran
    chat = joi_state()
    notebook = f"{CRISIS}\n\n{CARD_MARKER}a card in the notebook\n\nOnce upon"
    background = internal_state(chat, GenerationParams(max_tokens=40))
    host_own = (
        text_generation.generate_reply_custom if loader is LlamaServer else text_generation.generate_reply_HF
    )
    for prompt, state, is_chat in ((notebook, chat, False), (notebook, background, True)):
        direct = list(host_own(prompt, prompt, dict(state), ["\nSam:"], is_chat=is_chat))
        via_joi = list(script.custom_generate_reply(prompt, prompt, dict(state), ["\nSam:"], is_chat=is_chat))
        assert via_joi == direct and direct[-1].startswith(CARD_MARKER)
    *_, reply = text_generation.generate_reply(notebook, dict(chat), is_chat=False)  # the Notebook tab
    assert reply == shared.model.reply_for(notebook)
    chunks = list(
        script.joi.generation.stream_chat(
            [{"role": "user", "content": CRISIS}], GenerationParams(max_tokens=40)
        )
    )
    assert "".join(chunks) == shared.model.reply_for(shared.model.prompts[-1])  # Joi's own prompt


def test_no_model_loaded_gives_what_the_host_gives(script):
    unload()
    assert list(script.custom_generate_reply("p", "p", joi_state(), None, is_chat=False)) == [""]


def test_another_extensions_generator_after_joi_still_generates_and_gets_the_card(tmp_path, embedder):
    from modules.api.completions import chat_completion

    joi = load(tmp_path, after=OTHER_GENERATOR).joi
    try:
        answer, _ = chat_completion(CRISIS, joi_state(), stream=False)
        assert answer["content"] == f"{card_for(joi)}\n\n{DIALOGUE.replace('Sam', 'Samuel')}"
    finally:
        joi.close()
        unload()


def test_another_extensions_generator_before_joi_wins_and_the_card_is_in_the_chat_only(tmp_path, embedder):
    from modules.api.completions import chat_completion

    joi = load(tmp_path, before=OTHER_GENERATOR).joi
    try:
        answer, history = chat_completion(CRISIS, joi_state(), stream=False)
        assert answer["content"] == DIALOGUE.replace("Sam", "Samuel")
        assert CARD_MARKER in history["visible"][-1][1] and len(notes(joi)) == 1
    finally:
        joi.close()
        unload()


# -- where the card goes, as the reply streams -----------------------------------------------------
@pytest.mark.parametrize(
    ("in_thoughts", "raw", "expected"),
    [
        (True, "thoughts\n</think>\n\nHello.", "thoughts\n</think>\n\nCARD\n\nHello."),
        (True, "thoughts that never end", "thoughts that never end\n</think>\n\nCARD"),
        (False, "Hello.", "CARD\n\nHello."),
        (False, "  Joi: Hello.", "CARD\n\nHello."),  # the label the host would drop
        (False, "Joins are fine.", "CARD\n\nJoins are fine."),
        (False, "<think>hm</think>Hello.", "<think>hm</think>\n\nCARD\n\nHello."),
        (False, "", "CARD"),
    ],
)
def test_each_text_given_back_extends_the_last(in_thoughts, raw, expected):
    placer = CardPlacer(ReplyPlan("prompt", "CARD", in_thoughts, ("Joi:", "Sam:")))
    given = [placer.place(raw[:end]) for end in range(len(raw) + 1)]
    given.append(placer.finish(raw))
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(given))
    assert given[-1] == expected


def test_the_visible_card_is_html_safe_and_the_dialogue_escaped():
    shown = render_visible(ParsedReply("", "", "a <b>"), "> **🆘 x &amp; y**")
    assert shown == "> **🆘 x &amp; y**\n\na &lt;b&gt;"
    assert html.unescape(shown).startswith(CARD_MARKER)
