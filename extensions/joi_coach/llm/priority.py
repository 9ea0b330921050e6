"""Foreground-first access to one LLM: a person's reply never waits for background work.

Background jobs (importance, reflection) run only while no reply is generating or
waiting. When a reply arrives, the background generation in flight is cancelled at its
next token and raises :class:`Preempted`, so its job can be retried later.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .base import Cancelled, CancelToken, ChatMessage, GenerationParams, LLMBackend


class Preempted(Cancelled):
    """A background generation gave way to a reply."""


class PriorityLLM:
    """Wraps a backend; ``stream_chat`` is foreground, ``stream_background`` yields to it."""

    def __init__(self, backend: LLMBackend) -> None:
        self.backend = backend
        self.name = backend.name
        self.supports_prefix = backend.supports_prefix
        self._turn = threading.Condition()
        self._busy = False
        self._foreground_waiting = 0
        self._background_token: CancelToken | None = None
        self._holder = threading.local()

    def _acquire(self, foreground: bool) -> CancelToken | None:
        with self._turn:
            if foreground:
                self._foreground_waiting += 1
                if self._background_token is not None:
                    self._background_token.cancel()
                try:
                    while self._busy:
                        self._turn.wait()
                finally:
                    self._foreground_waiting -= 1
                self._busy = True
                return None
            while self._busy or self._foreground_waiting:
                self._turn.wait()
            self._busy = True
            self._background_token = CancelToken()
            return self._background_token

    def _release(self) -> None:
        with self._turn:
            self._busy = False
            self._background_token = None
            self._turn.notify_all()

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Hold the model for several foreground calls in a row (one reply in steps)."""
        if getattr(self._holder, "held", False):
            yield
            return
        self._acquire(foreground=True)
        self._holder.held = True
        try:
            yield
        finally:
            self._holder.held = False
            self._release()

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]:
        with self.foreground():
            yield from self.backend.stream_chat(messages, params, cancel, assistant_prefix)

    def complete_background(self, messages: Sequence[ChatMessage], params: GenerationParams) -> str:
        """A whole completion at background priority; raises Preempted if a reply came."""
        token = self._acquire(foreground=False)
        try:
            parts = []
            for delta in self.backend.stream_chat(messages, params, token):
                parts.append(delta)
            if token is not None and token.cancelled:
                raise Preempted("background generation gave way to a reply")
            return "".join(parts)
        finally:
            self._release()
