"""The ledger in a memory export: written beside the memories, read back with their new ids.

An export's ``plans`` list holds every entry with its history and the ids (in the file) of
the turns it cites. On import an entry is added with its whole history; its evidence is
remapped to the imported turns; an entry already there (same kind, words and creation
time) is skipped. Nothing in the file is trusted: kinds, statuses, times and lengths are
checked, and a malformed ``plans`` list imports nothing of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .bank import MemoryBank
from .plans import MAX_PLAN_CHARS, PlanKind, PlanStatus

MAX_PLANS = 5000
MAX_HISTORY = 200


class PlanTransferError(ValueError):
    """The export's plans cannot be read (says which entry and why)."""


@dataclass(frozen=True)
class ImportedPlan:
    id: int
    kind: PlanKind
    text: str
    status: PlanStatus
    due_at: float | None
    created_at: float
    added_by: str
    superseded_by: int | None
    followed_up_at: float | None
    history: tuple[tuple[float, str, PlanStatus, str, float | None, str], ...]
    evidence: tuple[int, ...]


def export_plans(bank: MemoryBank) -> list[dict[str, Any]]:
    ledger = bank.plans
    out = []
    for entry in reversed(ledger.entries()):  # oldest first
        out.append(
            {
                "id": entry.id,
                "kind": entry.kind.value,
                "text": entry.text,
                "status": entry.status.value,
                "due_at": entry.due_at,
                "created_at": entry.created_at,
                "added_by": entry.added_by,
                "superseded_by": entry.superseded_by,
                "followed_up_at": entry.followed_up_at,
                "evidence": list(entry.evidence),
                "history": [
                    {
                        "at": c.at,
                        "change": c.change,
                        "status": c.status.value,
                        "text": c.text,
                        "due_at": c.due_at,
                        "by": c.by,
                    }
                    for c in ledger.history(entry.id)
                ],
            }
        )
    return out


def _time(where: str, value: object, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise PlanTransferError(f"{where}: a time is a number of seconds, not {str(value)[:40]!r}")
    return float(value)


def _text(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PLAN_CHARS:
        raise PlanTransferError(f"{where}: the words must be text of 1 to {MAX_PLAN_CHARS} characters")
    return " ".join(value.split())


def parse_plans(data: object) -> list[ImportedPlan]:
    """The plans of a parsed export ({} or no ``plans``: none)."""
    plans = data.get("plans", []) if isinstance(data, dict) else []
    if not isinstance(plans, list) or len(plans) > MAX_PLANS:
        raise PlanTransferError(f"the export's 'plans' must be a list of at most {MAX_PLANS} entries")
    parsed = []
    for n, item in enumerate(plans, 1):
        where = f"plan {n}"
        if not isinstance(item, dict):
            raise PlanTransferError(f"{where}: an entry is an object")
        try:
            kind, status = PlanKind(item.get("kind")), PlanStatus(item.get("status"))
        except ValueError as exc:
            raise PlanTransferError(f"{where}: {exc}") from None
        plan_id = item.get("id")
        if isinstance(plan_id, bool) or not isinstance(plan_id, int):
            raise PlanTransferError(f"{where}: its id must be a whole number")
        history_raw = item.get("history") or []
        if not isinstance(history_raw, list) or len(history_raw) > MAX_HISTORY:
            raise PlanTransferError(f"{where}: its history must be a list of at most {MAX_HISTORY} changes")
        history = []
        for change in history_raw:
            if not isinstance(change, dict):
                raise PlanTransferError(f"{where}: a change is an object")
            try:
                change_status = PlanStatus(change.get("status"))
            except ValueError as exc:
                raise PlanTransferError(f"{where}: {exc}") from None
            history.append(
                (
                    _time(where, change.get("at")) or 0.0,
                    str(change.get("change", "noted"))[:20],
                    change_status,
                    _text(where, change.get("text")),
                    _time(where, change.get("due_at"), optional=True),
                    "joi" if change.get("by") == "joi" else "person",
                )
            )
        evidence = item.get("evidence") or []
        if not isinstance(evidence, list) or not all(
            isinstance(e, int) and not isinstance(e, bool) for e in evidence
        ):
            raise PlanTransferError(f"{where}: evidence is a list of memory ids")
        superseded_by = item.get("superseded_by")
        parsed.append(
            ImportedPlan(
                plan_id,
                kind,
                _text(where, item.get("text")),
                status,
                _time(where, item.get("due_at"), optional=True),
                _time(where, item.get("created_at")) or 0.0,
                "joi" if item.get("added_by") == "joi" else "person",
                superseded_by
                if isinstance(superseded_by, int) and not isinstance(superseded_by, bool)
                else None,
                _time(where, item.get("followed_up_at"), optional=True),
                tuple(history),
                tuple(evidence),
            )
        )
    return parsed


def import_plans(bank: MemoryBank, plans: list[ImportedPlan], id_map: dict[int, int]) -> int:
    """Add the imported entries (evidence remapped through ``id_map``); returns how many."""
    existing = {(e.kind, e.text, e.created_at) for e in bank.plans.entries()}
    new_ids: dict[int, int] = {}
    added = 0
    with bank.plans.transaction() as db:
        for plan in plans:
            if (plan.kind, plan.text, plan.created_at) in existing:
                continue
            history = plan.history or (
                (plan.created_at, "noted", plan.status, plan.text, plan.due_at, plan.added_by),
            )
            cursor = db.execute(
                "INSERT INTO plans (kind, text, status, due_at, created_at, updated_at, added_by, followed_up_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    plan.kind.value,
                    plan.text,
                    plan.status.value,
                    plan.due_at,
                    plan.created_at,
                    max(h[0] for h in history),
                    plan.added_by,
                    plan.followed_up_at,
                ),
            )
            new_id = int(cursor.lastrowid or 0)
            new_ids[plan.id] = new_id
            db.executemany(
                "INSERT INTO plan_history (plan_id, at, change, status, text, due_at, by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (new_id, at, change, status.value, text, due, by)
                    for at, change, status, text, due, by in history
                ],
            )
            for memory_id in plan.evidence:
                if memory_id in id_map:
                    db.execute(
                        "INSERT OR IGNORE INTO plan_evidence (plan_id, memory_id) SELECT ?, id FROM memories WHERE id = ?",
                        (new_id, id_map[memory_id]),
                    )
            added += 1
        for plan in plans:
            if plan.id in new_ids and plan.superseded_by in new_ids:
                db.execute(
                    "UPDATE plans SET superseded_by = ? WHERE id = ?",
                    (new_ids[plan.superseded_by], new_ids[plan.id]),
                )
    return added
