"""Keeping the ledger current: the background step that notes plans from new turns.

After the replies' importance is rated, the person's dialogue lines since the last note
(``plans_noted_max_id``) are read in groups, the model proposes (:mod:`.plan_notes`), and
each checked proposal is applied, citing the turns it came from.
"""

from __future__ import annotations

import logging

from ..memory.bank import MemoryBank
from ..memory.models import Memory, Stream
from ..memory.plans import PlanEntry, PlanError, PlanStatus
from .people import with_people
from .plan_cues import with_cued_notes
from .plan_notes import MAX_LINES, Complete, Line, NewEntry, Proposal, StatusChange, propose
from .plan_status import check_statuses

log = logging.getLogger(__name__)
PLANS_MARK = "plans_noted_max_id"  # meta key: highest dialogue id already read for plans
READ_BACK = 60  # dialogue lines looked at per step


def pending_lines(bank: MemoryBank, coach_name: str) -> list[list[Memory]]:
    """The dialogue since the mark, in groups of at most MAX_LINES of the person's lines."""
    mark = int(bank.get_meta(PLANS_MARK) or 0)
    recent = [m for m in reversed(bank.memories(Stream.DIALOGUE, limit=READ_BACK)) if m.id > mark]
    groups: list[list[Memory]] = [[]]
    for memory in recent:
        theirs = sum(m.speaker != coach_name for m in groups[-1])
        if memory.speaker != coach_name and theirs >= MAX_LINES:
            groups.append([])
        groups[-1].append(memory)
    return [g for g in groups if any(m.speaker != coach_name for m in g)]


def as_lines(memories: list[Memory], coach_name: str) -> list[Line]:
    lines, number = [], 0
    for memory in memories:
        if memory.speaker == coach_name:
            lines.append(Line(0, memory.text, memory.created_at, memory.id))
        else:
            number += 1
            lines.append(Line(number, memory.text, memory.created_at, memory.id))
    return lines


def apply(bank: MemoryBank, proposals: list[Proposal], lines: list[Line]) -> int:
    """Apply checked proposals to the ledger; returns how many changed it."""
    ledger, by_number = bank.plans, {line.number: line for line in lines if line.number}
    applied = 0
    for proposal in proposals:
        evidence = [m for m in (by_number[n].memory_id for n in proposal.lines) if m is not None]
        at = max(by_number[n].at for n in proposal.lines)
        try:
            if isinstance(proposal, StatusChange):
                if ledger.get(proposal.plan_id).status is PlanStatus.ACTIVE:
                    ledger.set_status(proposal.plan_id, proposal.status, at, evidence=evidence, by="joi")
                    applied += 1
            elif isinstance(proposal, NewEntry) and proposal.replaces is not None:
                if ledger.get(proposal.replaces).status is PlanStatus.ACTIVE:
                    ledger.supersede(
                        proposal.replaces,
                        proposal.text,
                        at,
                        due_at=proposal.due_at,
                        evidence=evidence,
                        by="joi",
                    )
                    applied += 1
            else:
                ledger.add(
                    proposal.kind, proposal.text, at, due_at=proposal.due_at, evidence=evidence, by="joi"
                )
                applied += 1
        except (KeyError, PlanError) as exc:
            log.info("a plan proposal was not applied: %s", type(exc).__name__)
    return applied


def proposals_for(complete: Complete, user: str, lines: list[Line], known: list[PlanEntry]) -> list[Proposal]:
    """The noting step's checked proposals, with the focused steps' answers where they decide:
    stated commitments and limits (:mod:`.plan_cues`), each touched entry's status
    (:mod:`.plan_status`), and the people named with their relation (:mod:`.people`)."""
    proposals = with_cued_notes(complete, user, lines, known, propose(complete, user, lines, known))
    proposals = check_statuses(complete, user, lines, known, proposals)
    return with_people(proposals, lines, known, user)


def note_plans(bank: MemoryBank, complete: Complete, user: str, coach_name: str) -> int:
    """Read the new dialogue for plans (a background step); returns the ledger changes made."""
    changed = 0
    for group in pending_lines(bank, coach_name):
        lines = as_lines(group, coach_name)
        proposals = proposals_for(complete, user, lines, bank.plans.active())
        changed += apply(bank, proposals, lines)
        bank.set_meta(PLANS_MARK, str(max(m.id for m in group)))
    if changed:
        log.info("plans: %d ledger changes noted", changed)
    return changed
