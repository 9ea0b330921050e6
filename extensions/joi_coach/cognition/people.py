"""People in the person's life, found by their relation next to a name ("my brother Tomasz").

A small model often passes over who is who in a message; the words that say it are few and
plain, so they are read by code from a table (``data/people.yaml``), not asked of the model.
A name is a capitalised word next to a relation word: after it ("my boss Gregor", "my mum,
Adaeze,"), before it ("Jess, my flatmate", "Ana (my sister)"), or a pair after a plural
("my twins. Ife and Tolu"). The entry's text is the person's own words: "Tomasz, my brother".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ..memory.plans import PlanEntry, PlanKind
from .plan_notes import Line, NewEntry, Proposal

DATA = Path(__file__).with_name("data") / "people.yaml"
_NAME = r"[A-Z][a-zà-ÿ'’-]{1,20}"


@dataclass(frozen=True)
class Someone:
    name: str
    relation: str  # as the person wrote it ("mum", "twins")
    one_of: bool = False  # named with a plural: "Ife, one of my twins"

    @property
    def note(self) -> str:
        return f"{self.name}, {'one of ' if self.one_of else ''}my {self.relation}"


@dataclass(frozen=True)
class _Table:
    after: re.Pattern[str]  # my REL NAME / my REL, NAME
    pair: re.Pattern[str]  # my RELs[.,:] NAME and NAME
    before: re.Pattern[str]  # NAME, my REL / NAME (my REL); never across a full stop
    not_names: frozenset[str]


@cache
def _table() -> _Table:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    words = [w for group in ("family", "others") for w in data["relations"][group]]
    plurals = {**{w: w + "s" for w in words}, **data["irregular_plurals"]}
    forms = sorted({*words, *plurals.values()}, key=len, reverse=True)
    relation = "(?P<rel>" + "|".join(re.escape(w) for w in forms) + ")"
    mine = r"(?:\bmy|\bour)\s+(?:(?:best|old|little|big|older|younger|new|oldest|youngest|late)\s+)?"
    return _Table(
        after=re.compile(rf"{mine}{relation}\b,?\s+(?P<name>{_NAME})\b", re.I),
        pair=re.compile(
            rf"{mine}{relation}\b[.,:;]?\s+(?P<one>{_NAME})\s+(?:and|&)\s+(?P<two>{_NAME})\b", re.I
        ),
        before=re.compile(
            rf"\b(?P<name>{_NAME})\s*[,(–-]\s*(?:she's|he's|they're|who's)?\s*{mine}{relation}\b", re.I
        ),
        not_names=frozenset(w.lower() for w in str(data["not_names"]).split()),
    )


def _is_name(word: str, table: _Table) -> bool:
    return word[:1].isupper() and word.lower() not in table.not_names


def people_in(text: str, user: str = "") -> list[Someone]:
    """Everyone named next to their relation in ``text`` (never the person themselves)."""
    table = _table()
    found: dict[str, Someone] = {}

    def keep(name: str, relation: str, one_of: bool = False) -> None:
        if _is_name(name, table) and name.lower() != user.lower() and name.lower() not in found:
            found[name.lower()] = Someone(name, relation.lower(), one_of)

    for match in table.pair.finditer(text):
        keep(match.group("one"), match.group("rel"), True)
        keep(match.group("two"), match.group("rel"), True)
    for pattern in (table.after, table.before):
        for match in pattern.finditer(text):
            keep(match.group("name"), match.group("rel"))
    return list(found.values())


def with_people(
    proposals: list[Proposal], lines: Sequence[Line], known: Sequence[PlanEntry], user: str
) -> list[Proposal]:
    """``proposals`` with a person entry for everyone named with their relation in the
    person's lines (citing the line), in place of the model's entry for the same name; no one
    already in the ledger is added again."""
    noted = {e.text.split(",")[0].strip().lower() for e in known if e.kind is PlanKind.PERSON}
    found: dict[str, NewEntry] = {}
    for line in lines:
        if line.number:
            for someone in people_in(line.text, user):
                key = someone.name.lower()
                if key not in noted and key not in found:
                    found[key] = NewEntry(PlanKind.PERSON, someone.note, None, (line.number,))
    kept = [
        p
        for p in proposals
        if not (
            isinstance(p, NewEntry)
            and p.kind is PlanKind.PERSON
            and p.replaces is None
            and any(re.search(rf"\b{re.escape(name)}\b", p.text, re.I) for name in [*found, *noted])
        )
    ]
    return kept + list(found.values())
