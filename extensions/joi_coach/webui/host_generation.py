"""Joi's background prompts (importance, reflection) on the model the webui has loaded.

An :class:`~joi_coach.llm.base.LLMBackend` over the host's own
``modules.text_generation.generate_reply``, which takes the host's generation lock, so a
background prompt and a person's reply never run on the model at the same time. Wrapped in
:class:`~joi_coach.llm.priority.PriorityLLM`, a background prompt waits for quiet and gives
way to the next reply: when cancelled it raises the host's ``shared.stop_everything``,
which the host checks after every token and resets when the next generation starts.

Host contract mirrored: text-generation-webui commit 1dcde41d (May 2026).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..llm.base import CancelToken, ChatMessage, GenerationParams, LLMError

INTERNAL_KEY = "joi_coach_internal"  # marks the state of Joi's own prompts: Joi's hooks skip them
_DROPPED_KEYS = ("history", "stop_event", "logits_processor", "image_attachments", "tools", "grammar_string")


def internal_state(chat_state: dict[str, Any], params: GenerationParams) -> dict[str, Any]:
    """A generation state for one of Joi's prompts, from a real chat state of the host."""
    state = {key: value for key, value in chat_state.items() if key not in _DROPPED_KEYS}
    state = {key: value for key, value in state.items() if not key.startswith("joi_coach")}
    state.update(
        {
            INTERNAL_KEY: True,
            "max_new_tokens": params.max_tokens,
            "auto_max_new_tokens": False,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "repetition_penalty": params.repeat_penalty,
            "seed": -1 if params.seed is None else params.seed,
            "stream": True,  # token by token, so a reply can preempt it
            "max_tokens_second": 0,
            "custom_stopping_strings": "",
            "ban_eos_token": False,
            "grammar_string": "",
            "enable_thinking": False,
        }
    )
    return state


class HostGeneration:
    """Runs chat messages through the host's instruction template and ``generate_reply``."""

    name = "text-generation-webui"
    supports_prefix = True

    def __init__(self, chat_state: Callable[[], dict[str, Any] | None]) -> None:
        self._chat_state = chat_state
        self.preemptions = 0
        self._lock = threading.Lock()

    def prompt(self, messages: Sequence[ChatMessage], state: dict[str, Any], prefix: str = "") -> str:
        """The prompt string, rendered with the host's instruction template as the host does."""
        from modules import chat, shared

        template = chat.get_compiled_template(state["instruction_template_str"])
        rendered = template.render(
            messages=list(messages),
            add_generation_prompt=True,
            enable_thinking=False,
            bos_token=shared.bos_token,
            eos_token=shared.eos_token,
        )
        return rendered + prefix

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]:
        from modules import shared
        from modules.text_generation import generate_reply

        chat_state = self._chat_state()
        if chat_state is None:
            raise LLMError("no chat has run yet, so the host's generation settings are unknown")
        state = internal_state(chat_state, params)
        prompt = self.prompt(messages, state, assistant_prefix)
        sent = ""
        stopping = False
        try:
            for reply in generate_reply(prompt, state, stopping_strings=list(params.stop), is_chat=False):
                if cancel is not None and cancel.cancelled and not stopping:
                    # A chunk arrived, so this thread holds the host's generation lock: the
                    # flag can only stop this generation, and the next one resets it.
                    shared.stop_everything = True
                    stopping = True
                    with self._lock:
                        self.preemptions += 1
                if stopping:
                    continue
                if reply.startswith(sent) and len(reply) > len(sent):
                    yield reply[len(sent) :]
                    sent = reply
        except Exception as exc:  # the host raises whatever its loader raises
            raise LLMError(f"the webui's generation failed: {type(exc).__name__}") from exc
