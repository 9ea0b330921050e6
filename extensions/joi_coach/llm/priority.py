"""Foreground-first access to one LLM: a person's reply never waits for background work.

Background jobs (importance, reflection) start only after the model has been idle for a
moment (people pause between messages; a burst of messages is answered first), and never
while a reply is generating or waiting. When a reply arrives, the background generation in
flight is cancelled at its next token, or at its next chunk of prompt on backends that read
prompts in preemptible chunks, and raises :class:`Preempted`, so its job can be retried.
A backend with a ``ready()`` method (the webui's) holds background work while it answers
False, and the quiet moment counts from when it is ready again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager

from .base import Cancelled, CancelToken, ChatMessage, GenerationParams, LLMBackend
from .prompt_log import log_prompt

BACKEND_POLL_SECONDS = 0.1  # how often background work asks a backend that is not ready again


class Preempted(Cancelled):
    """A background generation gave way to a reply."""


class BackgroundToken(CancelToken):
    """The cancel token of a background generation: backends may stop it mid-prompt."""

    preemptible = True


class PriorityLLM:
    """Wraps a backend; ``stream_chat`` is foreground, ``stream_background`` yields to it."""

    def __init__(self, backend: LLMBackend, idle_before_background: float = 2.0) -> None:
        self.backend = backend
        self.idle_before_background = idle_before_background
        self._last_foreground = float("-inf")
        self._refuse_background = False
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
            while True:
                if self._refuse_background:
                    raise Preempted("background work is closed")
                if not self._backend_ready():
                    # Busy elsewhere (a host's own generation) counts as foreground: the
                    # quiet moment starts again when it ends, after its reply is handled.
                    self._last_foreground = time.monotonic()
                    self._turn.wait(timeout=BACKEND_POLL_SECONDS)
                    continue
                quiet_for = time.monotonic() - self._last_foreground
                if not (self._busy or self._foreground_waiting) and quiet_for >= self.idle_before_background:
                    break
                self._turn.wait(
                    timeout=max(0.05, min(BACKEND_POLL_SECONDS, self.idle_before_background - quiet_for))
                )
            self._busy = True
            self._background_token = BackgroundToken()
            return self._background_token

    def _backend_ready(self) -> bool:
        """A backend may say it cannot take background work now (``ready()``: e.g. no model)."""
        ready = getattr(self.backend, "ready", None)
        return True if ready is None else bool(ready())

    def _release(self, foreground: bool = False) -> None:
        with self._turn:
            if foreground:
                self._last_foreground = time.monotonic()
            self._busy = False
            self._background_token = None
            self._turn.notify_all()

    def note_foreground(self) -> None:
        """A reply is being generated outside this wrapper (by a host such as the webui).

        The background generation in flight gives way at its next token, and the next one
        waits for ``idle_before_background`` of quiet from now.
        """
        with self._turn:
            self._last_foreground = time.monotonic()
            if self._background_token is not None:
                self._background_token.cancel()
            self._turn.notify_all()

    def cancel_background(self) -> None:
        """Stop the background generation in flight and refuse new ones (when closing)."""
        with self._turn:
            self._refuse_background = True
            self._turn.notify_all()
            if self._background_token is not None:
                self._background_token.cancel()

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
            self._release(foreground=True)

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        with self.foreground():
            log_prompt("reply", messages, assistant_prefix)
            yield from self.backend.stream_chat(messages, params, cancel, assistant_prefix)

    def complete_background(self, messages: Sequence[ChatMessage], params: GenerationParams) -> str:
        """A whole completion at background priority; raises Preempted if a reply came."""
        token = self._acquire(foreground=False)
        try:
            log_prompt("background", messages)
            parts = []
            for delta in self.backend.stream_chat(messages, params, token):
                parts.append(delta)
            if token is not None and token.cancelled:
                raise Preempted("background generation gave way to a reply")
            return "".join(parts)
        finally:
            self._release()
