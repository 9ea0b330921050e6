"""Text preparation for the crisis detector: a chat message as plain, canonical text, in spans.

``clean`` gives plain lowercase text: HTML tags dropped and entities decoded, NFKC, curly
apostrophes folded, control and zero-width characters removed, leetspeak and stretched letters
undone ("k1lll" -> "kill"), and a long message cut to its head and tail. ``canonical`` expands
contractions and chat spellings for the patterns ("i'm" -> "i am", "wanna" -> "want to").
``fold`` drops accents and diacritics, for the patterns of other languages.
``sentences`` and ``clauses`` are the spans the rules and the similarity signal look at.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["HEAD_CHARS", "RAW_CHARS", "TAIL_CHARS", "canonical", "clauses", "clean", "fold", "sentences"]

# A long message is cut to its first HEAD_CHARS and last TAIL_CHARS characters of visible text
# (after HTML is dropped from at most the last RAW_CHARS): what a person says about themselves
# sits at the start or the end of a long paste, the embedding model reads only ~256 tokens per
# sentence anyway, and it bounds the per-turn cost (a 1 MB message is checked in milliseconds).
HEAD_CHARS = 1_000
TAIL_CHARS = 5_000
RAW_CHARS = 100_000

_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|td|h[1-6]|blockquote|pre|hr)\b[^<>]{0,300}>", re.I)
_ANY_TAG = re.compile(r"</?[a-z!][^<>]{0,300}>", re.I)
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_APOSTROPHES = str.maketrans({"‘": "'", "’": "'", "ʼ": "'", "`": "'", "´": "'", "′": "'", "“": '"', "”": '"'})
_LEET = re.compile(r"(?<=[a-z])[1!3@0$](?=[a-z])")
_LEET_MAP = {"1": "i", "!": "i", "3": "e", "@": "a", "0": "o", "$": "s"}
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "killlll" -> "kill"
_REPEATED_SINGLE = re.compile(r"([aiuy])\1{2,}")  # letters English never doubles: "diiiie" -> "die"
_SPACES = re.compile(r"[ \t\r\f\v]+")


def _cap(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text
    return text[:head] + "\n" + text[-tail:]


def _strip_html(text: str) -> str:
    if "<" not in text:
        return text
    text = _SCRIPT_OR_STYLE.sub(" ", text)
    text = _BLOCK_TAG.sub("\n", text)
    return _ANY_TAG.sub(" ", text)


def clean(text: str) -> str:
    """Plain lowercase text: no HTML, NFKC, straight apostrophes, no control characters."""
    text = _strip_html(_cap(text, HEAD_CHARS, RAW_CHARS))
    text = html.unescape(_cap(text, HEAD_CHARS, TAIL_CHARS))
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = _LEET.sub(lambda m: _LEET_MAP[m.group()], text)
    text = _REPEATED_SINGLE.sub(r"\1", text)
    text = _REPEATS.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()


_CANONICAL = [
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\bi'?m\b", "i am"),
        (r"\bi'?ve\b", "i have"),
        (r"\bi'll\b", "i will"),
        (r"\bi'd\b", "i would"),
        (r"\b(?:can'?t|cannot)\b", "can not"),
        (r"\bwon'?t\b", "will not"),
        (r"\bain'?t\b", "am not"),
        (r"\b(do|does|did|is|are|was|were|have|has|had|would|could|should|must|need)n'?t\b", r"\1 not"),
        (r"\b(he|she|it|that|there|what|who)'s\b", r"\1 is"),
        (r"\b(you|we|they)'re\b", r"\1 are"),
        (r"\b(he|she|they|you|we|it)'ll\b", r"\1 will"),
        (r"\b(he|she|they|you|we)'d\b", r"\1 would"),
        (r"\bwanna\b", "want to"),
        (r"\bgonna\b", "going to"),
        (r"\bgotta\b", "got to"),
        (r"\btryna\b", "trying to"),
        (r"\bidk\b", "i do not know"),
        (r"\bu\b", "you"),
        (r"\bur\b", "your"),
        (r"\brn\b", "right now"),
        (r"\b(?:tonite|2nite|tn)\b", "tonight"),
        (r"\bb/?f\b", "boyfriend"),
        (r"\bg/?f\b", "girlfriend"),
        (r"\bmy ?sel?f\b|\bmyslef\b|\bmeself\b|\bmyselff\b", "myself"),
        (r"\bsui?c+i?de\b|\bsuiside\b|\bsu\*+cide\b|\bs\*+icide\b|\bsuic\*de\b", "suicide"),
        (r"\bsewer ?slide\b", "sewerslide"),
    )
]


def fold(cleaned: str) -> str:
    """``clean`` text without accents or diacritics ("möchte" -> "mochte", "ß" -> "ss"), for
    patterns and word lists in languages other than English, which people type either way."""
    decomposed = unicodedata.normalize("NFKD", cleaned.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def canonical(cleaned: str) -> str:
    """Cleaned text with contractions and chat spellings expanded, for the patterns."""
    for pattern, replacement in _CANONICAL:
        cleaned = pattern.sub(replacement, cleaned)
    return cleaned


_SENTENCE_END = re.compile(r"(?:[.!?;:\n]+|\s[-–—]+\s|[\u2639\u263a\U0001f300-\U0001faff]+)\s*")
_CLAUSE_BREAK = re.compile(r",?\s\b(?:but|though|although|however|except)\b\s")


def sentences(text: str) -> list[str]:
    """Sentences of a text (on punctuation, newlines, dashes and emoji)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def clauses(sentence: str) -> list[str]:
    """The clauses of a sentence (split on "but", "though", "however"...), stripped, none empty."""
    return [clause.strip() for clause in _CLAUSE_BREAK.split(sentence) if clause.strip()]
