"""The plans ledger: entries with a status and a history that never erases, the turns they
cite, and every guarantee of the person's store (forgetting, export/import, isolation).
Real SQLite store and embedding model."""

from __future__ import annotations

import json

import pytest
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.plan_transfer import PlanTransferError, import_plans, parse_plans
from joi_coach.memory.plans import PlanError, PlanKind, PlanStatus
from joi_coach.memory.transfer import dumps_export, export_json, import_memories, parse_import

NOW = 1_780_000_000.0
DAY = 86400.0


@pytest.fixture
def bank(tmp_path, embedder):
    bank = MemoryBank(tmp_path / "ann", embedder, progress=False)
    yield bank
    bank.close()


def said(bank: MemoryBank, *texts: str) -> list[int]:
    return bank.add([NewMemory(Stream.DIALOGUE, t, NOW + i, speaker="Ann") for i, t in enumerate(texts)])


def test_a_status_change_keeps_the_history_and_cites_the_turn(bank):
    [plan_turn, answer_turn] = said(bank, "I'll call my brother on Sunday", "I did call him, it went well")
    entry = bank.plans.add(
        "commitment", "call my brother", NOW, due_at=NOW + 3 * DAY, evidence=[plan_turn], by="joi"
    )
    assert entry.active and entry.kind is PlanKind.COMMITMENT and entry.evidence == (plan_turn,)
    done = bank.plans.set_status(entry.id, "done", NOW + 4 * DAY, evidence=[answer_turn], by="joi")
    assert done.status is PlanStatus.DONE and done.evidence == (plan_turn, answer_turn)
    history = bank.plans.history(entry.id)
    assert [(c.change, c.status.value, c.by) for c in history] == [
        ("noted", "active", "joi"),
        ("status", "done", "joi"),
    ]
    assert bank.plans.active() == []


def test_supersession_keeps_the_old_entry_readable_and_undo_takes_a_change_back(bank):
    old = bank.plans.add("limit", "no running until the stitches are out", NOW)
    new = bank.plans.supersede(old.id, "only 2 km runs for two weeks", NOW + DAY, by="person")
    old_now = bank.plans.get(old.id)
    assert old_now.status is PlanStatus.SUPERSEDED and old_now.superseded_by == new.id
    assert old_now.text == "no running until the stitches are out"
    assert [e.id for e in bank.plans.active()] == [new.id]
    edited = bank.plans.edit(new.id, "only 3 km runs for two weeks", NOW + 2 * DAY, due_at=None)
    assert edited.text == "only 3 km runs for two weeks"
    back = bank.plans.undo(new.id, NOW + 3 * DAY)
    assert back.text == "only 2 km runs for two weeks"
    assert [c.change for c in bank.plans.history(new.id)] == ["added", "edited", "undone"]
    restored = bank.plans.undo(old.id, NOW + 3 * DAY)
    assert restored.status is PlanStatus.ACTIVE and restored.superseded_by is None
    with pytest.raises(PlanError):
        bank.plans.undo(bank.plans.add("goal", "sleep by 11", NOW).id, NOW)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ledger: ledger.add("goal", "   ", NOW), "needs some words"),
        (lambda ledger: ledger.add("goal", "x" * 301, NOW), "at most"),
        (lambda ledger: ledger.add("goal", "run", NOW, by="joi"), "cites the turns"),
        (lambda ledger: ledger.add("wish", "run", NOW), "not a valid"),
    ],
)
def test_bad_entries_are_refused_with_a_reason(bank, call, message):
    with pytest.raises(ValueError, match=message):
        call(bank.plans)
    assert bank.plans.count() == 0


def test_forgetting_the_only_turn_removes_what_joi_noted_from_it_and_keeps_the_persons_own(bank):
    [first, second] = said(bank, "My doctor said no lifting over 5 kg", "My sister Maya lives nearby")
    limit = bank.plans.add("limit", "no lifting over 5 kg", NOW, evidence=[first], by="joi")
    sister = bank.plans.add("person", "Maya, my sister", NOW, evidence=[first, second], by="joi")
    mine = bank.plans.add("goal", "walk every day", NOW)  # added by hand: cites no turn
    bank.forget(first)
    left = {e.id: e for e in bank.plans.entries()}
    assert limit.id not in left
    assert left[sister.id].evidence == (second,)  # still supported by the other turn
    assert mine.id in left


def test_export_and_import_carry_entries_history_and_evidence(tmp_path, embedder, bank):
    [turn] = said(bank, "I'll run three times this week")
    entry = bank.plans.add(
        "commitment", "run three times this week", NOW, due_at=NOW + 5 * DAY, evidence=[turn], by="joi"
    )
    bank.plans.supersede(entry.id, "run twice this week", NOW + DAY, evidence=[turn], by="joi")
    raw = dumps_export(export_json(bank))
    other = MemoryBank(tmp_path / "bob", embedder, progress=False)
    try:
        report = import_memories(other, parse_import(raw))
        assert import_plans(other, parse_plans(json.loads(raw)), report.id_map) == 2
        entries = {e.text: e for e in other.plans.entries()}
        old, new = entries["run three times this week"], entries["run twice this week"]
        assert old.superseded_by == new.id and old.due_at == NOW + 5 * DAY
        assert [c.change for c in other.plans.history(old.id)] == ["noted", "superseded"]
        assert [m.text for m in other.get(list(new.evidence))] == ["I'll run three times this week"]
        # importing the same file again adds nothing
        report = import_memories(other, parse_import(raw))
        assert import_plans(other, parse_plans(json.loads(raw)), report.id_map) == 0
    finally:
        other.close()


@pytest.mark.parametrize(
    "plans",
    [
        "not a list",
        [{"id": 1, "kind": "wish", "text": "x", "status": "active", "created_at": 1}],
        [{"id": 1, "kind": "goal", "text": "", "status": "active", "created_at": 1}],
        [{"id": 1, "kind": "goal", "text": "x", "status": "active", "created_at": float("nan")}],
        [{"id": True, "kind": "goal", "text": "x", "status": "active", "created_at": 1}],
    ],
)
def test_a_malformed_plans_list_is_refused(plans):
    with pytest.raises(PlanTransferError):
        parse_plans({"plans": plans})


def test_each_person_has_their_own_ledger(tmp_path, embedder):
    ann = MemoryBank(tmp_path / "ann", embedder, progress=False)
    bob = MemoryBank(tmp_path / "bob", embedder, progress=False)
    try:
        ann.plans.add("goal", "quit sugar", NOW)
        assert bob.plans.entries() == [] and [e.text for e in ann.plans.entries()] == ["quit sugar"]
    finally:
        ann.close()
        bob.close()
