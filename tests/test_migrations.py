"""Schema migrations: every store written by an earlier Joi opens, upgraded, with nothing lost."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.migrations import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SchemaError,
    memory_checksum,
    migrate,
    stored_version,
)
from joi_coach.memory.models import Stream
from joi_coach.memory.sqlite_store import SqliteMemoryStore, StoreError

# Written by the code of 2026-11-29 (schema 1, before versions lived in PRAGMA user_version):
# five memories in two conversations, a reflection citing two of them, ratings, meta keys.
SCHEMA_1 = Path(__file__).parent / "data" / "stores" / "schema-1.sqlite3"


def version_of(path: Path) -> tuple[int, str]:
    db = sqlite3.connect(path)
    try:
        user_version = db.execute("PRAGMA user_version").fetchone()[0]
        meta = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        db.close()
    return user_version, meta


def indexes(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    finally:
        db.close()


@pytest.fixture
def old_store(tmp_path) -> Path:
    path = tmp_path / "memories.sqlite3"
    shutil.copyfile(SCHEMA_1, path)
    return path


def test_a_new_store_starts_at_the_latest_schema(tmp_path):
    SqliteMemoryStore(tmp_path / "new.sqlite3").close()
    assert version_of(tmp_path / "new.sqlite3") == (SCHEMA_VERSION, str(SCHEMA_VERSION))


def test_a_store_written_by_schema_1_code_opens_upgraded_with_everything_in_it(old_store):
    assert version_of(old_store) == (0, "1")
    store = SqliteMemoryStore(old_store)
    try:
        texts = {m.id: m for m in store.memories(limit=50)}
        assert len(texts) == 6
        [reflection] = store.memories(Stream.REFLECTION)
        assert set(reflection.evidence) == {1, 5} and reflection.depth == 1
        assert texts[1].importance == 8 and texts[1].importance_source == "llm"
        assert "<b>tags</b>" in texts[5].text and texts[5].conversation == "c2"
        assert store.get_meta("current_conversation") == "c2" and store.get_meta("user_name") == "Sam"
        assert next(i for i, _ in store.lexical_search(Stream.DIALOGUE, "sister Maya", 5)) == 1
        assert store.derived_from(5) == [reflection.id]
    finally:
        store.close()
    assert version_of(old_store) == (SCHEMA_VERSION, str(SCHEMA_VERSION))
    assert "memories_conversation" in indexes(old_store)


def test_a_schema_1_store_opens_in_a_bank_and_is_re_embedded(old_store, embedder):
    bank = MemoryBank(old_store.parent, embedder, progress=False)
    try:
        assert bank.vectors_from_other_models() == 0
        found = bank.recall("who is running the race with me", {Stream.DIALOGUE: 1}, now=1_700_900_000.0)
        assert "Maya" in found[Stream.DIALOGUE][0].memory.text
    finally:
        bank.close()


def test_each_later_migration_upgrades_the_one_before(tmp_path):
    db = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    try:
        assert migrate(db, MIGRATIONS[:1]) == ["initial_schema"]
        assert stored_version(db) == 1
        assert "memories_conversation" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        # conversation_index (schema 2)
        assert migrate(db, MIGRATIONS[:2]) == ["conversation_index"]
        plan = " ".join(
            str(r[-1])
            for r in db.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM memories WHERE conversation = 'c1' AND stream = 'dialogue'"
            )
        )
        assert "memories_conversation" in plan
        # safety_plan_table (schema 3)
        assert migrate(db, MIGRATIONS[:3]) == ["safety_plan_table"]
        db.execute("INSERT INTO safety_plan VALUES ('what_helps', 'a walk with Maya', 1.0)")
        with pytest.raises(sqlite3.IntegrityError):  # one row per section
            db.execute("INSERT INTO safety_plan VALUES ('what_helps', 'again', 2.0)")
        # memory_checksums (schema 4): kept by triggers on insert and on a change of words
        assert migrate(db, MIGRATIONS[:4]) == ["memory_checksums"]
        db.execute(
            "INSERT INTO memories (stream, text, created_at, last_accessed, embedding_model, vector) "
            "VALUES ('dialogue', 'I ran 5k', 1, 1, 'm', x'00')"
        )
        [(checksum,)] = db.execute("SELECT checksum FROM memories").fetchall()
        assert checksum == memory_checksum("I ran 5k", "", "")
        db.execute("UPDATE memories SET text = 'I ran 10k'")
        assert db.execute("SELECT checksum FROM memories").fetchone()[0] == memory_checksum(
            "I ran 10k", "", ""
        )
        # plans_ledger (schema 5): entries with checked kinds and statuses, cascading history
        assert migrate(db, MIGRATIONS[:5]) == ["plans_ledger"]
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(
            "INSERT INTO plans (kind, text, status, created_at, updated_at, added_by) "
            "VALUES ('limit', 'no running until the stitches are out', 'active', 1, 1, 'joi')"
        )
        db.execute(
            "INSERT INTO plan_history (plan_id, at, change, status, text, by) VALUES (1, 1, 'noted', 'active', 'x', 'joi')"
        )
        db.execute("INSERT INTO plan_evidence (plan_id, memory_id) VALUES (1, 1)")
        with pytest.raises(sqlite3.IntegrityError):  # a kind the ledger does not know
            db.execute(
                "INSERT INTO plans (kind, text, status, created_at, updated_at, added_by) "
                "VALUES ('wish', 'x', 'active', 1, 1, 'joi')"
            )
        db.execute("DELETE FROM memories")  # the turn goes: its evidence link goes with it
        assert db.execute("SELECT COUNT(*) FROM plan_evidence").fetchone()[0] == 0
        db.execute("DELETE FROM plans")
        assert db.execute("SELECT COUNT(*) FROM plan_history").fetchone()[0] == 0
        assert migrate(db) == []  # nothing left to do
    finally:
        db.close()


def test_a_failing_migration_leaves_the_store_at_the_last_good_version(tmp_path):
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        db.execute("INSERT INTO no_such_table VALUES (1)")

    db = sqlite3.connect(tmp_path / "m.sqlite3", isolation_level=None)
    try:
        with pytest.raises(SchemaError, match="broken"):
            migrate(db, (*MIGRATIONS, broken))
        assert stored_version(db) == len(MIGRATIONS)
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone()
    finally:
        db.close()


def test_a_store_from_a_newer_joi_is_refused_untouched(tmp_path):
    path = tmp_path / "future.sqlite3"
    SqliteMemoryStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this Joi"):
        SqliteMemoryStore(path)
    assert version_of(path)[0] == SCHEMA_VERSION + 1
