"""A background worker for after-reply thinking (importance, reflection), one job per profile.

Jobs never hold up a reply: they talk to the LLM at background priority, and a job whose
generation was preempted by a reply is simply run again once the reply is done.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from ..llm.priority import Preempted

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Runs ``job(profile)`` on one daemon thread; a profile queued twice runs once."""

    def __init__(self, job: Callable[[str], None], name: str = "joi-background") -> None:
        self._job = job
        self._queue: OrderedDict[str, None] = OrderedDict()
        self._cond = threading.Condition()
        self._running: str | None = None
        self._closed = False
        self.failures = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, profile: str) -> None:
        with self._cond:
            if not self._closed:
                self._queue[profile] = None
                self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and self._running is None, timeout)

    def close(self, timeout: float = 5.0, interrupt: Callable[[], None] | None = None) -> None:
        """Take no more jobs, ``interrupt`` the one running (if given), and wait for it."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        if interrupt is not None:
            interrupt()
        self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        """The worker's thread has ended (after :meth:`close`)."""
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                profile, _ = self._queue.popitem(last=False)
                self._running = profile
            try:
                self._job(profile)
            except Preempted:
                log.debug("background job gave way to a reply; it will run again")
                with self._cond:
                    self._queue.setdefault(profile, None)
            except Exception:  # a failing job must not kill the worker
                self.failures += 1
                log.exception("background job failed")
            finally:
                with self._cond:
                    self._running = None
                    self._cond.notify_all()
