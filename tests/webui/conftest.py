"""The joi_coach extension loaded into a stand-in of text-generation-webui's ``modules``.

The stand-in (``host_standin/modules``) mirrors the host's hook sequence and signatures; the
model behind ``shared.model`` is the real embedded LLM and the memories are real SQLite and
FAISS files. The real host is exercised by hand (docs/webui-e2e.md).
"""

from __future__ import annotations

import copy
import re
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent / "host_standin"))

SPY_SCRIPT = """
params = {"display_name": "Spy"}
seen = []

def state_modifier(state):
    seen.append(("state", state.get("joi_coach_internal", False)))
    return state

def input_modifier(string, state, is_chat=False):
    seen.append(("input", is_chat))
    return string

def output_modifier(string, state, is_chat=False):
    seen.append(("output", is_chat))
    return string + " [spy]" if is_chat else string
"""


def stop_requested(state) -> bool:
    """What the host's llama.cpp and ExLlamaV3 loaders check after every token."""
    from modules import shared

    stop_event = state.get("stop_event")
    return shared.stop_everything or bool(stop_event and stop_event.is_set())


class StandInModel:
    """``shared.model`` as the host's loaders present it: cumulative text while streaming, the
    request's ``custom_token_bans`` never written (as its llama.cpp loader's logit bias does)."""

    def __init__(self, llama) -> None:
        self.llama = llama

    def generate_with_streaming(self, prompt, state):
        state["grammar_string"]  # (read unconditionally by the host's llama.cpp loader)
        banned = [int(t) for t in str(state.get("custom_token_bans") or "").split(",") if t.strip()]
        text = ""
        for chunk in self.llama.create_completion(
            prompt,
            max_tokens=state["max_new_tokens"],
            temperature=state["temperature"],
            top_p=state["top_p"],
            repeat_penalty=state["repetition_penalty"],
            seed=None if state["seed"] == -1 else state["seed"],
            logit_bias=dict.fromkeys(banned, -100.0) or None,
            stream=True,
        ):
            if stop_requested(state):
                break
            text += chunk["choices"][0]["text"]
            yield text

    def generate(self, prompt, state):
        texts = list(self.generate_with_streaming(prompt, state))
        return texts[-1] if texts else ""


class StandInTokenizer:
    """``shared.tokenizer`` of the host's llama.cpp loader: ``encode(text, add_bos_token)``."""

    def __init__(self, llama) -> None:
        self.llama = llama

    def encode(self, text, add_bos_token=True, **kwargs):
        return self.llama.tokenize(str(text).encode("utf-8"), add_bos=add_bos_token, special=True)


class ScriptedModel:
    """A loader that writes given text, a few characters per token, ``delay`` s per token.

    For the host's plumbing (locks, stops, reasoning split, Continue), where the exact text
    matters and the model's quality does not. ``reply_for(prompt)`` gives the text to write;
    ``prefill`` seconds pass before the first token, checking for a stop as the host's
    llama.cpp and ExLlamaV3 loaders do while they read a prompt.
    """

    def __init__(self, reply_for, delay: float = 0.0, prefill: float = 0.0, token_chars: int = 4) -> None:
        self.reply_for = reply_for if callable(reply_for) else (lambda prompt: reply_for)
        self.delay, self.prefill, self.token_chars = delay, prefill, token_chars
        self.prompts: list[str] = []

    def generate_with_streaming(self, prompt, state):
        state["grammar_string"]  # (read unconditionally by the host's llama.cpp loader)
        self.prompts.append(prompt)
        reply = self.reply_for(prompt)
        ready_at = time.monotonic() + self.prefill
        while time.monotonic() < ready_at:
            if stop_requested(state):
                return
            time.sleep(0.01)
        limit = state.get("max_new_tokens", 10_000) * self.token_chars
        for start in range(0, min(len(reply), limit), self.token_chars):
            if stop_requested(state):
                break
            time.sleep(self.delay)
            yield reply[: min(start + self.token_chars, limit)]

    def generate(self, prompt, state):
        """Not streamed (the host streams whenever there are stopping strings)."""
        texts = list(self.generate_with_streaming(prompt, state))
        return texts[-1] if texts else ""


class LlamaServer(ScriptedModel):
    """Named as the host's llama.cpp loader, whose generations skip the lock with --parallel > 1."""


def read_yaml(folder: str, name: str) -> dict:
    return yaml.safe_load((REPO / folder / f"{name}.yaml").read_text(encoding="utf-8"))


