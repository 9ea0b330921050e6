"""Releases Joi's spoken line a sentence at a time, and stops it where it goes wrong.

A small model's spoken line drifts in ways that can be seen sentence by sentence: it
repeats a line Joi said before or reads its private notes out (8+ words in a row), it
slips into the person's voice ("What do you suggest?"), or it runs on for paragraphs.
Holding each sentence back until it is complete costs a moment of streaming and lets
the guard stop the line before a bad sentence is shown. When the very first sentence is
bad, nothing has been shown, and the caller can ask the model again. A repeat is seen as
it is written, and the guard keeps the words of its sentence before the copy began
(:class:`CopyCut`): the model can go on from there, not start the line over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .reply_checks import dialogue_problems, word_spans, words
from .reply_format import THINK_CLOSE, THINK_OPEN
from .voices import Section, match_label

REPEAT_LIMIT = 8  # words in a row shared with an earlier line that make a sentence a repeat
SALUTATION_WORDS = 3  # a piece of fewer words ("Hi Sam,", "Oh!") does not count as a sentence
MAX_SENTENCES = 5  # the persona asks for two to four; one more is tolerated, never a sixth
# A small word said twice in a row ("You told me me that…"), a slip of small models.
_DOUBLED_WORD = re.compile(r"\b(me|you|I|a|an|the|to|that|and|is|it|of|in)\s+\1\b", re.IGNORECASE)
_STRAY_QUOTE = re.compile(r"^\s*[\"”]\s+(?=\S)(?=[^\"“”]*$)")  # a lone quote mark before a sentence
_SENTENCE = re.compile(r".*?(?:[.!?…]+[\"'”’)\]]*(?=\s)|\n)", re.DOTALL)
REPEAT = "repeats an earlier line"
_FIRST_WORD = re.compile(r"(\s*)([A-Z][^\W\d_]*)(?=[\s,.!?'’])")  # a capitalised first word
_INNER_CAPITAL = re.compile(r"(?<![.!?:]\s)(?<!^)(?<!\n)\b([A-Z][^\W\d_]+)")  # not opening a sentence


@dataclass(frozen=True)
class CopyCut:
    """Where a sentence began to repeat an earlier line: the line can go on from ``before``.

    ``gap``: the blank between the line so far and the sentence; ``before``: the sentence's
    words before the copy began ("" when it began with them), not yet shown; ``word``: the
    word the copy began with (the next try is kept from starting with it).
    """

    gap: str
    before: str
    word: str

    @property
    def worth_going_on(self) -> bool:
        """The words before the copy make a start worth keeping: a sentence's first words, not a
        bare name or greeting ("Valentina," would leave the next try a new sentence to begin)."""
        return len(words(self.before)) >= SALUTATION_WORDS


@dataclass
class SpokenLineGuard:
    joi: str
    user: str
    earlier: list[str]
    message: str = ""  # the person's message this line answers
    # This reply's notes (its thoughts, also as said to the person): the line must not read them
    # out, but an answer from memory may say what a note says (:meth:`acceptable`).
    notes: list[str] = field(default_factory=list)
    skip_bad: bool = False  # drop a bad sentence and go on, rather than stop there
    max_sentences: int = MAX_SENTENCES
    drop: Callable[[str], bool] | None = None  # sentences never to show (skipped, the line goes on)
    released: str = ""
    rejected: str = ""  # why the line was stopped early ("" if it was not)
    done: bool = False
    _pending: str = ""
    _sentences: int = 0
    _started: bool = False
    _gap: str = ""
    _salutation: bool = False  # all that was released is a greeting line
    copy: CopyCut | None = None  # where the line began to repeat an earlier one (when it was stopped so)
    _problems: set[str] = field(default_factory=set)
    _runs: set[tuple[str, ...]] | None = None  # every run of REPEAT_LIMIT words of ``earlier``
    _note_runs: set[tuple[str, ...]] = field(default_factory=set)  # … and of ``notes``
    _known_names: set[str] | None = None  # capitalised words inside sentences (:meth:`_names`)

    def feed(self, chunk: str) -> str:
        """Text that may be shown now (whole sentences); sets ``done`` when the line must end."""
        if self.done:
            return ""
        self._pending += chunk
        if not self._started and not self._skip_leading_thoughts():
            return ""
        out = []
        while not self.done and (found := _SENTENCE.match(self._pending)):
            sentence = found.group(0)
            self._pending = self._pending[found.end() :]
            out.append(self._take(sentence))
        if not self.done and not self.skip_bad and self._pending.strip():
            self._stop_at_copy()  # a sentence still being written that already repeats
        return "".join(out)

    def finish(self) -> str:
        """The rest, once the model has stopped."""
        if not self._started and self._pending.lstrip().lower().startswith(THINK_OPEN):
            self._pending = ""  # only thoughts, never closed: nothing to say
        if self.done or not self._pending.strip():
            self._pending = ""
            return ""
        rest, self._pending = self._pending, ""
        if self.released.strip() and _cut_off(rest):
            return ""  # "…following it.\n\nWhat": the model stopped mid-sentence
        return self._take(rest, last=True)

    def _skip_leading_thoughts(self) -> bool:
        """Drop a think block the model wrote again before speaking; False while undecided."""
        head = self._pending.lstrip()
        if not head or (len(head) < len(THINK_OPEN) and THINK_OPEN.startswith(head.lower())):
            return False
        if head.lower().startswith(THINK_OPEN):
            end = head.lower().find(THINK_CLOSE)
            if end < 0:
                return False
            self._pending = head[end + len(THINK_CLOSE) :]
        return True

    def open_with(self, opening: str) -> str:
        """Start the line with a sentence written elsewhere (an answer from memory); returns it.

        The opening is shown as it is, so its own quirks are not held against the sentences
        that follow it; it is not checked here (the caller checks it with :meth:`acceptable`).
        """
        self._problems = set(dialogue_problems(opening, self.joi, self.user, self.message)) - {"empty"}
        self.released, self._started = opening, True
        self._sentences = 1
        return opening

    def acceptable(self, sentence: str, may_repeat: bool = False) -> bool:
        """Whether an answer from memory would pass the guard as the line's first sentence: it
        keeps to Joi's role and (unless ``may_repeat``) repeats no earlier line. It may say what
        this reply's notes say: both restate what the person told Joi."""
        repeats = not may_repeat and self._cut("", sentence, partial=False, with_notes=False) is not None
        return not repeats and not (
            set(dialogue_problems(sentence, self.joi, self.user, self.message)) - {"empty"}
        )

    def resume(self) -> None:
        """Take a new try at the rest of the line: what was released stays, the rest is forgotten."""
        self.rejected, self.done, self._pending, self._gap, self.copy = "", False, "", "", None

    def go_on_after_copy(self) -> str:
        """Take a new try from where the copy began; returns the line as the model goes on from
        it (what was shown, and the words of the sentence before the copy, held until it ends)."""
        cut = self.copy
        if cut is None:
            raise ValueError("the line was not stopped at a copy")
        self.resume()
        self._gap, self._pending = cut.gap, cut.before
        return self.released + cut.gap + cut.before

    @property
    def failed_at_start(self) -> bool:
        """Stopped before anything was shown: the caller may ask the model again."""
        return bool(self.rejected) and not self.released.strip()

    @property
    def copy_to_go_on_from(self) -> CopyCut | None:
        """The copy the line stopped at, when the words before it are worth going on from."""
        return self.copy if self.copy is not None and self.copy.worth_going_on else None

    @property
    def only_greeted(self) -> bool:
        """Stopped when all that was shown is a greeting ("Hi Sam!"): no line yet."""
        return bool(self.rejected) and self._salutation

    def _take(self, piece: str, last: bool = False) -> str:
        if not piece.strip():  # whitespace between sentences: held until the next sentence
            self._gap += piece
            return ""
        gap, self._gap = self._gap, ""
        if not self._started:
            gap = ""  # no blank lines before the line
            piece = _without_dialogue_label(piece)
        elif gap.count("\n") >= 2 and self._sentences >= 2:  # a second paragraph: enough said
            self.done = True
            return ""
        elif self._salutation:  # "Hi Sam,\n\nThank you…" is one paragraph: "Hi Sam, thank you…"
            gap = "" if piece[:1].isspace() else " "
            if self.released.rstrip().endswith(","):
                piece = self._lowered_after_comma(piece)
        piece = _DOUBLED_WORD.sub(r"\1", piece)
        piece = _STRAY_QUOTE.sub("", piece)  # the closing mark of a quote that was not shown
        if self._started and _said_in(piece, self.released):
            return ""  # said already in this line (a retry starting over, or the frame's opening)
        if piece.rstrip().endswith((":", "：")):
            return ""  # "Here's how you could approach this:": a list's heading, not something said
        reason, cut = self._problem(gap, piece)  # a slip out of role stops the line (asked again)
        if reason:
            if self.skip_bad:
                return ""
            self.rejected, self.done, self.copy = reason, True, cut
            return ""
        if self.drop is not None and self.drop(piece):
            return ""  # a sentence never to show: skipped, the line goes on
        if self.released and not self.released[-1].isspace() and not (gap + piece)[:1].isspace():
            piece = " " + piece  # a resumed line whose first piece came without its space
        short = len(words(piece)) < SALUTATION_WORDS  # "Hi Sam," is not a sentence
        self._salutation = short and self._sentences == 0
        if self._salutation:
            piece = piece.rstrip("\n")
        self._started = True
        self._sentences += not short
        self.released += gap + piece
        if self._sentences >= self.max_sentences and not last:
            self.done = True
        return gap + piece

    def _lowered_after_comma(self, piece: str) -> str:
        """The piece with its first word in lower case, as it reads after "Valentina," (unless
        the word is "I" or a name: capitalised inside a sentence of the person's or Joi's)."""
        first = _FIRST_WORD.match(piece)
        if first is None or first.group(2) == "I" or first.group(2) in self._names():
            return piece
        at = first.start(2)
        return piece[:at] + piece[at].lower() + piece[at + 1 :]

    def _names(self) -> set[str]:
        """Capitalised words inside sentences the guard can see (names, not sentence openings)."""
        if self._known_names is None:
            seen = [self.message, *self.earlier, *self.notes]
            self._known_names = {name for text in seen for name in _INNER_CAPITAL.findall(text)}
            self._known_names |= {*self.joi.split(), *self.user.split()}  # each word of a name
        return self._known_names

    def _stop_at_copy(self) -> None:
        """Stop the line at a sentence not yet complete whose words already repeat an earlier line."""
        cut = self._cut(self._gap, self._pending, partial=True)
        if cut is not None:
            self.rejected, self.done, self.copy = REPEAT, True, cut
            self._pending = self._gap = ""

    def _cut(self, gap: str, sentence: str, partial: bool, with_notes: bool = True) -> CopyCut | None:
        """Where ``sentence`` begins to repeat an earlier line or a note (None if it does not);
        ``partial``: its last word may still be being written, and does not count."""
        spans = word_spans(sentence)
        if partial and spans and spans[-1][2] == len(sentence):
            spans = spans[:-1]
        folded = tuple(word for word, _, _ in spans)
        if self._runs is None:
            self._runs, self._note_runs = _runs_of(self.earlier), _runs_of(self.notes)
        for start in range(len(folded) - REPEAT_LIMIT + 1):
            run = folded[start : start + REPEAT_LIMIT]
            if run in self._runs or (with_notes and run in self._note_runs):
                _, at, end = spans[start]
                before = sentence[:at].rstrip()
                if not self._started:  # a line that has not begun: no blank, no "Joi:" before it
                    gap, before = "", _without_dialogue_label(before)
                return CopyCut(gap, before, sentence[at:end])
        return None

    def _problem(self, gap: str, sentence: str) -> tuple[str, CopyCut | None]:
        """Why ``sentence`` may not be shown ("" if it may), and where it copies, if it does."""
        cut = self._cut(gap, sentence, partial=False)
        if cut is not None:
            return REPEAT, cut
        new = (
            set(dialogue_problems(self.released + sentence, self.joi, self.user, self.message))
            - self._problems
            - {"empty"}
        )
        return ", ".join(sorted(new)), None


