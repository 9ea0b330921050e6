"""The embedded CPU backend: llama-cpp-python running a local GGUF file.

Messages are rendered with Joi's instruction template (the webui's Jinja format), so the
prompt is exactly what the host would build for the same model.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any, cast

from .base import CancelToken, ChatMessage, GenerationParams, LLMError
from .chat_template import InstructionTemplate
from .model_assembly import ensure_default_model

log = logging.getLogger(__name__)
TEMPLATE_STOPS = ("<|im_end|>", "<|im_start|>", "<|endoftext|>")
PREFILL_CHUNK = 32  # prompt tokens read between checks for a waiting reply (background only)
# Saved prompt states (see prompt_states.py): a state is about 28 KB per token of context for
# the default model, so this holds the last reply's and a few background prompts' states.
PROMPT_CACHE_BYTES = 384 << 20
PROMPT_CACHE_STATES = 6


class EmbeddedLLM:
    """A llama.cpp model in this process. One generation at a time (internal lock).

    ``prompt_cache_bytes`` and ``prompt_cache_states`` bound the saved prompt states (all
    their bytes; 0 turns them off, which makes every reply after a background prompt re-read
    the persona and dialogue, and a preempted background prompt start over).
    """

    supports_prefix = True

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        template: InstructionTemplate | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
        prompt_cache_bytes: int = PROMPT_CACHE_BYTES,
        prompt_cache_states: int = PROMPT_CACHE_STATES,
    ) -> None:
        try:
            from .prompt_states import LeanLlama, PromptStateCache
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise LLMError("llama-cpp-python is not installed: pip install -e '.[embedded]'") from exc
        path = Path(model_path) if model_path else ensure_default_model()
        if not path.is_file():
            raise LLMError(f"model file not found: {path}")
        self.name = path.name
        self.template = template or InstructionTemplate.load()
        self.n_ctx = n_ctx
        self._lock = threading.Lock()
        # Of the last background call: (prompt tokens read, prompt tokens), and how many of
        # them it found already read (in the KV cache or the saved prompt states).
        self.last_prefill: tuple[int, int] = (0, 0)
        self.prefill_resumed_at = 0
        self._lazy_key: tuple[int, ...] = ()  # the last state saved only when read over
        # The KV cache holds a draft read ahead or a reply's step, whose state is not saved yet.
        self._unsaved_state = False
        try:
            self._llama = LeanLlama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads or max(1, os.cpu_count() or 1),
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise LLMError(f"cannot load model {path}: {exc}") from exc
        if prompt_cache_bytes > 0 and prompt_cache_states > 0:
            # Keeps evaluated prompt states in RAM: the persona and recent dialogue are then
            # not re-read after a background prompt (importance, reflection) ran in between,
            # and a background prompt cut short by a reply resumes where it stopped.
            self._llama.set_cache(PromptStateCache(prompt_cache_bytes, prompt_cache_states))

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        prompt = self.template.render(messages, add_generation_prompt=True) + assistant_prefix
        with self._lock:
            tokens = self._prompt_tokens(prompt)
            if len(tokens) + params.max_tokens > self.n_ctx:
                raise LLMError(
                    f"prompt of {len(tokens)} tokens plus {params.max_tokens} to generate exceeds the "
                    f"context window of {self.n_ctx}"
                )
            self._save_before_reading_over(tokens)
            if (
                cancel is not None
                and getattr(cancel, "preemptible", False)
                and not self._prefill(tokens, cancel)
            ):
                return
            stream = cast(
                Generator[Any, None, None],
                self._llama.create_completion(
                    prompt,
                    max_tokens=params.max_tokens,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    repeat_penalty=params.repeat_penalty,
                    stop=list(dict.fromkeys((*params.stop, *TEMPLATE_STOPS))),
                    seed=params.seed,
                    logit_bias=self._bias_against(params.avoid_words),
                    stream=True,
                ),
            )
            foreground = not getattr(cancel, "preemptible", False)
            try:
                for chunk in stream:
                    if cancel is not None and cancel.cancelled:
                        return
                    choice = chunk["choices"][0]
                    text = choice.get("text", "")
                    if text:
                        yield text
                    if foreground and choice.get("finish_reason") is not None:
                        # llama-cpp-python would save the state now, while the person waits for
                        # the next step (about 50 ms): it is saved only if a prompt reads over it
                        break
            finally:
                stream.close()
                if foreground:
                    self._unsaved_state = self._llama.n_tokens > 0

    def warm(self, messages: Sequence[ChatMessage], cancel: CancelToken, assistant_prefix: str = "") -> bool:
        """Read a prompt without generating (all but its last token), keeping what was read in
        the KV cache and the saved prompt states, so a completion of the same prompt, or one
        that shares its beginning, reads only the rest. Stops at the next chunk of prompt once
        ``cancel`` is set; True when read whole."""
        prompt = self.template.render(messages, add_generation_prompt=True) + assistant_prefix
        with self._lock:
            tokens = self._prompt_tokens(prompt)
            if len(tokens) >= self.n_ctx:
                return False
            whole = self._prefill(tokens, cancel, save=False)
            self._unsaved_state = self._llama.n_tokens > 0
            return whole

    def _save_before_reading_over(self, tokens: list[int]) -> None:
        """Save the state in the KV cache (a draft read ahead, or a reply's last step) before a
        prompt that keeps less than half of it (``tokens``: background work, the crisis screen's
        question to the model) reads over it.

        Saved only then, not each time a warm stops or a step ends: the person's next word
        stops a warm about twice a second, and a state (about 40 MB) takes some 50 ms to save,
        time the next draft, or the reply's next step (which goes on from it), would wait for.
        A state saved so replaces the one saved so before only when it goes on from it (the
        reply from its draft), never one of something else (a draft, for the crisis screen's
        question asked before its reply).
        """
        from llama_cpp import Llama

        llama = self._llama
        if not self._unsaved_state or llama.cache is None:
            return
        self._unsaved_state = False
        key = tuple(llama.input_ids[: llama.n_tokens].tolist())
        if 2 * Llama.longest_token_prefix(key, tokens) >= len(key):
            return  # the reply to the draft's message, a reply's next step, or a prompt going on from it
        old = self._lazy_key
        if old and old != key and 2 * Llama.longest_token_prefix(old, key) >= len(old):
            cast(Any, llama.cache).discard(old)
        llama.cache[list(key)] = llama.save_state()
        self._lazy_key = key

    def _bias_against(self, avoid: tuple[str, ...]) -> dict[int, float] | None:
        """A logit bias that rules out the single tokens spelling these words (any case, with or without a space)."""
        if not avoid:
            return None
        banned: set[int] = set()
        for word in avoid:
            for form in {word, word.capitalize(), word.lower()}:
                for spaced in (form, f" {form}"):
                    tokens = self._llama.tokenize(spaced.encode("utf-8"), add_bos=False, special=False)
                    if len(tokens) == 1:
                        banned.add(tokens[0])
        return dict.fromkeys(sorted(banned), -100.0) or None

    def _prompt_tokens(self, prompt: str) -> list[int]:
        """The prompt's tokens as ``create_completion`` reads them (its BOS, special tokens)."""
        return self._llama.tokenize(prompt.encode("utf-8"), special=True)

    def _prefill(self, tokens: list[int], cancel: CancelToken, save: bool = True) -> bool:
        """Read a background prompt in small chunks, stopping as soon as a reply waits.

        llama.cpp cannot be interrupted inside one evaluation, and a long prompt is read in
        one go; chunking bounds how long a reply waits for background work to about one
        chunk. When stopped, the part read so far is kept in the prompt-state cache, so the
        retry after the reply resumes there instead of starting over (between messages there
        is often too little time to read a whole background prompt at once). The completion
        that follows starts where this stopped. Returns False when cancelled. ``save``: False for
        a warm, whose state is saved only when background work is about to read over it.
        """
        from llama_cpp import Llama

        from .prompt_states import usable_prefix

        llama = self._llama
        done = Llama.longest_token_prefix(llama._input_ids.tolist(), tokens)
        if llama.cache is not None:
            try:
                saved = llama.cache[tokens]
                saved_len = usable_prefix(saved, tokens)
                if saved_len > done:
                    llama.load_state(saved)
                    done = saved_len
            except KeyError:
                pass
        last = len(tokens) - 1  # the completion evaluates the final token itself
        # Never mark the whole prompt read: with every token "cached" and fresh-looking
        # logits from the last generation, llama.cpp would sample from those (an empty
        # answer to the same prompt asked twice).
        done = min(done, last)
        llama.n_tokens = done
        self.prefill_resumed_at = done
        while done < last:
            if cancel.cancelled:
                if save and llama.cache is not None and done > 0:
                    llama.cache[tokens[:done]] = llama.save_state()
                self.last_prefill = (done, len(tokens))
                return False
            chunk = tokens[done : min(done + PREFILL_CHUNK, last)]
            llama.eval(chunk)
            done += len(chunk)
        if save and llama.cache is not None and done > self.prefill_resumed_at:
            # Also keep the whole prompt read: if the answer is cut short by a reply, the
            # retry only has to generate.
            llama.cache[tokens[:done]] = llama.save_state()
        self.last_prefill = (done, len(tokens))
        return True