def chat_state(character: str = "Joi", name1: str = "Sam", mode: str = "chat") -> dict:
    """A generation state like the one the host's API builds for /v1/chat/completions."""
    from modules import chat

    data = read_yaml("characters", character) if (REPO / "characters" / f"{character}.yaml").exists() else {}
    context = str(data.get("context", "The following is a conversation with an AI assistant."))
    return {
        "mode": mode,
        "name1": name1,
        "name2": str(data.get("name", character)),
        "context": context.replace("{{user}}", name1).replace("{{char}}", str(data.get("name", character))),
        "greeting": "",
        "user_bio": "",
        "instruction_template_str": read_yaml("instruction-templates", "Joi-ChatML")["instruction_template"],
        "custom_system_message": "",
        "chat_template_str": chat.CHAT_TEMPLATE,
        "chat-instruct_command": 'Continue the chat dialogue below. Write a single reply for "<|character|>".\n\n<|prompt|>',
        "history": {"internal": [], "visible": [], "metadata": {}},
        "stream": True,
        "max_new_tokens": 160,
        "auto_max_new_tokens": False,
        "temperature": 0.3,
        "top_p": 0.9,
        "repetition_penalty": 1.1,
        "seed": 11,
        "custom_stopping_strings": "",
        "grammar_string": "",
        "max_tokens_second": 0,
        "ban_eos_token": False,
        "enable_thinking": True,
        "truncation_length": 4096,
    }


class Conversation:
    """One chat through the stand-in host: the caller keeps the history, as the API's client does."""

    def __init__(self, state: dict) -> None:
        self.state = state

    def send(self, text: str, **flags) -> dict:
        from modules import chat

        state = copy.deepcopy(self.state)
        *_, final = chat.generate_chat_reply(text, state, **flags)
        self.state["history"] = final
        return final


@pytest.fixture(scope="module")
def host(tmp_path_factory, embedded_llm):
    """The stand-in host with joi_coach (and a spy extension after it) loaded and set up."""
    from modules import extensions, shared, text_generation

    user_data = tmp_path_factory.mktemp("user_data")
    (user_data / "extensions").mkdir()
    (user_data / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    (user_data / "extensions" / "spy").mkdir()
    (user_data / "extensions" / "spy" / "script.py").write_text(SPY_SCRIPT, encoding="utf-8")
    shared.user_data_dir = user_data
    shared.args.extensions = ["joi_coach", "spy"]
    shared.settings = {"joi_coach-reply_prefix": "first voice"}
    shared.model, shared.model_name = StandInModel(embedded_llm._llama), "embedded"
    shared.tokenizer = StandInTokenizer(embedded_llm._llama)
    extensions.setup_called.clear()
    extensions.load_extensions()
    text_generation.calls.clear()
    joi = extensions.state["joi_coach"][2].joi
    joi.coach.llm.idle_before_background = 0.5
    yield joi
    joi.close()
    shared.model, shared.model_name, shared.tokenizer = None, "None", None


def wait_for(condition, timeout: float = 600.0, step: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


class StepWriter:
    """What a model writes for each of Joi's reply steps, told apart by the prompt's end: the
    empathetic thought, the therapist's, the spoken line (by the last message it answers), a
    background prompt; any other prompt (a one-pass reply, or Continue) gets ``one_pass``.

    ``empathetic`` and ``therapeutic`` are the whole thoughts, starting with the words Joi
    forces ("Sam is", "What would help Sam most now is"); the model writes the rest.
    """

    def __init__(
        self,
        empathetic: str,
        therapeutic: str,
        dialogues: dict[str, str],
        one_pass: str = "",
        background: str = "7, " * 300,
    ) -> None:
        self.empathetic, self.therapeutic = empathetic, therapeutic
        self.dialogues, self.one_pass, self.background = dialogues, one_pass, background

    def __call__(self, prompt: str) -> str:
        if "Rate each memory" in prompt:
            return self.background
        for thought in (self.empathetic, self.therapeutic):
            forced = thought.split(" is ", 1)[0] + " is"
            if prompt.endswith(forced):
                return thought[len(forced) :] + "\nTherapist voice: (the model runs on)\n"
        if re.search(r"Now reply (to \w+ )?as Joi", prompt[-2000:]):
            answered = max(self.dialogues, key=lambda message: prompt.rfind(message))
            return self.dialogues[answered]
        return self.one_pass


def steps_text(empathetic: str, therapeutic: str, dialogue: str) -> str:
    """A reply made in steps, as the host keeps it after its re-added ``<think>``."""
    return f"\nEmpathetic voice: {empathetic}\nTherapist voice: {therapeutic}\n</think>\n{dialogue}"
