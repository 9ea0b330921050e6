"""The host's less travelled paths, through the stand-in host, with scripted model output.

Where the exact text matters and the model's quality does not (locks, stops, the API's
reasoning split, Continue, restarts), the loader writes a scripted reply; the extension,
its memories and the embedding model are real. Each test failed on Joi before the webui
hardening (issue 11): a background stop raised through the host's global flag, other extensions'
hooks on Joi's prompts, Notebook generations taken for chats, a second engine on restart,
a model reloaded or held by background work, voices in the API's ``content``.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace

import pytest
from joi_coach.llm.base import GenerationParams
from joi_coach.llm.priority import Preempted
from joi_coach.memory.models import Stream

from .conftest import (
    REPO,
    Conversation,
    LlamaServer,
    ScriptedModel,
    StepWriter,
    chat_state,
    steps_text,
    wait_for,
)

TTS_LIKE = """
params = {"display_name": "TTS-like"}

def state_modifier(state):
    state["stream"] = False  # as silero_tts and coqui_tts do when active
    return state

def output_modifier(string, state, is_chat=False):
    return '<audio src="file/outputs/1.wav" controls></audio>'
"""

EMPATHETIC = "Sam is proud of the run."
THERAPEUTIC = "What would help Sam most now is a question about what helped."
THOUGHTS = f"\nEmpathetic voice: {EMPATHETIC}\nTherapist voice: {THERAPEUTIC}\n"
DIALOGUE = "That is a real step, Sam. What helped you get out of the door this time?"
LATER = "And I want to run again on Thursday."
LATER_DIALOGUE = "Thursday sounds good, Sam. Which time of day suits you best?"
REPLY = f"{THOUGHTS}</think>\n\n{DIALOGUE}"  # written in one pass (Continue, reply_steps off)
STEPS = steps_text(EMPATHETIC, THERAPEUTIC, DIALOGUE)  # made in Joi's steps, as the host keeps it
BACKGROUND = "Rate each memory from 1 to 10. " * 10
# Each step of Joi's reply gets its part; Joi's own prompts a long list of ratings.
scripted = StepWriter(EMPATHETIC, THERAPEUTIC, {"I ran 3k today.": DIALOGUE, LATER: LATER_DIALOGUE}, REPLY)


def one_pass(joi) -> None:
    """The host's one pass over its prompt (``joi_coach-reply_steps`` off)."""
    joi.turns.options = replace(joi.turns.options, reply_steps=False)


@pytest.fixture()
def host(tmp_path, embedder):
    """joi_coach (defaults) then a TTS-like extension, on a scripted loader; no background worker."""
    from modules import extensions, models, shared

    (tmp_path / "extensions").mkdir()
    (tmp_path / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    (tmp_path / "extensions" / "tts").mkdir()
    (tmp_path / "extensions" / "tts" / "script.py").write_text(TTS_LIKE, encoding="utf-8")
    shared.user_data_dir = tmp_path
    shared.args.extensions = ["joi_coach", "tts"]
    shared.args.parallel, shared.args.idle_timeout = 1, 0
    shared.settings = {"joi_coach-background": False}
    shared.model, shared.model_name, shared.stop_everything = ScriptedModel(scripted), "scripted", False
    models.reloads = 0
    extensions.setup_called.clear()
    extensions.load_extensions()
    joi = sys.modules["user_ext_joi_coach"].joi
    joi.coach.llm.idle_before_background = 0.0
    yield joi
    joi.close()
    shared.model, shared.model_name = None, "None"
    shared.args.parallel, shared.args.idle_timeout = 1, 0


def joi_chat_state(**changes) -> dict:
    state = chat_state("Joi", "Sam", "chat")
    state.update(changes)
    return state


def run_background(joi, outcome: dict, max_tokens: int = 400) -> threading.Thread:
    def job() -> None:
        try:
            outcome["text"] = joi.coach.llm.complete_background(
                [{"role": "user", "content": BACKGROUND}], GenerationParams(max_tokens=max_tokens)
            )
        except Preempted as exc:
            outcome["preempted"] = exc
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=job)
    thread.start()
    return thread


def test_background_prompts_skip_other_extensions_hooks_and_stream(host):
    Conversation(joi_chat_state()).send("I ran 3k today.")  # the host's settings, from a chat
    chunks = list(
        host.generation.stream_chat(
            [{"role": "user", "content": BACKGROUND}], GenerationParams(max_tokens=20)
        )
    )
    text = "".join(chunks)
    assert text.startswith("7, 7,") and "<audio" not in text
    assert len(chunks) > 5  # token by token, so that a reply can stop it


