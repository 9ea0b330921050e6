"""What became of a known plan: one short, focused question per ledger entry the new lines touch.

The noting step (:mod:`.plan_notes`) reads all new lines against the whole ledger, which is a
lot for a small model; status changes ("did both!!", "gave up on it") are what it misses most.
So each active entry the conversation touches (a content word shared with the person's lines
or with Joi's question before them) gets its own question, answered in one word. That answer
decides the entry's status change: it adds one the noting step missed, and it overrules one the
noting step proposed when it says the entry still stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..llm.base import ChatMessage, GenerationParams
from ..memory.plans import PlanEntry, PlanKind, PlanStatus
from .plan_notes import Complete, Line, NewEntry, Proposal, StatusChange, parse_proposals, read_written
from .plan_use import content_words
from .prompt import quote

PARAMS = GenerationParams(max_tokens=4, temperature=0.0, top_p=1.0, repeat_penalty=1.0, stop=("\n",))
MAX_ASKED = 4  # entries asked about per group of lines
SHOWN_LINES = 4  # the person's lines shown with each question
NEW_VERSION_PARAMS = GenerationParams(
    max_tokens=48, temperature=0.0, top_p=1.0, repeat_penalty=1.0, stop=("\n",)
)
CHANGED = PlanStatus.SUPERSEDED  # read_answer's word for "changed": a new version is asked for
_ANSWERS = {
    "did": PlanStatus.DONE,
    "done": PlanStatus.DONE,
    "missed": PlanStatus.MISSED,
    "dropped": PlanStatus.DROPPED,
    "changed": CHANGED,
}
_STANDS = frozenset({"same", "open", "unclear", "active", "none"})
_CHECKED_KINDS = frozenset({PlanKind.COMMITMENT, PlanKind.GOAL, PlanKind.LIMIT})

_SYSTEM = """You keep a coach's notebook. You are shown one notebook entry and what {user} said since. Say what became of the entry, in one word:
same - it still stands as it is, or {user} did not say what became of it
changed - it has a new version now: another day or time, another number, another way
dropped - {user} gave it up, or the rule no longer applies
missed - the time came and {user} did not do it
did - {user} did it or reached it
Answer with the one word only."""

_EXAMPLES = (
    (
        'Entry: commitment "walk after lunch on Tuesday and Friday"\n'
        'Joi asked: "How did the walks go?"\n'
        'Lee said:\n- "only managed tuesday, friday it poured"\n',
        "missed",
    ),
    (
        'Entry: limit "physio: no lifting over 10 kg"\n'
        'Lee said:\n- "physio says I can go up to 15 kg now!"\n',
        "changed",
    ),
    (
        'Entry: commitment "call the bank on Monday"\nLee said:\n- "ugh the bank. still dreading it tbh"\n',
        "same",
    ),
    (
        'Entry: goal "learn Spanish before the trip"\n'
        'Lee said:\n- "honestly I\'m letting the Spanish thing go, the trip is off anyway"\n',
        "dropped",
    ),
    (
        'Entry: commitment "book the dentist this week"\n'
        'Joi asked: "Did the dentist call happen?"\n'
        'Lee said:\n- "yes! booked for the 3rd"\n',
        "did",
    ),
)

_NEW_VERSION = """Write the entry's new version in {user}'s words, then when it is due in {user}'s own words (or none), like this:
<the new version> (when: <when, or none>)"""


def touched(entry: PlanEntry, lines: Sequence[Line]) -> tuple[int, ...]:
    """The person's lines that speak to ``entry``: those sharing a content word with it, and
    those answering a Joi line that does."""
    words = content_words(entry.text)
    found: list[int] = []
    asked = False
    for line in lines:
        shares = bool(words & content_words(line.text))
        if line.number == 0:
            asked = shares
            continue
        if shares or asked:
            found.append(line.number)
        asked = False
    return tuple(found)


def status_prompt(
    user: str, entry: PlanEntry, lines: Sequence[Line], cited: Sequence[int]
) -> list[ChatMessage]:
    said = [line for line in lines if line.number in cited][:SHOWN_LINES]
    first = said[0].number if said else 0
    before = [line for line in lines if line.number == 0 and lines.index(line) < _position(lines, first)]
    asked = f"Joi asked: {quote(before[-1].text)}\n" if before else ""
    body = "\n".join(f"- {quote(line.text)}" for line in said)
    question = f"Entry: {entry.kind.value} {quote(entry.text)}\n{asked}{user} said:\n{body}\n"
    messages: list[ChatMessage] = [{"role": "system", "content": _SYSTEM.format(user=user)}]
    for asked_example, answered in _EXAMPLES:
        messages += [{"role": "user", "content": asked_example}, {"role": "assistant", "content": answered}]
    messages.append({"role": "user", "content": question})
    return messages


def _position(lines: Sequence[Line], number: int) -> int:
    return next((i for i, line in enumerate(lines) if line.number == number), len(lines))


def read_answer(answer: str) -> PlanStatus | None:
    """The status in a one-word answer (SUPERSEDED for "changed"); None when the entry stands
    (or the answer is unreadable)."""
    word = re.match(r"\W*([a-z]+)", str(answer).lower())
    if word is None or word.group(1) in _STANDS:
        return None
    return _ANSWERS.get(word.group(1))


def check_statuses(
    complete: Complete,
    user: str,
    lines: Sequence[Line],
    known: Sequence[PlanEntry],
    proposals: list[Proposal],
) -> list[Proposal]:
    """``proposals`` with each touched entry's status decided by its own question; an entry
    that changed gets its new version from a second question (checked like every note)."""
    replaced = {p.replaces for p in proposals if isinstance(p, NewEntry) and p.replaces is not None}
    asked: dict[int, Proposal | None] = {}
    for entry in known:
        if len(asked) >= MAX_ASKED:
            break
        if entry.status is not PlanStatus.ACTIVE or entry.kind not in _CHECKED_KINDS or entry.id in replaced:
            continue
        cited = touched(entry, lines)
        if not cited:
            continue
        messages = status_prompt(user, entry, lines, cited)
        status = read_answer(complete(messages, PARAMS))
        if status is CHANGED:
            asked[entry.id] = _new_version(complete, user, entry, lines, known, cited, messages)
        else:
            asked[entry.id] = StatusChange(entry.id, status, cited) if status is not None else None
    kept: list[Proposal] = [
        p for p in proposals if not (isinstance(p, StatusChange) and p.plan_id in asked)
    ]  # the focused question decides these entries
    return kept + [p for p in asked.values() if p is not None]


def _new_version(
    complete: Complete,
    user: str,
    entry: PlanEntry,
    lines: Sequence[Line],
    known: Sequence[PlanEntry],
    cited: tuple[int, ...],
    asked: list[ChatMessage],
) -> Proposal | None:
    """The changed entry's replacement, written by the model and checked by the noting parser
    (its numbers and names must be in the cited lines; its due time is worked out by code)."""
    messages: list[ChatMessage] = [
        *asked,
        {"role": "assistant", "content": "changed"},
        {"role": "user", "content": _NEW_VERSION.format(user=user)},
    ]
    written = read_written(complete(messages, NEW_VERSION_PARAMS))
    if written is None:
        return None
    text, when = written
    cites = ", ".join(str(n) for n in cited)
    parsed = parse_proposals(
        f"REPLACE #{entry.id} | {text} | due: {when} | from: {cites}", lines, known, user
    )
    return parsed[0] if parsed else None