def _cut_off(rest: str) -> bool:
    """A last piece of one word with no end mark: a sentence the model never finished."""
    text = rest.strip()
    return len(words(text)) == 1 and not re.search(r"[.!?…)\]\"'”’]$", text)


def _said_in(sentence: str, released: str) -> bool:
    """A sentence of four words or more whose words were already released in this line
    (a retry that starts the line over after its first sentences were shown)."""
    said = words(sentence)
    if len(said) < 4:
        return False
    return f" {' '.join(said)} " in f" {' '.join(words(released))} "


def _runs_of(lines: Iterable[str]) -> set[tuple[str, ...]]:
    """Every run of ``REPEAT_LIMIT`` words in ``lines``."""
    runs: set[tuple[str, ...]] = set()
    for line in lines:
        said = words(line)
        runs.update(tuple(said[i : i + REPEAT_LIMIT]) for i in range(len(said) - REPEAT_LIMIT + 1))
    return runs


def _without_dialogue_label(text: str) -> str:
    """``text`` without a "Joi:" label in front of it."""
    label = match_label(text.lstrip()[:64])
    if label is not None and label[0] is Section.DIALOGUE:
        return text.lstrip()[label[1] :]
    return text


def said_to_them(thought: str, user: str) -> str:
    """A thought about the person as the spoken line would read it out to them ("What would help
    Sam most now is …" -> "What would help you most now is …")."""
    if not user.strip():
        return thought
    name = re.escape(user.strip())
    thought = re.sub(rf"\b{name}['’]s\b", "your", thought)
    return re.sub(rf"\b{name}\b", "you", thought)


