"""Keeps a thought from copying an earlier one while it streams.

A small model shown its recalled thoughts tends to write them again word for word, so the side
panel says the same thing turn after turn. ``CopyWatch`` releases a streaming thought word by
word, holding back a trailing run of ``HOLD`` or more words that could still become a copy (they
run on from a passage of an earlier line or thought); when the run reaches ``COPY_LIMIT`` words,
the thought is a copy from there and the caller asks the model to go on afresh from what was
shown. Nothing shown is taken back. The step's first text is shown at once (a Stop may end the
stream at any token, and the host reads nothing after it), so a copy that begins with the
thought's first word may show that word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["COPY_LIMIT", "CopyWatch"]

COPY_LIMIT = 8  # words in a row shared with an earlier line or thought that make a copy
HOLD = 1  # a trailing run this long of an earlier line's words is held back until it is decided
_WORD = re.compile(r"[\w']+")


def _fold(word: str) -> str:
    return word.strip("'").lower()


@dataclass
class CopyWatch:
    """Releases a streaming thought, minus the trailing words that may be turning into a copy."""

    earlier: Iterable[str]
    limit: int = COPY_LIMIT
    written: str = ""
    released: str = ""
    copied: bool = False
    copy_word: str = ""  # the word the copy began with (the next try is kept from starting it again)
    _runs: list[set[tuple[str, ...]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._runs = [set() for _ in range(self.limit + 1)]  # _runs[k]: the earlier runs of k words
        for line in self.earlier:
            said = [_fold(w) for w in _WORD.findall(line) if _fold(w)]
            for k in range(1, self.limit + 1):
                for i in range(len(said) - k + 1):
                    self._runs[k].add(tuple(said[i : i + k]))

    def start_from(self, text: str) -> None:
        """Go on from ``text`` (already shown): a new try after a copy."""
        self.written = self.released = text
        self.copied = False

    def feed(self, chunk: str) -> str:
        """The part of the thought that can be shown now ("" while undecided or after a copy)."""
        self.written += chunk  # (kept after a copy too: the caller may show a last try whole)
        if self.copied:
            return ""
        return self._release(final=False)

    def finish(self) -> str:
        """The rest, once the model stopped (held-back words shorter than a copy are shown)."""
        if self.copied:
            return ""
        return self._release(final=True)

    def _run_ending_at(self, folded: list[str], end: int) -> int:
        """The longest run of words ending at ``folded[end]`` that an earlier line has."""
        for k in range(min(self.limit, end + 1), 0, -1):
            if tuple(folded[end - k + 1 : end + 1]) in self._runs[k]:
                return k
        return 0

    def _release(self, final: bool) -> str:
        found = list(_WORD.finditer(self.written))
        partial = not final and bool(found) and found[-1].end() == len(self.written)
        complete = found[:-1] if partial else found
        folded = [_fold(m.group(0)) for m in complete]
        new = [i for i, m in enumerate(complete) if m.end() > len(self.released)]
        runs = {i: self._run_ending_at(folded, i) for i in new}
        copies = [i - run + 1 for i, run in runs.items() if run >= self.limit]
        if copies:
            self.copied = True
            run = complete[min(copies) :]
            unshown = [m for m in run if m.start() >= len(self.released)]
            self.copy_word = (unshown or run)[0].group(0)  # the next try may not start with it
            return ""
        trailing = runs.get(len(complete) - 1, 0)
        if final or not self.released:  # the first text at once: a stop may end the stream any moment
            cut = len(self.written)
        elif trailing >= HOLD:  # held back, with the space before it: it may be turning into a copy
            cut = complete[-trailing - 1].end() if len(complete) > trailing else 0
        else:  # up to the last whole word: a word still being written waits for its end
            cut = complete[-1].end() if complete else len(self.released)
        cut = max(cut, len(self.released))
        out, self.released = self.written[len(self.released) : cut], self.written[:cut]
        return out
