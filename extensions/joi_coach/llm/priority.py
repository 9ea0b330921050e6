"""Foreground-first access to one LLM: a person's reply never waits for background work.

Background jobs (importance, reflection) start only after the model has been idle for a
moment (people pause between messages; a burst of messages is answered first), and never
while a reply is generating or waiting. When a reply arrives, the background generation in
flight is cancelled at its next token, or at its next chunk of prompt on backends that read
prompts in preemptible chunks, and raises :class:`Preempted`, so its job can be retried.
A backend with a ``ready()`` method (the webui's) holds background work while it answers
False, and the quiet moment counts from when it is ready again.

Between the two sits the *warm* (:meth:`PriorityLLM.warm`): reading the prompt of the reply
the person is typing, so that pressing Enter finds most of it read. Background work gives
way to a warm; a warm gives way to a reply and to the next warm.
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


class WarmToken(BackgroundToken):
    """The cancel token of a warm: stopped at once, or from a moment on (:meth:`stop_at`)."""

    def __init__(self) -> None:
        super().__init__()
        self._deadline: float | None = None

    def stop_at(self, deadline: float) -> None:
        """Stop at the next chunk of prompt after ``deadline`` (``time.monotonic``); a later
        deadline replaces an earlier one."""
        self._deadline = deadline

    @property
    def cancelled(self) -> bool:
        deadline = self._deadline
        return super().cancelled or (deadline is not None and time.monotonic() >= deadline)


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
        self._warm_token: WarmToken | None = None  # the newest warm asked for (waiting or reading)
        self._warm_waiting = 0
        self._holder = threading.local()
        self.can_warm = callable(getattr(backend, "warm", None))

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
                waiting = self._foreground_waiting or self._warm_waiting
                if not (self._busy or waiting) and quiet_for >= self.idle_before_background:
                    break
                self._turn.wait(
                    timeout=max(0.05, min(BACKEND_POLL_SECONDS, self.idle_before_background - quiet_for))
                )
            self._busy = True
            self._background_token = BackgroundToken()
            return self._background_token

    def _acquire_warm(self, token: CancelToken) -> bool:
        """Take the model for a warm: after any reply, before background thinking (which gives
        way, as does an older warm); False when ``token`` is cancelled first."""
        with self._turn:
            self._warm_waiting += 1
            try:
                while not token.cancelled and not self._refuse_background:
                    if not (self._busy or self._foreground_waiting):
                        self._busy = True
                        self._background_token = token
                        return True
                    if self._busy and self._background_token is not None:
                        self._background_token.cancel()  # background work or an older warm
                    self._turn.wait(timeout=BACKEND_POLL_SECONDS)
                return False
            finally:
                self._warm_waiting -= 1

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

    def warm(
        self, messages: Sequence[ChatMessage], assistant_prefix: str = "", *, typing: bool = True
    ) -> bool:
        """Have the backend read a prompt about to be asked for (the person is still typing),
        so that the reply finds it read; True when it was read whole.

        Only backends with a ``warm(messages, cancel, assistant_prefix)`` method can (the
        embedded model). A reply, :meth:`stop_warming` or a newer warm stops it at its next
        chunk of prompt. Background thinking gives way to it; after a warm for a person
        ``typing``, it waits for the quiet after it, as after a reply (the message is near).
        """
        warm = getattr(self.backend, "warm", None)
        if not callable(warm):
            return False
        token = WarmToken()
        with self._turn:
            if self._warm_token is not None:
                self._warm_token.cancel()
            self._warm_token = token
        if not self._acquire_warm(token):
            return False
        try:
            log_prompt("warm", messages, assistant_prefix)
            return bool(warm(messages, token, assistant_prefix)) and not token.cancelled
        finally:
            self._release(foreground=typing)

    def stop_warming(self, after: float = 0.0) -> None:
        """Stop the warm in flight or waiting (the draft it reads was sent, or changed); ``after``
        seconds from now: it reads on meanwhile (what the next draft shares with it stays read)."""
        with self._turn:
            if self._warm_token is not None:
                if after > 0:
                    self._warm_token.stop_at(time.monotonic() + after)
                else:
                    self._warm_token.cancel()
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
