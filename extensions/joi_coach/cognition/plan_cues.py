"""Commitments and limits the person states, found by their cue words and phrased by the model.

The noting step (:mod:`.plan_notes`) leaves many stated commitments out: a small model reading
several lines against a list of kinds misses "I'm calling him tomorrow after work". The words
that make a sentence a commitment ("I'll", "I'm going to", "gonna", "I'm …ing tonight") or a
limit with its number ("max 20 minutes", "no running until …") are few and plain, so code finds
those sentences from a table (``data/plan_cues.yaml``; a hedge before the cue, a question, or
"I'll try" are not cues). Each found sentence gets its own short question: the model only
rewrites it as a note (naming who or what instead of "him" or "it"), and the note goes through
the same checks as every other (numbers and names from the line; due day worked out by code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..llm.base import ChatMessage, GenerationParams
from ..memory.plans import PlanEntry, PlanKind
from .plan_cue_rules import SENTENCE, cue_rules, cued_clause
from .plan_notes import Complete, Line, NewEntry, Proposal, parse_proposals, read_written, without_repeats
from .prompt import quote

MAX_CUES = 4  # sentences asked about per group of lines
PARAMS = GenerationParams(max_tokens=48, temperature=0.0, top_p=1.0, repeat_penalty=1.0, stop=("\n",))


@dataclass(frozen=True)
class Cue:
    kind: PlanKind
    line: int
    sentence: str


def cued_sentences(lines: Sequence[Line]) -> list[Cue]:
    """The person's sentences that state a commitment (from its cue on) or a limit (whole), at
    most MAX_CUES."""
    found: list[Cue] = []
    for line in lines:
        if not line.number:
            continue
        for sentence in (s.strip() for s in SENTENCE.findall(line.text.replace("’", "'"))):
            for kind, rules in sorted(cue_rules().items(), key=lambda item: item[0] is not PlanKind.LIMIT):
                clause = cued_clause(sentence, rules) if sentence else ""
                if clause:  # a limit keeps its whole sentence: "doc says I can jog, but max 20 min"
                    found.append(Cue(kind, line.number, clause if kind is PlanKind.COMMITMENT else sentence))
                    break
    return found[:MAX_CUES]


_SYSTEM = {
    PlanKind.COMMITMENT: """You write one line in a coach's notebook about {user}. In the sentence shown, {user} says what they will do. Write that step in {user}'s words: who or what by name (never "him", "her", "it" or "that"), keeping {user}'s numbers; then when, in {user}'s own words, or none. Answer in this form only:
<the step> (when: <when, or none>)""",
    PlanKind.LIMIT: """You write one line in a coach's notebook about {user}. In the sentence shown, {user} names a rule they must keep. Write the rule in {user}'s words: what it is about and its numbers, and who set it if {user} said; then until when, in {user}'s own words, or none. Answer in this form only:
<the rule> (when: <until when, or none>)""",
}
_EXAMPLES = {
    PlanKind.COMMITMENT: (
        (
            'Joi asked: "Who could help you with the move?"\n'
            'Lee wrote: "my cousin Ana I guess. I\'ll text her tomorrow morning"\n'
            'The sentence: "I\'ll text her tomorrow morning"',
            "text my cousin Ana about helping with the move (when: tomorrow morning)",
        ),
        (
            'Lee wrote: "ok gonna walk 20 minutes after lunch every day"\n'
            'The sentence: "ok gonna walk 20 minutes after lunch every day"',
            "walk 20 minutes after lunch every day (when: none)",
        ),
    ),
    PlanKind.LIMIT: (
        (
            'Lee wrote: "knee still swollen. physio says max 2 km walks for now"\n'
            'The sentence: "physio says max 2 km walks for now"',
            "physio: walks of max 2 km (when: none)",
        ),
    ),
}


def cue_prompt(user: str, cue: Cue, lines: Sequence[Line]) -> list[ChatMessage]:
    at = next(i for i, line in enumerate(lines) if line.number == cue.line)
    before = lines[at - 1] if at and lines[at - 1].number == 0 else None
    asked = f"Joi asked: {quote(before.text)}\n" if before else ""
    question = f"{asked}{user} wrote: {quote(lines[at].text)}\nThe sentence: {quote(cue.sentence)}"
    messages: list[ChatMessage] = [{"role": "system", "content": _SYSTEM[cue.kind].format(user=user)}]
    for example, answer in _EXAMPLES[cue.kind]:
        messages += [
            {"role": "user", "content": example.replace("Lee", user)},
            {"role": "assistant", "content": answer},
        ]
    messages.append({"role": "user", "content": question})
    return messages


def cued_notes(
    complete: Complete, user: str, lines: Sequence[Line], known: Sequence[PlanEntry]
) -> list[NewEntry]:
    """A checked note for each cued sentence (none where the model's answer fails a check)."""
    notes: list[NewEntry] = []
    for cue in cued_sentences(lines):
        written = read_written(complete(cue_prompt(user, cue, lines), PARAMS))
        if written is None:
            continue
        text, when = written
        cited = ", ".join(str(n) for n in _lines_naming(text, cue.line, lines))
        line = f"NEW {cue.kind.value} | {text} | due: {when} | from: {cited}"
        notes += [p for p in parse_proposals(line, lines, known, user) if isinstance(p, NewEntry)]
    return notes


def _lines_naming(note: str, line: int, lines: Sequence[Line]) -> list[int]:
    """The cue's line, and the person's earlier lines naming someone the note names ("call
    Tomasz" from "I'm calling him", Tomasz named a line before): the note cites both."""
    names = set(re.findall(r"\b[A-Z][a-z]{2,}\b", note))
    naming = {
        other.number
        for other in lines
        if 0 < other.number < line and any(re.search(rf"\b{n}\b", other.text) for n in names)
    }
    return sorted({line, *naming})


def with_cued_notes(
    complete: Complete,
    user: str,
    lines: Sequence[Line],
    known: Sequence[PlanEntry],
    proposals: list[Proposal],
) -> list[Proposal]:
    """``proposals`` with the cued notes in place of the noting step's notes of the same kind
    from the same lines."""
    cued = cued_notes(complete, user, lines, known)
    covered = {(note.kind, n) for note in cued for n in note.lines}
    kept = [
        p
        for p in proposals
        if not (
            isinstance(p, NewEntry) and p.replaces is None and any((p.kind, n) in covered for n in p.lines)
        )
    ]
    return without_repeats([*cued, *kept], known)  # the cued note first: it wins a repeat
