"""Which of the crisis card's languages a message is written in: English, German, French or Spanish.

A count of frequent function words per language (``languages.yaml``), on folded text. It only
has to tell these four apart well enough to choose the card's words and the pattern table; a
message in any other language counts as English, whose card lists international lines.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

from .text_prep import clean, fold

__all__ = ["LANGUAGES", "guess_language"]

LANGUAGES = ("en", "de", "fr", "es")
WORD_LISTS = Path(__file__).with_name("languages.yaml")
_WORDS = re.compile(r"[a-z]+")


@cache
def _word_lists() -> dict[str, frozenset[str]]:
    data = yaml.safe_load(WORD_LISTS.read_text(encoding="utf-8"))
    return {lang: frozenset(str(w) for w in data[lang]) for lang in LANGUAGES}


def guess_language(text: str, earlier: tuple[str, ...] | list[str] = ()) -> str:
    """ "en", "de", "fr" or "es" for ``text``: the language with the most function words, or
    English on a tie or when none is found. A message too short to tell (fewer than two hits)
    is read with the person's ``earlier`` messages."""
    lists = _word_lists()

    def hits(message: str) -> dict[str, int]:
        words = _WORDS.findall(fold(clean(message)) if message else "")
        return {lang: sum(w in lists[lang] for w in words) for lang in LANGUAGES}

    counts = hits(text)
    if max(counts.values()) < 2 and earlier:
        counts = hits(" ".join([*earlier, text]))
    best = max(LANGUAGES, key=lambda lang: (counts[lang], lang == "en"))
    return best if counts[best] > 0 else "en"
