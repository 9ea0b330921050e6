"""Checks on what a person types, before anything is stored or sent to the model."""

from __future__ import annotations

import unicodedata

MAX_MESSAGE_CHARS = 8000
_KEEP_CONTROLS = {"\n", "\t"}


class InputError(ValueError):
    """A message that cannot be accepted; the text says why, for the person."""


def clean_message(text: object, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """NFC-normalised text without control characters; raises InputError when unusable.

    HTML and markdown are kept verbatim: they are the person's words. Whoever displays
    them escapes them.
    """
    if not isinstance(text, str):
        raise InputError("a message must be text")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(
        ch for ch in text if ch in _KEEP_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cs")
    ).strip()
    if not text:
        raise InputError("the message is empty")
    if len(text) > max_chars:
        raise InputError(
            f"the message is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Please split it into shorter messages."
        )
    return text