def test_a_notebook_generation_with_joi_selected_is_not_a_chat_turn(host):
    from modules import text_generation

    state = joi_chat_state(mode="chat", custom_stopping_strings="")
    *_, reply = text_generation.generate_reply("Once upon a time", state, is_chat=False)
    assert host.turns.last_chat_state() is None  # the settings for Joi's own prompts untouched
    assert state["custom_stopping_strings"] == ""  # no "\nSam:" stop added
    assert host.turns.known_profiles() == []  # nobody's memories touched
    assert reply.startswith("<audio")  # the other extension still worked


def test_a_background_stop_never_cuts_the_persons_reply_on_a_parallel_loader(host):
    from modules import shared
    from modules.api.completions import chat_completion

    shared.model = LlamaServer(scripted, delay=0.01, prefill=1.5)  # llama.cpp, --parallel 2
    shared.args.parallel = 2
    conversation = Conversation(joi_chat_state())
    conversation.send("I ran 3k today.")
    outcome: dict = {}
    worker = run_background(host, outcome)
    assert wait_for(lambda: len(shared.model.prompts) >= 2, timeout=10, step=0.01)  # it is reading
    # The API gives the person's request its own stop_event: it skips the lock too.
    _, history = chat_completion(LATER, conversation.state, stream=True)
    worker.join(timeout=30)
    assert "preempted" in outcome  # the background prompt stopped while it was read...
    assert history["internal"][-1][1].endswith(LATER_DIALOGUE)  # ...and the reply ran to its end
    assert shared.stop_everything is False


def test_background_work_waits_while_no_model_is_loaded_and_never_loads_one(host):
    from modules import models, shared

    Conversation(joi_chat_state()).send("I ran 3k today.")
    shared.args.idle_timeout = 10
    models.unload_model(keep_model_name=True)  # unloaded for idleness, as the host does
    outcome: dict = {}
    worker = run_background(host, outcome, max_tokens=5)
    time.sleep(1.5)
    assert worker.is_alive() and "text" not in outcome and models.reloads == 0
    shared.model = ScriptedModel(scripted)  # the person loads a model
    worker.join(timeout=10)
    assert outcome["text"].startswith("7,") and models.reloads == 0


def test_a_model_unloaded_during_a_background_prompt_stops_it_and_frees_the_lock(host):
    from modules import models, shared

    Conversation(joi_chat_state()).send("I ran 3k today.")
    shared.model = ScriptedModel(scripted, delay=0.05)  # 300 tokens: about 15 s
    outcome: dict = {}
    worker = run_background(host, outcome)
    assert wait_for(lambda: models.active_generation_count > 0, timeout=10, step=0.01)
    time.sleep(0.3)
    unloaded = time.monotonic()
    models.unload_model()  # the host does not take the lock for this
    worker.join(timeout=30)
    assert isinstance(outcome.get("preempted"), Preempted)
    assert outcome["ended"] - unloaded < 2.0
    assert not shared.generation_lock.locked()


def test_restarting_the_extensions_reuses_the_one_engine(host):
    from modules import extensions

    extensions.load_extensions()  # "Apply flags/extensions and restart": script.py loaded anew
    again = sys.modules["user_ext_joi_coach"].joi
    assert again is not host and again.coach is host.coach and again.turns is host.turns


@pytest.mark.parametrize("stream", [True, False])
def test_the_api_sends_the_voices_as_reasoning_and_only_the_dialogue_as_content(host, stream):
    from modules.api.completions import chat_completion

    answer, _ = chat_completion("I ran 3k today.", joi_chat_state(), stream=stream)
    if stream:
        reasoning = "".join(c["reasoning_content"] or "" for c in answer)
        content = "".join(c["content"] or "" for c in answer)
        assert not any("voice:" in (c["content"] or "") for c in answer)
    else:
        reasoning, content = answer.get("reasoning_content", ""), answer["content"]
    assert reasoning.strip() == THOUGHTS.strip() and content == DIALOGUE
    bank = host.coach.bank("Sam & Joi")
    assert [m.text for m in bank.memories(Stream.EMPATHETIC)] == [EMPATHETIC]
    assert [m.text for m in bank.memories(Stream.DIALOGUE) if m.speaker == "Joi"] == [DIALOGUE]


