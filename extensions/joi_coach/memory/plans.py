"""What Joi keeps of the person's plans: goals, commitments, limits, people, triggers, what helps.

A ledger in the person's own store (so backups, encryption, forgetting and per-person
isolation cover it like their memories). Each entry has a status and the time of every
change; a change never erases: an edit or a status change is a new row of the entry's
history, and a replaced entry stays readable as "superseded by #n". An entry Joi noted cites
the turns it came from (``plan_evidence``); forgetting those turns removes it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sqlite_store import SqliteMemoryStore

__all__ = ["MAX_PLAN_CHARS", "PlanChange", "PlanEntry", "PlanError", "PlanKind", "PlanLedger", "PlanStatus"]

MAX_PLAN_CHARS = 300


class PlanKind(str, Enum):
    GOAL = "goal"
    COMMITMENT = "commitment"
    LIMIT = "limit"
    PERSON = "person"
    TRIGGER = "trigger"
    HELPS = "helps"


class PlanStatus(str, Enum):
    ACTIVE = "active"
    DONE = "done"
    MISSED = "missed"
    DROPPED = "dropped"
    SUPERSEDED = "superseded"


class PlanError(ValueError):
    """A change the ledger cannot make (says why)."""


@dataclass(frozen=True)
class PlanEntry:
    id: int
    kind: PlanKind
    text: str
    status: PlanStatus
    due_at: float | None
    created_at: float
    updated_at: float
    added_by: str  # "joi" (noted from the conversation) or "person" (added by hand)
    superseded_by: int | None = None
    followed_up_at: float | None = None
    evidence: tuple[int, ...] = ()

    @property
    def active(self) -> bool:
        return self.status is PlanStatus.ACTIVE


@dataclass(frozen=True)
class PlanChange:
    """One row of an entry's history: what it was after the change, and who made it."""

    at: float
    change: str  # noted, added, edited, status, superseded, undone
    status: PlanStatus
    text: str
    due_at: float | None
    by: str


_COLUMNS = "id, kind, text, status, due_at, created_at, updated_at, added_by, superseded_by, followed_up_at"


def _clean_text(text: str) -> str:
    text = " ".join(str(text).split())
    if not text:
        raise PlanError("an entry needs some words")
    if len(text) > MAX_PLAN_CHARS:
        raise PlanError(f"an entry is at most {MAX_PLAN_CHARS} characters")
    return text


