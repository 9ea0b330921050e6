"""A streaming parser that splits Joi's reply into its two inner voices and the dialogue.

The model is asked for the thoughts inside the reasoning tags that text-generation-webui
and most reasoning models use, then the spoken reply::

    <think>
    Empathetic voice: ...
    Therapist voice: ...
    </think>
    What Joi says.

``<think>`` at the start of a line opens the thoughts (empathetic until another label),
``</think>`` switches to the dialogue, as does a "Joi:" label.

Models deviate, so labels are matched loosely at the start of a line (markdown
emphasis, headings, bullets, renamed labels such as "Inner Empathetic Voice" or
"Response"). Rules, which hold however the text is chunked:

* label text never reaches a section; every other character does (no text is lost);
* text before the first label joins that label's section when the label starts within
  ``PREAMBLE_LIMIT`` characters, and is dialogue otherwise;
* a reply without any label is all dialogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum


class Section(str, Enum):
    EMPATHETIC = "empathetic"
    THERAPEUTIC = "therapeutic"
    DIALOGUE = "dialogue"


PREAMBLE_LIMIT = 160
LABEL_LOOKAHEAD = 64  # a label and its colon must fit in this many characters of a line

_EMPATHETIC = r"(?:inner\s+)?(?:empathetic|empathic|empathy|emotional|heart)(?:\s+(?:voice|thoughts?))?"
_THERAPEUTIC = (
    r"(?:inner\s+)?(?:theoretical\s+)?(?:therapist|therapeutic|therapy|coach(?:ing)?\s+(?:voice|thoughts?)"
    r"|clinical|analytical|reasoning)(?:\s+(?:voice|thoughts?))?"
)
_DIALOGUE = r"joi|dialogue|response|reply|answer|coach|joi\s+says"
# Every word a label above can start with: a line whose first word is another is no label,
# and the parser need not wait for the rest of the line to show it.
_LABEL_FIRST_WORDS = frozenset(
    [
        "inner",
        "theoretical",
        "empathetic",
        "empathic",
        "empathy",
        "emotional",
        "heart",
        "therapist",
        "therapeutic",
        "therapy",
        "coach",
        "coaching",
        "clinical",
        "analytical",
        "reasoning",
        "joi",
        "dialogue",
        "response",
        "reply",
        "answer",
    ]
)
_OPENERS = re.compile(r"[ \t]*(?:[#>*_\-•]+[ \t]*)*")
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_LABEL = re.compile(
    r"^[ \t]*(?:[#>*_\-•]+[ \t]*)*"  # markdown heading / quote / bullet / emphasis openers
    rf"(?:(?P<empathetic>{_EMPATHETIC})|(?P<therapeutic>{_THERAPEUTIC})|(?P<dialogue>{_DIALOGUE}))"
    r"[ \t]*(?:\([^):\n]{0,30}\))?[ \t]*(?:\*\*|__|\*|_)?[ \t]*[:：](?:[ \t]*(?:\*\*|__|\*|_))?[ \t]*",
    re.IGNORECASE,
)


_QUOTE_PAIRS = {'"': '"', "“": "”", "'": "'", "«": "»", "(": ")"}  # "(…)": the format's placeholder


def unquote(text: str) -> str:
    """Drop one pair of quotes (or brackets) around a whole section (small models add them)."""
    text = text.strip()
    if len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1] and text[0] not in text[1:-1]:
        return text[1:-1].strip()
    return text


_THINK_TAG = re.compile(r"^[ \t]*<(?P<close>/?)think>[ \t]*", re.IGNORECASE)


def match_label(line_start: str) -> tuple[Section, int] | None:
    """(section, length of the label) if ``line_start`` begins with a voice label or think tag."""
    tag = _THINK_TAG.match(line_start)
    if tag:
        return (Section.DIALOGUE if tag.group("close") else Section.EMPATHETIC), tag.end()
    found = _LABEL.match(line_start)
    if not found:
        return None
    section = next(Section(name) for name in ("empathetic", "therapeutic", "dialogue") if found.group(name))
    return section, found.end()


@dataclass
class VoiceDelta:
    section: Section
    text: str


@dataclass
class ParsedReply:
    empathetic: str = ""
    therapeutic: str = ""
    dialogue: str = ""
    labelled: bool = False

    def get(self, section: Section) -> str:
        return getattr(self, section.value)


@dataclass
class VoiceParser:
    """Feed chunks as they stream; collect :class:`VoiceDelta` s in order."""

    _pending: str = ""  # text not yet decided
    _at_line_start: bool = True
    _section: Section | None = None  # None until decided (preamble phase)
    _preamble: str = ""
    _offset: int = 0  # characters consumed so far (for the preamble rule)
    _strip_leading: bool = False  # skip spaces right after a label
    _sections: dict[Section, list[str]] = field(default_factory=lambda: {s: [] for s in Section})
    _labelled: bool = False
    _finished: bool = False

    def feed(self, chunk: str) -> list[VoiceDelta]:
        if self._finished:
            raise RuntimeError("parser already finished")
        self._pending += chunk
        return self._drain(final=False)

    def finish(self) -> list[VoiceDelta]:
        deltas = self._drain(final=True)
        if self._section is None and self._preamble:
            deltas.append(self._emit(Section.DIALOGUE, self._preamble))
            self._preamble = ""
        self._finished = True
        return deltas

    def result(self) -> ParsedReply:
        parts = {s: unquote("".join(chunks)) for s, chunks in self._sections.items()}
        if self._section is None and self._preamble:
            parts[Section.DIALOGUE] = unquote(parts[Section.DIALOGUE] + self._preamble)
        return ParsedReply(
            empathetic=parts[Section.EMPATHETIC],
            therapeutic=parts[Section.THERAPEUTIC],
            dialogue=parts[Section.DIALOGUE],
            labelled=self._labelled,
        )

    # -- internals ----------------------------------------------------------------------
    def _emit(self, section: Section, text: str) -> VoiceDelta:
        self._sections[section].append(text)
        return VoiceDelta(section, text)

    def _content(self, text: str, deltas: list[VoiceDelta]) -> None:
        """Route decided content text to the current section (or the held preamble)."""
        if self._strip_leading:
            stripped = text.lstrip(" \t")
            if not stripped:
                self._offset += len(text)
                return
            self._offset += len(text) - len(stripped)
            text = stripped
            self._strip_leading = False
        if self._section is None:
            self._preamble += text
            self._offset += len(text)
            if self._offset >= PREAMBLE_LIMIT:  # no early label: the preamble is dialogue
                self._section = Section.DIALOGUE
                deltas.append(self._emit(Section.DIALOGUE, self._preamble))
                self._preamble = ""
            return
        self._offset += len(text)
        if text:
            deltas.append(self._emit(self._section, text))

    def _switch(self, section: Section, label_length: int, deltas: list[VoiceDelta]) -> None:
        if self._section is None:
            preamble = self._preamble.strip()
            self._preamble = ""
            self._section = section
            if preamble:
                deltas.append(self._emit(section, preamble + "\n"))
        elif self._sections[section] and not "".join(self._sections[section]).endswith("\n"):
            deltas.append(self._emit(section, "\n"))
        self._section = section
        self._labelled = True
        self._offset += label_length
        self._strip_leading = True

    def _decide_line(self, final: bool) -> tuple[tuple[Section, int] | None, bool]:
        """Whether the pending line starts with a label: ((section, length) or None, decided).

        Decides as early as the outcome cannot change with more text, so streaming waits
        only while a line could still turn out to be a label.
        """
        newline = self._pending.find("\n")
        head = self._pending if newline < 0 else self._pending[:newline]
        window = head[:LABEL_LOOKAHEAD]
        label = match_label(window)
        if final or newline >= 0 or len(head) >= LABEL_LOOKAHEAD:
            return label, True
        if label is not None and label[1] < len(window):
            return label, True  # the label is complete: more text cannot change it
        if label is None and (":" in window or "：" in window):
            return None, True  # the first colon did not close a label, so no later one can
        if label is None and _cannot_start_label(window):
            return None, True  # "I hear you." or "Hi Sam!": shown now, not when the line ends
        return None, False

    def _drain(self, final: bool) -> list[VoiceDelta]:
        deltas: list[VoiceDelta] = []
        while self._pending:
            if self._at_line_start:
                label, decided = self._decide_line(final)
                if not decided:
                    return deltas
                self._at_line_start = False
                if label is not None:
                    section, length = label
                    self._pending = self._pending[length:]
                    self._switch(section, length, deltas)
                continue
            newline = self._pending.find("\n")
            if newline < 0:
                text, self._pending = self._pending, ""
            else:
                text, self._pending = self._pending[: newline + 1], self._pending[newline + 1 :]
                self._at_line_start = True
            if self._strip_leading and text.strip() == "" and text.endswith("\n"):
                self._offset += len(text)  # blank line right after a label
                continue
            self._content(text, deltas)
        return deltas


def _cannot_start_label(head: str) -> bool:
    """Whether the start of a line already rules out every label and think tag: its first
    word (after any markdown openers) is complete and starts no label, or is no word at all."""
    rest = head[_OPENERS.match(head).end() :]  # type: ignore[union-attr]
    if not rest or rest.startswith("<"):
        return False  # nothing to go on yet, or perhaps a think tag: decided by the usual rules
    word = _FIRST_WORD.match(rest)
    if word is None:
        return True  # a digit, a quote mark, an ellipsis: no label starts so
    first = word.group(0).lower()
    if word.end() < len(rest):
        return first not in _LABEL_FIRST_WORDS
    return not any(label.startswith(first) for label in _LABEL_FIRST_WORDS)


def parse_reply(text: str) -> ParsedReply:
    """Parse a complete reply (same rules as streaming; think tags may also sit mid-line)."""
    parser = VoiceParser()
    parser.feed(re.sub(r"[ \t]*(</?think>)[ \t]*", r"\n\1\n", text, flags=re.IGNORECASE))
    parser.finish()
    return parser.result()
