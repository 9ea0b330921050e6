"""Stop strings applied to a stream of text on this side, for engines that do not take them all.

The webui's inner generation functions take no stop strings (the host cuts them in its outer
loop, which Joi's reply steps do not pass through), and OpenAI's API takes at most four. A
:class:`StopCutter` sees the deltas as they come and releases text only once no stop string
can begin in it: the stop string itself and everything after it are never released.
"""

from __future__ import annotations

from collections.abc import Iterable


class StopCutter:
    """Feed deltas; get back what may be shown. ``stopped`` once a stop string arrived."""

    def __init__(self, stops: Iterable[str]) -> None:
        self.stops = tuple(dict.fromkeys(s for s in stops if s))
        self._held = ""
        self.stopped = False

    def feed(self, delta: str) -> str:
        """The text that can be released now ("" while a stop string may be arriving)."""
        if self.stopped:
            return ""
        text = self._held + delta
        cut = self._first_stop(text)
        keep = max((self._partial(text, stop) for stop in self.stops), default=0)
        arriving = len(text) - keep  # where a stop string may be starting to arrive
        if cut >= 0 and arriving >= cut:
            self.stopped, self._held = True, ""
            return text[:cut]
        release = min(arriving, cut) if cut >= 0 else arriving
        self._held = text[release:]
        return text[:release]

    def finish(self) -> str:
        """The text still held back when the stream ended (up to a stop string in it)."""
        rest, self._held = ("" if self.stopped else self._held), ""
        cut = self._first_stop(rest)
        if cut >= 0:
            self.stopped = True
            return rest[:cut]
        return rest

    def _first_stop(self, text: str) -> int:
        return min((i for i in (text.find(s) for s in self.stops) if i >= 0), default=-1)

    @staticmethod
    def _partial(text: str, stop: str) -> int:
        """Length of the longest end of ``text`` that begins ``stop``."""
        for length in range(min(len(stop) - 1, len(text)), 0, -1):
            if stop.startswith(text[-length:]):
                return length
        return 0


def cut_at_stops(deltas: Iterable[str], stops: Iterable[str]) -> Iterable[str]:
    """``deltas`` up to the first stop string (not included); stops reading there."""
    cutter = StopCutter(stops)
    for delta in deltas:
        shown = cutter.feed(delta)
        if shown:
            yield shown
        if cutter.stopped:
            return
    rest = cutter.finish()
    if rest:
        yield rest
