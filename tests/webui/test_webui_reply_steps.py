"""Joi's reply steps on the webui's own model, through the stand-in host, with scripted model output.

Inside the host's ``custom_generate_reply`` (under the lock the host already holds), each
step is one call of the host's inner generation function: the two thoughts from their forced
labels, then the spoken line as its own turn, guarded; the host keeps one reply, as
``<think>`` voices ``</think>`` dialogue. The extension, its memories and the embedding model
are real; the loader writes each step's text (:class:`StepWriter`).
"""

from __future__ import annotations

import sys

import pytest
from joi_coach.memory.models import Stream
from joi_coach.safety.response import CARD_MARKER

from .conftest import REPO, Conversation, ScriptedModel, StepWriter, chat_state, steps_text

EMPATHETIC = "Sam is proud of the run."
THERAPEUTIC = "What would help Sam most now is a question about what helped."
DIALOGUE = "That is a real step, Sam. What helped you get out of the door this time?"
LATER = "I skipped today's run because it rained."
LATER_DIALOGUE = "Rain can wash out a plan, Sam. What would a rainy-day version of the run look like?"
CRISIS = "I don't want to be alive anymore. I've been thinking about how I would do it."
CRISIS_DIALOGUE = "Try going for a walk to clear your head. You matter to the people around you."
WRITER = StepWriter(
    EMPATHETIC,
    THERAPEUTIC,
    {"I ran 3k today.": DIALOGUE, LATER: LATER_DIALOGUE, CRISIS: CRISIS_DIALOGUE},
    one_pass="(the host's own prompt)",
)

OTHER_GENERATOR = """
params = {"display_name": "Other generator"}

def custom_generate_reply(question, original_question, state, stopping_strings=None, is_chat=False):
    from modules import shared
    for text in shared.model.generate_with_streaming(question, state):
        yield text.replace("Sam", "Samuel")
"""
# The same, but its change is no invented name (Joi's talk guard would drop a sentence with one).
OTHER_SHOUTING = OTHER_GENERATOR.replace('text.replace("Sam", "Samuel")', "text.upper()")


