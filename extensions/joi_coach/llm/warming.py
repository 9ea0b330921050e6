"""Reading the next reply's prompt while the person types it.

On a CPU, reading the prompt (the recent dialogue, the recalled memories, the message) is
most of the wait before Joi's first word. While the person types, :class:`PromptWarmer`
builds the prompt as it would be for the draft so far and has the model read it at low
priority (:meth:`~.priority.PriorityLLM.warm`); when the message is sent, the reply's
prompt shares all of it up to where the final words differ from the draft, and the model
reads only the rest. Each new draft replaces the one being read once it settles (until then
the older one reads on): the part both share stays read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from .base import ChatMessage
from .priority import PriorityLLM

log = logging.getLogger(__name__)
# What to read for a draft: (messages, the forced start of the reply), or None for nothing.
PromptBuilder = Callable[[], "tuple[Sequence[ChatMessage], str] | None"]
SETTLE_SECONDS = 0.25  # a draft this old without a newer one is read (a burst of keys is one draft)


class PromptWarmer:
    """One thread that reads the newest offered prompt, dropping older ones unread."""

    def __init__(self, llm: PriorityLLM, settle: float = SETTLE_SECONDS, name: str = "joi-warm") -> None:
        self.llm = llm
        self.settle = settle
        self._cond = threading.Condition()
        self._pending: PromptBuilder | None = None
        self._typing = True
        self._offered_at = 0.0
        self._busy = False
        self._closed = False
        self.warmed = 0  # prompts read whole
        self.stopped = 0  # prompts cut short (a newer draft, or the message was sent)
        self._name = name
        self._thread: threading.Thread | None = None  # started by the first offer

    def offer(self, build: PromptBuilder, *, typing: bool = True) -> None:
        """Read ``build()``'s prompt soon, instead of any prompt offered before it. ``typing``:
        the person is typing (background thinking waits for a pause), not just reading."""
        with self._cond:
            if self._closed:
                return
            self._pending, self._typing = build, typing
            self._offered_at = time.monotonic()
            self._cond.notify_all()
            if self._thread is None:  # a backend that cannot warm is never offered a prompt
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
        # The prompt being read stops when this draft settles, not now: until then it reads on,
        # and most of what it reads (all but the message's last words) the new draft shares.
        self.llm.stop_warming(after=self.settle)

    def drop(self) -> None:
        """Forget the prompt offered and stop the one being read (the message is being sent)."""
        with self._cond:
            self._pending = None
            self._cond.notify_all()
        self.llm.stop_warming()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is offered or being read; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify_all()
        self.llm.stop_warming()
        if self._thread is not None:
            self._thread.join(timeout)

    def _next(self) -> tuple[PromptBuilder, bool] | None:
        """The newest offer once it has settled, and whether the person is typing (None when closed)."""
        with self._cond:
            while True:
                if self._closed:
                    return None
                if self._pending is not None:
                    wait = self._offered_at + self.settle - time.monotonic()
                    if wait <= 0:
                        build, self._pending = self._pending, None
                        self._busy = True
                        return build, self._typing
                    self._cond.wait(timeout=wait)
                else:
                    self._cond.wait()

    def _loop(self) -> None:
        while (offered := self._next()) is not None:
            build, typing = offered
            try:
                prompt = build()
                if prompt is not None:
                    messages, prefix = prompt
                    whole = self.llm.warm(messages, prefix, typing=typing)
                    self.warmed += whole
                    self.stopped += not whole
                    log.debug("read ahead: %s", "prompt read whole" if whole else "stopped")
            except Exception as exc:  # a failed warm costs the reply nothing but time
                log.warning("reading the draft's prompt ahead failed (%s)", type(exc).__name__)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
