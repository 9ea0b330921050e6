"""The person's safety settings: where they are, their language, their own contacts."""

from __future__ import annotations

from dataclasses import dataclass

MAX_CONTACTS = 10
MAX_CONTACT_CHARS = 200


@dataclass(frozen=True)
class SafetySettings:
    """``country``: ISO 3166 code for the crisis lines ("" = the international list).
    ``language``: the care card's language ("" = the country's). ``own_contacts``: lines the
    person adds (a local crisis team, a friend), shown on the card. ``similarity``: also
    compare messages with crisis exemplars and the learned model (needs the embedder; more
    recall, a few ms). ``llm_opinion``: when the learned model is unsure about a message, ask
    the person's own model before the reply (a second or so, on a few messages in a hundred).
    Off by default: the embedded 1.5B model says "crisis" to two thirds of the unsure everyday
    lines it is asked about (false alarms 1.3% -> 3.6%, docs/benchmarks.md); turn it on with a
    larger model."""

    country: str = ""
    language: str = ""
    own_contacts: tuple[str, ...] = ()
    similarity: bool = True
    llm_opinion: bool = False

    def __post_init__(self) -> None:
        for name in ("country", "language"):
            value = getattr(self, name)
            if (
                not isinstance(value, str)
                or len(value) > 8
                or not all(c.isalnum() or c == "-" for c in value)
            ):
                raise ValueError(f"safety.{name} must be a short code such as 'GB' or 'en'")
        for name in ("similarity", "llm_opinion"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"safety.{name} must be true or false")
        contacts = self.own_contacts
        if isinstance(contacts, str) or not all(isinstance(c, str) for c in contacts):
            raise ValueError("safety.own_contacts must be a list of texts")
        if len(contacts) > MAX_CONTACTS or any(len(c) > MAX_CONTACT_CHARS for c in contacts):
            raise ValueError(
                f"safety.own_contacts: at most {MAX_CONTACTS}, each up to {MAX_CONTACT_CHARS} characters"
            )
        object.__setattr__(self, "own_contacts", tuple(c.strip() for c in contacts if c.strip()))
