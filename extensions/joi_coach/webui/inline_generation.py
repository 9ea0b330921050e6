"""Joi's reply steps on the webui's own model, inside the host's ``custom_generate_reply``.

The host calls ``custom_generate_reply`` from its ``generate_reply``, which already holds the
host's generation lock (not reentrant) or runs the request in parallel, and counts it in
``models.active_generation_count``, so background work waits. Each step therefore goes to
the *inner* generation function the host would have used (``generate_reply_custom``,
``generate_reply_HF`` or the next extension's ``custom_generate_reply``), never to
``generate_reply`` again. Those inner functions take no stop strings (the host cuts them in
its outer loop), so each step's are applied here, and the step is ended there.

How a step stops:

* at one of its stop strings: its own ``stop_event`` is set (the loaders check it after every
  token) and its generator is closed;
* when the person presses Stop (``shared.stop_everything``) or the API client goes away (the
  request's ``stop_event``): the :class:`HostStop` token reads both, so the step in flight
  ends at its next token and no later step starts.

The steps use the person's own sampling settings of the host (min-p, DRY, …): only the
token budget, the seed of a retry and the temperature of a retry are Joi's. Words the
thoughts must not use are banned through the host's ``custom_token_bans`` where its tokenizer
can spell them as single tokens.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

from ..llm.base import CancelToken, ChatMessage, GenerationParams, LLMError
from ..llm.stops import StopCutter
from .host_generation import host_prompt

log = logging.getLogger(__name__)
# Keys of the chat state a step never carries: the host's history, Joi's turn, a grammar or
# tools meant for the person's request, the request's own stop event (a step has its own).
_STEP_DROPPED = ("history", "stop_event", "grammar_string", "tools", "logits_processor", "image_attachments")
GenerateFunction = Callable[..., Iterator[str]]


class HostStop(CancelToken):
    """Cancelled when the person stops the generation: the host's global Stop or the
    request's own ``stop_event`` (an API client that went away)."""

    def __init__(self, stop_event: threading.Event | None) -> None:
        super().__init__()
        self._request = stop_event

    @property
    def cancelled(self) -> bool:
        from modules import shared

        if self._event.is_set():
            return True
        if shared.stop_everything or (self._request is not None and self._request.is_set()):
            self._event.set()
            return True
        return False


def params_from_state(state: dict[str, Any], max_tokens: int) -> GenerationParams:
    """The reply's sampling settings as the person set them in the host."""

    def number(key: str, default: float) -> float:
        value = state.get(key, default)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default

    seed = state.get("seed", -1)
    return GenerationParams(
        max_tokens=max(1, int(number("max_new_tokens", max_tokens))),
        temperature=min(5.0, max(0.0, number("temperature", 0.7))),
        top_p=min(1.0, max(1e-6, number("top_p", 0.9))),
        repeat_penalty=min(5.0, max(1e-6, number("repetition_penalty", 1.0))),
        seed=None if not isinstance(seed, int) or seed < 0 else seed,
    )


def banned_token_ids(words: Sequence[str]) -> list[int]:
    """The host tokenizer's single-token spellings of ``words`` (any case, with or without a
    leading space); [] where the host cannot encode."""
    if not words:
        return []
    from modules import text_generation

    banned: set[int] = set()
    for word in words:
        for form in {word, word.capitalize(), word.lower()}:
            for spaced in (form, f" {form}"):
                try:
                    ids = text_generation.encode(spaced, add_special_tokens=False, add_bos_token=False)
                    flat = [int(i) for i in list(ids[0])]
                except Exception:
                    return []
                if len(flat) == 1:
                    banned.add(flat[0])
    return sorted(banned)


class InlineHostGeneration:
    """An :class:`~joi_coach.llm.base.LLMBackend` over one chat request's host generation."""

    name = "text-generation-webui (the reply's own generation)"
    supports_prefix = True

    def __init__(self, state: dict[str, Any], generate: GenerateFunction) -> None:
        if not state.get("instruction_template_str"):
            raise LLMError("the chat state has no instruction template, so Joi cannot build its prompt")
        self._state = {k: v for k, v in state.items() if k not in _STEP_DROPPED}
        self._state = {k: v for k, v in self._state.items() if not k.startswith("joi_coach")}
        self._generate = generate
        self._bans: dict[tuple[str, ...], str] = {}

    def prompt(self, messages: Sequence[ChatMessage], prefix: str = "") -> str:
        """The step's prompt, rendered with the host's instruction template as the host does."""
        return host_prompt(self._state["instruction_template_str"], messages, prefix)

    def _step_state(self, params: GenerationParams, stop_event: threading.Event) -> dict[str, Any]:
        state = copy.deepcopy(self._state)
        state.update(
            {
                "max_new_tokens": params.max_tokens,
                "auto_max_new_tokens": False,
                "temperature": params.temperature,
                "stream": True,
                "max_tokens_second": 0,
                "custom_stopping_strings": "",
                "enable_thinking": False,
                "grammar_string": "",  # never the request's grammar; the loaders read this key
                "stop_event": stop_event,
            }
        )
        if params.seed is not None:
            state["seed"] = params.seed
        if params.avoid_words:
            bans = self._bans.get(params.avoid_words)
            if bans is None:
                bans = self._bans[params.avoid_words] = ",".join(
                    map(str, banned_token_ids(params.avoid_words))
                )
            if bans:
                existing = str(state.get("custom_token_bans") or "").strip()
                state["custom_token_bans"] = f"{existing},{bans}" if existing else bans
        return state

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        if cancel is not None and cancel.cancelled:
            return
        prompt = self.prompt(messages, assistant_prefix)
        step_event = threading.Event()
        state = self._step_state(params, step_event)
        cutter = StopCutter(params.stop)
        replies = self._generate(prompt, prompt, state, None, is_chat=True)
        sent = ""
        try:
            for reply in replies:
                if cancel is not None and cancel.cancelled:
                    step_event.set()
                    return
                if not isinstance(reply, str) or not reply.startswith(sent) or len(reply) == len(sent):
                    continue
                delta, sent = reply[len(sent) :], reply
                shown = cutter.feed(delta)
                if shown:
                    yield shown
                if cutter.stopped:
                    step_event.set()
                    return
            rest = cutter.finish()
            if rest:
                yield rest
        except Exception as exc:  # the host raises whatever its loader raises
            raise LLMError(f"the webui's generation failed: {type(exc).__name__}") from exc
        finally:
            close = getattr(replies, "close", None)
            if close is not None:
                close()
