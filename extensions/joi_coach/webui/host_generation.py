"""Joi's background prompts (importance, reflection) on the model the webui has loaded.

An :class:`~joi_coach.llm.base.LLMBackend` over the host's own
``modules.text_generation.generate_reply``, wrapped in
:class:`~joi_coach.llm.priority.PriorityLLM` so that a background prompt waits for quiet and
gives way to the next reply. How it keeps out of the person's way:

* **Its own stop.** Each prompt carries its own ``stop_event`` (the cancel token's event),
  which the host's loaders check after every token and, for llama.cpp and ExLlamaV3, during
  prefill. The host's global ``shared.stop_everything`` is never touched: where the host
  skips its generation lock (ExLlamaV3, TensorRT-LLM, llama.cpp with ``--parallel`` > 1 and
  a ``stop_event``), that flag would also cut the person's reply short.
* **No other extension's hooks.** The prompt goes in as ``is_chat=True``, for which the host
  applies no ``state``/``input``/``output`` hooks (it would otherwise let a TTS extension
  turn Joi's importance rating into an audio tag, or a translator translate Joi's prompts).
  The host's lock rules, loader choice and ``custom_generate_reply`` still apply.
* **Only while a model is there.** :meth:`ready` is False while no model is loaded (also
  while one is loading: the host unloads first), while the model is unloaded for idleness
  (a background prompt must not load it again) and while any generation runs in the host;
  a generation in flight is stopped if the model changes under it.

Host contract mirrored: text-generation-webui commit 1dcde41d (May 2026).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any

from ..llm.base import CancelToken, ChatMessage, GenerationParams, LLMError
from ..llm.priority import Preempted

INTERNAL_KEY = "joi_coach_internal"  # marks the state of Joi's own prompts: Joi's hooks skip them
MODEL_WATCH_SECONDS = 0.25  # how often a background generation checks that its model is still there
_DROPPED_KEYS = ("history", "stop_event", "logits_processor", "image_attachments", "tools", "grammar_string")


class ModelUnavailable(Preempted):
    """No model is loaded, or it changed: the background job runs again later."""


def internal_state(
    chat_state: dict[str, Any], params: GenerationParams, stop_event: threading.Event | None = None
) -> dict[str, Any]:
    """A generation state for one of Joi's prompts, from a real chat state of the host."""
    if not chat_state.get("instruction_template_str"):
        raise LLMError("the last chat state has no instruction template, so Joi cannot build its prompts")
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
    if stop_event is not None:
        state["stop_event"] = stop_event
    return state


def host_prompt(template_source: str, messages: Sequence[ChatMessage], prefix: str = "") -> str:
    """``messages`` rendered with the host's instruction template as the host renders it (its
    compiled-template cache, its BOS and EOS, thinking off), then ``prefix``: the text the
    reply is forced to start with."""
    from modules import chat, shared

    template = chat.get_compiled_template(template_source)
    rendered = template.render(
        messages=list(messages),
        add_generation_prompt=True,
        enable_thinking=False,
        bos_token=shared.bos_token,
        eos_token=shared.eos_token,
    )
    return rendered + prefix


def host_model() -> Any:
    from modules import shared

    return shared.model


def host_is_generating() -> bool:
    """Whether the host is generating anything (``models.active_generation_count``)."""
    from modules import models

    return getattr(models, "active_generation_count", 0) > 0


class HostGeneration:
    """Runs chat messages through the host's instruction template and ``generate_reply``."""

    name = "text-generation-webui"
    supports_prefix = True

    def __init__(self, chat_state: Callable[[], dict[str, Any] | None]) -> None:
        self._chat_state = chat_state
        self.preemptions = 0
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """Whether a background prompt may start now (see the module docstring)."""
        return host_model() is not None and not host_is_generating()

    def prompt(self, messages: Sequence[ChatMessage], state: dict[str, Any], prefix: str = "") -> str:
        """The prompt string, rendered with the host's instruction template as the host does."""
        return host_prompt(state["instruction_template_str"], messages, prefix)

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        from modules.text_generation import generate_reply

        chat_state = self._chat_state()
        if chat_state is None:
            raise LLMError("no chat has run yet, so the host's generation settings are unknown")
        model = host_model()
        if model is None:
            raise ModelUnavailable("no model is loaded in the webui")
        cancel = cancel if cancel is not None else CancelToken()
        state = internal_state(chat_state, params, cancel.event)
        prompt = self.prompt(messages, state, assistant_prefix)
        watcher = _ModelWatcher(model, cancel)
        watcher.start()
        sent = ""
        try:
            for reply in generate_reply(prompt, state, stopping_strings=list(params.stop), is_chat=True):
                if cancel.cancelled:
                    break
                if reply.startswith(sent) and len(reply) > len(sent):
                    yield reply[len(sent) :]
                    sent = reply
        except Exception as exc:  # the host raises whatever its loader raises
            raise LLMError(f"the webui's generation failed: {type(exc).__name__}") from exc
        finally:
            watcher.stop()
        if watcher.model_changed:
            raise ModelUnavailable("the webui's model changed during a background prompt")
        if cancel.cancelled:
            with self._lock:
                self.preemptions += 1


class _ModelWatcher(threading.Thread):
    """Stops a background generation (through its cancel token) if the host's model changes."""

    def __init__(self, model: Any, cancel: CancelToken) -> None:
        super().__init__(name="joi-model-watch", daemon=True)
        self._model, self._cancel = model, cancel
        self._done = threading.Event()
        self.model_changed = False

    def run(self) -> None:
        while not self._done.wait(MODEL_WATCH_SECONDS):
            if host_model() is not self._model:
                self.model_changed = True
                self._cancel.cancel()
                return

    def stop(self) -> None:
        self._done.set()
        self.join()