class PlanLedger:
    """The ledger of one person's store. Every change is one transaction."""

    def __init__(self, store: SqliteMemoryStore) -> None:
        self._store = store

    # -- reads ----------------------------------------------------------------------------
    def entries(self, statuses: Iterable[PlanStatus] | None = None) -> list[PlanEntry]:
        """Entries, newest first (only those with one of ``statuses``, when given)."""
        rows = self._store.read(f"SELECT {_COLUMNS} FROM plans ORDER BY id DESC", ())
        wanted = None if statuses is None else {PlanStatus(s) for s in statuses}
        entries = [self._entry(row) for row in rows]
        return [e for e in entries if wanted is None or e.status in wanted]

    def active(self) -> list[PlanEntry]:
        return self.entries([PlanStatus.ACTIVE])

    def get(self, plan_id: int) -> PlanEntry:
        rows = self._store.read(f"SELECT {_COLUMNS} FROM plans WHERE id = ?", (int(plan_id),))
        if not rows:
            raise KeyError(f"no plan entry {plan_id}")
        return self._entry(rows[0])

    def history(self, plan_id: int) -> list[PlanChange]:
        rows = self._store.read(
            "SELECT at, change, status, text, due_at, by FROM plan_history WHERE plan_id = ? ORDER BY id",
            (int(plan_id),),
        )
        return [
            PlanChange(float(r[0]), str(r[1]), PlanStatus(r[2]), str(r[3]), r[4], str(r[5])) for r in rows
        ]

    def count(self) -> int:
        return int(self._store.read("SELECT COUNT(*) FROM plans", ())[0][0])

    def _entry(self, row: Sequence) -> PlanEntry:
        evidence = tuple(
            int(r[0])
            for r in self._store.read(
                "SELECT memory_id FROM plan_evidence WHERE plan_id = ? ORDER BY memory_id", (row[0],)
            )
        )
        return PlanEntry(
            id=int(row[0]),
            kind=PlanKind(row[1]),
            text=str(row[2]),
            status=PlanStatus(row[3]),
            due_at=None if row[4] is None else float(row[4]),
            created_at=float(row[5]),
            updated_at=float(row[6]),
            added_by=str(row[7]),
            superseded_by=None if row[8] is None else int(row[8]),
            followed_up_at=None if row[9] is None else float(row[9]),
            evidence=evidence,
        )

    # -- changes --------------------------------------------------------------------------
    def add(
        self,
        kind: PlanKind | str,
        text: str,
        now: float,
        *,
        due_at: float | None = None,
        evidence: Sequence[int] = (),
        by: str = "person",
    ) -> PlanEntry:
        """A new active entry. One Joi noted (``by="joi"``) must cite the turns it came from."""
        kind, text = PlanKind(kind), _clean_text(text)
        if by == "joi" and not evidence:
            raise PlanError("an entry Joi notes cites the turns it came from")
        with self._store.transaction() as db:
            plan_id = self._insert(
                db, kind, text, now, due_at, evidence, by, "noted" if by == "joi" else "added"
            )
        return self.get(plan_id)

    def set_status(
        self,
        plan_id: int,
        status: PlanStatus | str,
        now: float,
        *,
        evidence: Sequence[int] = (),
        by: str = "person",
    ) -> PlanEntry:
        status = PlanStatus(status)
        if status is PlanStatus.SUPERSEDED:
            raise PlanError("an entry is superseded by a newer one: use supersede")
        entry = self.get(plan_id)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE plans SET status = ?, updated_at = ? WHERE id = ?", (status.value, now, entry.id)
            )
            self._cite(db, entry.id, evidence)
            self._log(db, entry.id, now, "status", status, entry.text, entry.due_at, by)
        return self.get(entry.id)

    def edit(
        self, plan_id: int, text: str, now: float, *, due_at: float | None, by: str = "person"
    ) -> PlanEntry:
        """New words or due time for an entry; the old ones stay in its history."""
        entry, text = self.get(plan_id), _clean_text(text)
        with self._store.transaction() as db:
            db.execute(
                "UPDATE plans SET text = ?, due_at = ?, updated_at = ? WHERE id = ?",
                (text, due_at, now, entry.id),
            )
            self._log(db, entry.id, now, "edited", entry.status, text, due_at, by)
        return self.get(entry.id)

    def supersede(
        self,
        plan_id: int,
        text: str,
        now: float,
        *,
        due_at: float | None = None,
        evidence: Sequence[int] = (),
        by: str = "person",
    ) -> PlanEntry:
        """Replace an entry by a newer one (returned); the old one reads "superseded by #new"."""
        old, text = self.get(plan_id), _clean_text(text)
        if by == "joi" and not evidence:
            raise PlanError("an entry Joi notes cites the turns it came from")
        with self._store.transaction() as db:
            new_id = self._insert(
                db, old.kind, text, now, due_at, evidence, by, "noted" if by == "joi" else "added"
            )
            db.execute(
                "UPDATE plans SET status = 'superseded', superseded_by = ?, updated_at = ? WHERE id = ?",
                (new_id, now, old.id),
            )
            self._log(db, old.id, now, "superseded", PlanStatus.SUPERSEDED, old.text, old.due_at, by)
        return self.get(new_id)

    def undo(self, plan_id: int, now: float) -> PlanEntry:
        """Take back the entry's last change (its status, words and due time as before it).
        An entry with nothing to take back raises PlanError."""
        entry = self.get(plan_id)
        history = self.history(entry.id)
        if len(history) < 2:
            raise PlanError("nothing to undo: the entry is as it was first noted")
        before = history[-2]
        with self._store.transaction() as db:
            superseded_by = entry.superseded_by if before.status is PlanStatus.SUPERSEDED else None
            db.execute(
                "UPDATE plans SET status = ?, text = ?, due_at = ?, superseded_by = ?, updated_at = ? WHERE id = ?",
                (before.status.value, before.text, before.due_at, superseded_by, now, entry.id),
            )
            self._log(db, entry.id, now, "undone", before.status, before.text, before.due_at, "person")
        return self.get(entry.id)

    def mark_followed_up(self, plan_id: int, now: float) -> None:
        """Joi asked about the entry (a follow-up is not asked twice for the same due time)."""
        with self._store.transaction() as db:
            db.execute("UPDATE plans SET followed_up_at = ? WHERE id = ?", (now, int(plan_id)))

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One transaction on the store (for an import that adds many entries at once)."""
        return self._store.transaction()

    def cite(self, plan_id: int, evidence: Sequence[int]) -> None:
        with self._store.transaction() as db:
            self._cite(db, int(plan_id), evidence)

    # -- inside a transaction -------------------------------------------------------------
    def _insert(
        self,
        db: sqlite3.Connection,
        kind: PlanKind,
        text: str,
        now: float,
        due_at: float | None,
        evidence: Sequence[int],
        by: str,
        change: str,
    ) -> int:
        cursor = db.execute(
            "INSERT INTO plans (kind, text, status, due_at, created_at, updated_at, added_by) "
            "VALUES (?, ?, 'active', ?, ?, ?, ?)",
            (kind.value, text, due_at, now, now, "joi" if by == "joi" else "person"),
        )
        plan_id = int(cursor.lastrowid or 0)
        self._cite(db, plan_id, evidence)
        self._log(db, plan_id, now, change, PlanStatus.ACTIVE, text, due_at, by)
        return plan_id

    @staticmethod
    def _cite(db: sqlite3.Connection, plan_id: int, evidence: Sequence[int]) -> None:
        for memory_id in dict.fromkeys(int(m) for m in evidence):
            db.execute(
                "INSERT OR IGNORE INTO plan_evidence (plan_id, memory_id) "
                "SELECT ?, id FROM memories WHERE id = ?",
                (plan_id, memory_id),
            )

    @staticmethod
    def _log(
        db: sqlite3.Connection,
        plan_id: int,
        now: float,
        change: str,
        status: PlanStatus,
        text: str,
        due_at: float | None,
        by: str,
    ) -> None:
        db.execute(
            "INSERT INTO plan_history (plan_id, at, change, status, text, due_at, by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (plan_id, now, change, status.value, text, due_at, by),
        )
