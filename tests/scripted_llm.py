"""A backend that follows the ``LLMBackend`` protocol exactly, with scripted completions.

For fast tests of the coach's orchestration (the steps of a reply, retries, cancellation);
the real-model tests stay the acceptance layer. Each ``stream_chat`` call takes the next
scripted completion, cuts it at the first stop string (as llama.cpp and OpenAI servers do:
the stop string itself is not returned) and after ``max_tokens`` tokens (a word, with the
space before it, or a mark counts as one token here), and streams it in small chunks,
stopping quietly when cancelled. Every call is recorded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

from joi_coach.llm.base import CancelToken, ChatMessage, GenerationParams, LLMError

_TOKEN = re.compile(r"\s*[\w']+|\s*[^\w\s]|\s+")


@dataclass
class Call:
    messages: list[ChatMessage]
    params: GenerationParams
    assistant_prefix: str


@dataclass
class ScriptedLLM:
    completions: list[str]
    chunk_size: int = 3
    delay: float = 0.0  # seconds per chunk, like a model generating (for cancel and preemption)
    name: str = "scripted"
    supports_prefix: bool = True
    calls: list[Call] = field(default_factory=list)

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        self.calls.append(Call(list(messages), params, assistant_prefix))
        if not self.completions:
            raise LLMError("the script has no completion left")
        text = self.completions.pop(0)
        cut = min((i for i in (text.find(s) for s in params.stop if s) if i >= 0), default=len(text))
        text = text[:cut]
        tokens = _TOKEN.findall(text)
        if len(tokens) > params.max_tokens:
            text = "".join(tokens[: params.max_tokens])
        for start in range(0, len(text), self.chunk_size):
            if cancel is not None and cancel.cancelled:
                return
            if self.delay:
                time.sleep(self.delay)
            yield text[start : start + self.chunk_size]