def load(tmp_path, before: str = "", after: str = "", model=None):
    """The stand-in host with joi_coach (defaults: steps on), maybe another extension around it."""
    from modules import extensions, shared, text_generation

    (tmp_path / "extensions").mkdir()
    (tmp_path / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    names = ["joi_coach"]
    for name, script in (("before", before), ("after", after)):
        if script:
            (tmp_path / "extensions" / name).mkdir()
            (tmp_path / "extensions" / name / "script.py").write_text(script, encoding="utf-8")
            names = [name, *names] if name == "before" else [*names, name]
    shared.user_data_dir = tmp_path
    shared.args.extensions = names
    shared.args.parallel, shared.args.idle_timeout = 1, 0
    shared.settings = {"joi_coach-background": False}
    shared.model, shared.model_name, shared.stop_everything = (
        model or ScriptedModel(WRITER),
        "scripted",
        False,
    )
    text_generation.calls.clear()
    extensions.setup_called.clear()
    extensions.load_extensions()
    return sys.modules["user_ext_joi_coach"].joi


@pytest.fixture()
def joi(tmp_path, embedder):
    loaded = load(tmp_path)
    yield loaded
    loaded.close()
    unload()


def unload() -> None:
    from modules import shared

    shared.model, shared.model_name, shared.stop_everything = None, "None", False


def joi_state(**changes) -> dict:
    state = chat_state("Joi", "Sam", "chat")
    state.update({"unique_id": "c1", **changes})
    return state


def stored(joi, stream: Stream, speaker: str | None = None) -> list[str]:
    memories = joi.coach.bank("Sam & Joi").memories(stream, limit=50)
    return [m.text for m in reversed(memories) if speaker is None or m.speaker == speaker]


def test_a_chat_turn_runs_in_steps_inside_the_hosts_one_generation(joi):
    from modules import shared, text_generation

    history = Conversation(joi_state()).send("I ran 3k today.")
    assert history["internal"][-1][1] == "<think>" + steps_text(EMPATHETIC, THERAPEUTIC, DIALOGUE)
    [(prompt, is_chat, _)] = text_generation.calls  # one generation in the host, under its lock...
    assert is_chat and prompt.rstrip("\n").endswith("<think>")
    steps = shared.model.prompts  # ...and three steps on its model, none of them the host's prompt
    assert len(steps) == 3 and prompt not in steps
    assert steps[0].endswith("<|im_start|>assistant\n<think>\nEmpathetic voice: Sam is")
    assert steps[1].endswith("What would help Sam most now is")
    assert "Now reply to Sam as Joi" in steps[2] and EMPATHETIC in steps[2]  # the spoken line: its own turn
    thoughts_prompt = steps[0].rsplit("<|im_start|>assistant\n", 1)[0]
    assert "When you speak to Sam next, as Joi" in thoughts_prompt  # the guide, read with the prompt
    assert steps[2].startswith(thoughts_prompt), "the spoken line's prompt goes on from the thoughts'"
    assert all(s.startswith("<|im_start|>system\nYou are Joi") for s in steps)  # the character's persona
    assert stored(joi, Stream.EMPATHETIC) == [EMPATHETIC]
    assert stored(joi, Stream.THERAPEUTIC) == [THERAPEUTIC]
    assert stored(joi, Stream.DIALOGUE) == ["I ran 3k today.", DIALOGUE]
    assert not shared.generation_lock.locked()


def test_the_later_prompt_has_the_earlier_reply_as_dialogue_and_the_memories_late(joi):
    from modules import shared

    conversation = Conversation(joi_state())
    conversation.send("I ran 3k today.")
    conversation.send(LATER)
    first_step = [p for p in shared.model.prompts if p.endswith("Sam is")][-1]
    earlier = first_step.index(f"<|im_start|>assistant\n{DIALOGUE}<|im_end|>")
    assert first_step.index("<|im_start|>user\nI ran 3k today.") < earlier
    assert earlier < first_step.rindex(f"<|im_start|>user\n{LATER}")
    if "<memories" in first_step:  # recalled memories come after the dialogue: the prefix is kept
        assert first_step.index("<memories") > earlier
    assert conversation.state["history"]["internal"][-1][1].endswith(LATER_DIALOGUE)


@pytest.mark.parametrize("stream", [True, False])
def test_the_api_gets_the_thoughts_as_reasoning_and_a_clean_content(joi, stream):
    from modules.api.completions import chat_completion

    answer, _ = chat_completion("I ran 3k today.", joi_state(), stream=stream)
    if stream:
        reasoning = "".join(c["reasoning_content"] or "" for c in answer)
        content = "".join(c["content"] or "" for c in answer)
    else:
        reasoning, content = answer.get("reasoning_content", ""), answer["content"]
    assert reasoning.strip() == f"Empathetic voice: {EMPATHETIC}\nTherapist voice: {THERAPEUTIC}"
    assert content == DIALOGUE  # no "Joi:" label, no thoughts, never empty


class StoppedMidThought(ScriptedModel):
    """The person presses Stop right after the first thought's first token."""

    def generate_with_streaming(self, prompt, state):
        from modules import shared

        for text in super().generate_with_streaming(prompt, state):
            yield text
            if prompt.endswith("Sam is"):
                shared.stop_everything = True


def test_stop_during_the_first_thought_ends_the_reply_and_no_later_step_starts(tmp_path, embedder):
    joi = load(tmp_path, model=StoppedMidThought(WRITER))
    try:
        history = Conversation(joi_state()).send("I ran 3k today.")
        from modules import shared

        assert len(shared.model.prompts) == 1  # the therapist's step and the spoken line never started
        reply = history["internal"][-1][1]
        assert reply.startswith("<think>\nEmpathetic voice: Sam is") and "Therapist voice" not in reply
        assert stored(joi, Stream.DIALOGUE, "Joi") == []  # nothing said, nothing kept as said
    finally:
        joi.close()
        unload()


def test_regenerate_answers_the_same_message_again_without_its_earlier_reply(joi):
    from modules import shared

    conversation = Conversation(joi_state())
    conversation.send("I ran 3k today.")
    shared.model.prompts.clear()
    again = "Three kilometres is no small thing, Sam. How did your body feel afterwards?"
    shared.model.reply_for = StepWriter(EMPATHETIC, THERAPEUTIC, {"I ran 3k today.": again})
    history = conversation.send("", regenerate=True)
    assert history["internal"][-1][1].endswith(again)
    assert DIALOGUE not in shared.model.prompts[0]  # the reply being replaced is not in its prompt
    assert stored(joi, Stream.DIALOGUE) == ["I ran 3k today.", again]  # replaced, not added
    assert len(stored(joi, Stream.EMPATHETIC)) == 1


def test_continue_keeps_the_hosts_one_pass_over_the_reply_so_far(joi):
    from modules import shared

    conversation = Conversation(joi_state())
    conversation.send("I ran 3k today.")
    shared.model.prompts.clear()
    shared.model.reply_for = lambda prompt: " Take your time."
    history = conversation.send("", _continue=True)
    assert len(shared.model.prompts) == 1 and shared.model.prompts[0].endswith(DIALOGUE)
    assert history["internal"][-1][1].endswith(f"{DIALOGUE} Take your time.")


def test_a_crisis_turn_in_steps_gets_the_card_after_the_thoughts_and_the_frame(joi):
    from modules.api.completions import chat_completion

    answer, _ = chat_completion(CRISIS, joi_state())
    content = answer["content"]
    assert content.startswith(CARD_MARKER)  # the card first in what the person reads...
    said = content.split("\n\n")[-1]
    assert "Sam" in said and "?" in said  # ...then Joi's framed line, ending with the safety question
    assert "Try going for a walk" not in said  # the model's advice dropped in a crisis
    assert CARD_MARKER not in answer.get("reasoning_content", "")
    assert all(CARD_MARKER not in line for line in stored(joi, Stream.DIALOGUE, "Joi"))


def test_an_extension_with_its_own_generation_before_joi_is_the_one_the_host_calls(tmp_path, embedder):
    """The host calls only the first extension's custom_generate_reply: listed before Joi, that
    extension generates from the host's prompt, in one pass, and Joi still stores the turn."""
    from modules import shared

    joi = load(tmp_path, before=OTHER_GENERATOR, model=ScriptedModel(WRITER))
    try:
        history = Conversation(joi_state()).send("I ran 3k today.")
        assert len(shared.model.prompts) == 1  # one pass over the host's prompt, no steps
        assert "(the host's own prompt)" in history["internal"][-1][1]
        assert stored(joi, Stream.DIALOGUE, "Sam") == ["I ran 3k today."]
    finally:
        joi.close()
        unload()


def test_an_extension_with_its_own_generation_after_joi_generates_each_step(tmp_path, embedder):
    from modules import shared

    joi = load(tmp_path, after=OTHER_SHOUTING, model=ScriptedModel(WRITER))
    try:
        history = Conversation(joi_state()).send("I ran 3k today.")
        assert len(shared.model.prompts) == 3  # Joi's steps, each through the other extension
        assert "THAT IS A REAL STEP, SAM." in history["internal"][-1][1]  # (Joi's forced words stay)
    finally:
        joi.close()
        unload()


def test_steps_that_fail_before_any_text_fall_back_to_the_hosts_one_pass(joi, monkeypatch):
    from joi_coach.llm.base import LLMError
    from joi_coach.webui.inline_generation import InlineHostGeneration

    def broken(self, messages, params, cancel=None, assistant_prefix=""):
        raise LLMError("the step could not be sent")
        yield ""

    monkeypatch.setattr(InlineHostGeneration, "stream_chat", broken)
    history = Conversation(joi_state()).send("I ran 3k today.")
    assert "(the host's own prompt)" in history["internal"][-1][1]
    assert stored(joi, Stream.DIALOGUE, "Sam") == ["I ran 3k today."]


def test_each_api_client_that_sends_its_own_history_has_its_own_conversation(joi):
    from modules.api.completions import chat_completion

    _, first = chat_completion("I ran 3k today.", joi_state(unique_id=None))
    later = joi_state(unique_id=None)
    later["history"] = first  # the client sends its chat back with the next message
    chat_completion(LATER, later)
    chat_completion("I skipped today's run because it rained, again.", joi_state(unique_id=None))
    said = {m.text: m.conversation for m in joi.coach.bank("Sam & Joi").memories(Stream.DIALOGUE, limit=20)}
    client_a = said["I ran 3k today."]
    assert client_a.startswith("api-") and said[LATER] == client_a  # one client's chat: one conversation
    assert said["I skipped today's run because it rained, again."] not in (client_a, "webui")  # another's
    assert said[DIALOGUE] == client_a


class WordTokenizer:
    """A tokenizer with one token for each of a few words (as " you" is in most vocabularies)."""

    def encode(self, text, add_bos_token=True, **kwargs):
        words = {"you": 11, " you": 12, "You": 13, " You": 14, " your": 15, "your": 16}
        return [words[text]] if text in words else [1000 + ord(c) for c in text]


class RecordsStates(ScriptedModel):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.states: list[dict] = []

    def generate_with_streaming(self, prompt, state):
        self.states.append(dict(state))
        yield from super().generate_with_streaming(prompt, state)


def test_the_thoughts_ban_second_person_tokens_through_the_hosts_token_bans(tmp_path, embedder):
    from modules import shared

    model = RecordsStates(WRITER)
    joi = load(tmp_path, model=model)
    shared.tokenizer = WordTokenizer()
    try:
        state = joi_state(custom_token_bans="7", temperature=0.55, seed=42, max_new_tokens=123, min_p=0.07)
        state["grammar_string"] = 'root ::= "yes" | "no"'  # the person's grammar is for their own prompts
        Conversation(state).send("I ran 3k today.")
        empathetic, therapist, spoken = model.states
        for thought in (empathetic, therapist):
            bans = {int(t) for t in thought["custom_token_bans"].split(",")}
            assert bans == {7, 11, 12, 13, 14, 15, 16}  # the person's own ban kept, Joi's added
        assert spoken["custom_token_bans"] == "7"  # the spoken line may say "you"
        assert all(s["min_p"] == 0.07 and s["temperature"] == 0.55 for s in model.states)  # the host's
        assert (
            spoken["max_new_tokens"] == 123 and empathetic["max_new_tokens"] < 123
        )  # a thought's own budget
        assert all(s["seed"] == 42 for s in model.states)
        assert all(s["grammar_string"] == "" for s in model.states)  # (the loader reads the key: it is there)
    finally:
        shared.tokenizer = None
        joi.close()
        unload()
