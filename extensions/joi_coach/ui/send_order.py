"""Lets each page's messages into the chat in the order the person sent them.

The page numbers every message the instant Enter or Send is pressed, but the requests that
carry them may reach the server, and the worker threads that handle them may run, in another
order (seen in CI: the sixth of six quick messages was queued before the fifth). Each send
therefore waits, briefly, for the page's earlier messages to be queued first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

PAGES_KEPT = 4096  # pages remembered (least recently sending forgotten first)


class SendOrder:
    """Per page, admits message *n* only after messages 1…n−1 were admitted or waited for.

    A number lost on the way (a page left before sending it, a server restarted under an open
    page) holds the next message for at most ``patience`` seconds, after which the gap is
    skipped; a message arriving after its gap was skipped is let in at once, never dropped.
    """

    def __init__(self, patience: float = 3.0) -> None:
        self.patience = patience
        self._next: OrderedDict[str, int] = OrderedDict()
        self._changed = threading.Condition()

    @contextmanager
    def turn(self, page: str | None, number: int | None) -> Iterator[None]:
        """Hold the caller until its message is next for ``page``; release it on exit.

        Without a page or a number (an API call, a page without the numbering script) the
        message goes in at once.
        """
        if not page or number is None or number < 1:
            yield
            return
        self._wait_for_earlier(page, number)
        try:
            yield
        finally:
            with self._changed:
                self._next[page] = max(self._next.get(page, 1), number + 1)
                self._changed.notify_all()

    def _wait_for_earlier(self, page: str, number: int) -> None:
        deadline = time.monotonic() + self.patience
        with self._changed:
            self._next.setdefault(page, 1)
            self._next.move_to_end(page)
            while len(self._next) > PAGES_KEPT:
                self._next.popitem(last=False)
            while number > self._next.get(page, 1):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(left)


def message_number(text: str | None) -> int | None:
    """The page's number for a message ("" or anything not a whole number: none)."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None
