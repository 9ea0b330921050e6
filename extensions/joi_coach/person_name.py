"""What Joi calls the person: a name they chose, kept in their own store and editable.

Without sign-in the standalone app knows the person only as "User", and Joi's thoughts say
"The person is…". The chat asks once (with the first-start notice) what Joi should call them;
the answer is kept in the profile's store (``CALL_ME_KEY``), used for every turn from then on,
and can be changed in the chat's "You" box. A signed-in name is the fallback, then the app's.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from .cognition.text_input import InputError

if TYPE_CHECKING:
    from .memory.bank import MemoryBank

__all__ = ["CALL_ME_KEY", "MAX_NAME_CHARS", "chosen_name", "clean_name"]

CALL_ME_KEY = "call_me"  # bank meta: the name the person asked Joi to use
MAX_NAME_CHARS = 40
_ALLOWED = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '.-])*$", re.UNICODE)  # letters, with spaces, ' . -


def clean_name(text: object, joi: str = "Joi") -> str:
    """The name as Joi will use it; raises InputError (saying why) for one it cannot."""
    if not isinstance(text, str):
        raise InputError("A name is text.")
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise InputError("Type the name you'd like Joi to use.")
    if len(name) > MAX_NAME_CHARS:
        raise InputError(
            f"That is longer than {MAX_NAME_CHARS} characters; a first name or nickname works best."
        )
    if not _ALLOWED.match(name):
        raise InputError("Use letters (with spaces, apostrophes, dots or hyphens if you need them).")
    if name.casefold() == joi.casefold():
        raise InputError(f"{joi} is Joi's own name; choose the one Joi should call you.")
    return name


def chosen_name(bank: MemoryBank) -> str:
    """The name the person chose ("" if none, or if what is stored cannot be used)."""
    stored = bank.get_meta(CALL_ME_KEY)
    try:
        return clean_name(stored) if stored else ""
    except InputError:
        return ""