def test_past_thoughts_stay_out_of_later_prompts(host):
    from modules import shared

    conversation = Conversation(joi_chat_state())
    conversation.send("I ran 3k today.")
    conversation.send(LATER)
    [later] = [p for p in shared.model.prompts if p.endswith("Sam is") and LATER in p]  # its first step
    assert f"<|im_start|>assistant\n{DIALOGUE}<|im_end|>" in later  # the earlier reply, as the dialogue alone
    assert f"{THERAPEUTIC}\n</think>" not in later


def test_past_thoughts_stay_out_of_later_prompts_of_one_pass(host):
    from modules import shared

    one_pass(host)
    conversation = Conversation(joi_chat_state())
    conversation.send("I ran 3k today.")
    conversation.send(LATER)
    later = shared.model.prompts[-1]
    assert f"Joi: {DIALOGUE}" in later  # the earlier reply, as the dialogue alone
    assert f"</think>\n\n{DIALOGUE}" not in later and f"Therapist voice: {THERAPEUTIC}" not in later


def test_continue_completes_the_reply_and_files_each_part_under_its_stream(host):
    from modules import shared

    one_pass(host)
    cut = (len(THOUGHTS) + len("</think>\n\n") + 20) // 4 * 4  # the first try stops inside the dialogue
    said = DIALOGUE[: cut - len(THOUGHTS) - len("</think>\n\n")]
    shared.model = ScriptedModel(lambda prompt: REPLY[cut:] if prompt.endswith(said) else REPLY)
    conversation = Conversation(joi_chat_state(max_new_tokens=cut // 4))
    first = conversation.send("I ran 3k today.")
    assert first["internal"][-1][1] == "<think>" + REPLY[:cut]
    conversation.state["max_new_tokens"] = 500
    history = conversation.send("", _continue=True)
    assert history["internal"][-1][1] == "<think>" + REPLY
    bank = host.coach.bank("Sam & Joi")
    assert [m.text for m in bank.memories(Stream.DIALOGUE) if m.speaker == "Joi"] == [DIALOGUE]
    assert [m.text for m in bank.memories(Stream.EMPATHETIC)] == [EMPATHETIC]
    assert [m.text for m in bank.memories(Stream.THERAPEUTIC)] == [THERAPEUTIC]
    assert [m.text for m in bank.memories(Stream.DIALOGUE) if m.speaker == "Sam"] == ["I ran 3k today."]


def test_background_work_waits_for_the_hosts_generation_and_a_quiet_moment_after_it(host):
    from modules import models, shared

    Conversation(joi_chat_state()).send("I ran 3k today.")
    host.coach.llm.idle_before_background = 1.0
    time.sleep(1.2)  # quiet since the chat turn
    with models._generation_count_lock:
        models.active_generation_count += 1  # the host is generating (another person's reply)
    outcome: dict = {}
    prompts_before = len(shared.model.prompts)
    worker = run_background(host, outcome, max_tokens=5)
    time.sleep(1.5)
    assert len(shared.model.prompts) == prompts_before  # not while the host generates
    with models._generation_count_lock:
        models.active_generation_count -= 1
    ended = time.monotonic()
    time.sleep(0.5)
    assert len(shared.model.prompts) == prompts_before  # nor right after: its reply is still handled
    worker.join(timeout=10)
    assert outcome["text"].startswith("7,") and outcome["ended"] - ended >= 0.85  # 1 s, less a poll


def test_continue_through_the_api_keeps_the_thoughts_of_the_reply_it_continues(host):
    from modules import shared
    from modules.api.completions import chat_completion

    one_pass(host)
    cut = (len(THOUGHTS) + len("</think>\n\n") + 20) // 4 * 4
    said = DIALOGUE[: cut - len(THOUGHTS) - len("</think>\n\n")]
    shared.model = ScriptedModel(lambda prompt: REPLY[cut:] if prompt.endswith(said) else REPLY)
    first, _ = chat_completion("I ran 3k today.", joi_chat_state(max_new_tokens=cut // 4))
    assert first["content"] == said
    # An API client sends back what it got as content; the webui rebuilds the history from it.
    state = joi_chat_state()
    state["history"] = {
        "internal": [["I ran 3k today.", said]],
        "visible": [["I ran 3k today.", said]],
        "metadata": {},
    }
    continued, _ = chat_completion("", state, continue_=True)
    assert continued["content"] == DIALOGUE
    bank = host.coach.bank("Sam & Joi")
    assert [m.text for m in bank.memories(Stream.DIALOGUE) if m.speaker == "Joi"] == [DIALOGUE]
    assert [m.text for m in bank.memories(Stream.EMPATHETIC)] == [EMPATHETIC]
    assert [m.text for m in bank.memories(Stream.THERAPEUTIC)] == [THERAPEUTIC]
