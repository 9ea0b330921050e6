"""The one interface every LLM backend implements: stream a chat completion, cancellably."""

from __future__ import annotations

import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 400
    temperature: float = 0.7
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    # Words the model must not write, where the backend can bias tokens (the embedded model);
    # other backends ignore it.
    avoid_words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise ValueError("reply.max_tokens must be a whole number from 1")
        if not 0 <= self.temperature <= 5:
            raise ValueError("reply.temperature must be from 0 to 5")
        if not 0 < self.top_p <= 1:
            raise ValueError("reply.top_p must be in (0, 1]")
        if not 0 < self.repeat_penalty <= 5:
            raise ValueError("reply.repeat_penalty must be in (0, 5]")
        if not all(isinstance(s, str) and s for s in self.stop):
            raise ValueError("reply.stop must be a list of non-empty strings")


class LLMError(RuntimeError):
    """The backend failed to produce a completion (unreachable, bad model, bad reply)."""


class Cancelled(LLMError):
    """The generation was cancelled before it finished."""


class CancelToken:
    """Set from any thread to stop a generation at its next token."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> threading.Event:
        """The underlying event, for backends whose engine checks one itself (the webui's ``stop_event``)."""
        return self._event


class LLMBackend(Protocol):
    """Streams text deltas for a conversation.

    ``assistant_prefix`` (when ``supports_prefix``) is text the reply is forced to start
    with; it is not repeated in the stream. Implementations stop quietly when ``cancel`` is
    set and raise :class:`LLMError` on failure.
    """

    name: str
    supports_prefix: bool

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]: ...


def fold_system_messages(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """One leading system message: later system messages are appended to it.

    For servers whose chat templates refuse a system message after the first turn (many
    do); Joi's own template takes them where they are, which keeps prompt caching.
    """
    system = [m["content"] for m in messages if m["role"] == "system"]
    rest = [m for m in messages if m["role"] != "system"]
    folded: list[ChatMessage] = [{"role": "system", "content": "\n\n".join(system)}] if system else []
    return folded + rest


def complete_chat(
    backend: LLMBackend,
    messages: Sequence[ChatMessage],
    params: GenerationParams,
    cancel: CancelToken | None = None,
) -> str:
    """The whole completion as one string."""
    return "".join(backend.stream_chat(messages, params, cancel))