def lines_joi_wrote(messages: Iterable[dict], user: str) -> list[str]:
    """Everything in a prompt that Joi said or thought (not the person's words)."""
    lines: list[str] = []
    for message in messages:
        if message["role"] == "user":
            continue
        lines += [line for line in message["content"].splitlines() if f"{user} said:" not in line]
    return [line for line in lines if line.strip()]


_ANY_LEADING_LABEL = re.compile(
    r"^\s*[*_\"“]*(?P<name>[^\W\d_][\w .'-]{0,30}?)\s*[*_]*\s*[:：]\s*", re.UNICODE
)


def without_leading_label(text: str, joi: str, user: str) -> str:
    """The text without a speaker's name or a voice label and colon in front of it."""
    text = text.strip()
    label = match_label(text[:64])
    if label is not None:
        return text[label[1] :].strip()
    found = _ANY_LEADING_LABEL.match(text)
    if found and found.group("name").strip().lower() in {joi.lower(), user.lower(), "user", "assistant"}:
        return text[found.end() :].strip()
    return text


def salvage(
    text: str,
    joi: str,
    user: str,
    earlier: list[str],
    message: str = "",
    drop: Callable[[str], bool] | None = None,
) -> str:
    """The sentences of a line that pass the guard's checks (for a line that failed as a whole)."""
    guard = SpokenLineGuard(joi, user, earlier, message=message, skip_bad=True, drop=drop)
    return (guard.feed(text) + guard.finish()).strip()
