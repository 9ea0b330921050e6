"""The store's schema, as a list of named migrations keyed on SQLite's ``PRAGMA user_version``.

Every person's store must open after an upgrade. A store at version *n* runs migrations
*n+1…* at open, each in its own immediate transaction together with the version bump, so a
crash leaves the store at the last version that finished. A migration is never edited once
released: a change to the schema is a new function at the end of :data:`MIGRATIONS`.

Stores written before the version lived in ``user_version`` (schema 1, version 0 in the
header) carry ``schema_version`` in their ``meta`` table; that is read once and kept in step,
so an older Joi still refuses a store newer than itself.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Callable

from .models import IMPORTANCE_MAX, IMPORTANCE_MIN, Stream


class SchemaError(RuntimeError):
    """The store's schema cannot be used by this Joi (newer than it knows, or a failed upgrade)."""


def initial_schema(db: sqlite3.Connection) -> None:
    """Schema 1: memories, evidence links, full-text search kept in sync by triggers, meta."""
    streams = ", ".join(repr(s.value) for s in Stream)
    _run_script(
        db,
        f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS memories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL CHECK (stream IN ({streams})),
    text TEXT NOT NULL,
    context TEXT NOT NULL DEFAULT '',
    speaker TEXT NOT NULL DEFAULT '',
    conversation TEXT NOT NULL DEFAULT 'default',
    created_at REAL NOT NULL,
    last_accessed REAL NOT NULL,
    importance INTEGER CHECK (importance BETWEEN {IMPORTANCE_MIN} AND {IMPORTANCE_MAX}),
    importance_source TEXT,
    depth INTEGER NOT NULL DEFAULT 0,
    embedding_model TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_stream_access ON memories (stream, last_accessed);
CREATE INDEX IF NOT EXISTS memories_stream_created ON memories (stream, created_at);
CREATE INDEX IF NOT EXISTS memories_stream_importance ON memories (stream, importance, last_accessed);
CREATE INDEX IF NOT EXISTS memories_unrated ON memories (id) WHERE importance IS NULL;
CREATE TABLE IF NOT EXISTS evidence (
    reflection_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    memory_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    PRIMARY KEY (reflection_id, memory_id)
);
CREATE INDEX IF NOT EXISTS evidence_by_memory ON evidence (memory_id);
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5 (
    text, context, stream, content='memories', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS memories_fts_insert AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts (rowid, text, context, stream) VALUES (new.id, new.text, new.context, new.stream);
END;
CREATE TRIGGER IF NOT EXISTS memories_fts_delete AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text, context, stream)
    VALUES ('delete', old.id, old.text, old.context, old.stream);
END;
CREATE TRIGGER IF NOT EXISTS memories_fts_update AFTER UPDATE OF text, context ON memories BEGIN
    INSERT INTO memories_fts (memories_fts, rowid, text, context, stream)
    VALUES ('delete', old.id, old.text, old.context, old.stream);
    INSERT INTO memories_fts (rowid, text, context, stream) VALUES (new.id, new.text, new.context, new.stream);
END;
""",
    )


def conversation_index(db: sqlite3.Connection) -> None:
    """Schema 2: an index for a conversation's lines (transcripts, the conversation list)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS memories_conversation ON memories (conversation, stream, created_at)"
    )


def safety_plan_table(db: sqlite3.Connection) -> None:
    """Schema 3: the person's safety plan, one row per section they wrote."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS safety_plan "
        "(section TEXT PRIMARY KEY, text TEXT NOT NULL, updated_at REAL NOT NULL)"
    )


CHECKSUM_FUNCTION = "joi_checksum"
# The rows whose words no longer match their checksum (checked at every open).
CHECKSUM_MISMATCH = f"checksum IS NOT {CHECKSUM_FUNCTION}(text, context, speaker)"


def memory_checksum(text: str | None, context: str | None, speaker: str | None) -> str:
    """What a memory's row must hash to: a change to its words on disk is then noticed."""
    joined = "\x1f".join((text or "", context or "", speaker or ""))
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def register_functions(db: sqlite3.Connection) -> None:
    """The SQL functions the schema's triggers call (needed on every connection that writes)."""
    db.create_function(CHECKSUM_FUNCTION, 3, memory_checksum, deterministic=True)


def memory_checksums(db: sqlite3.Connection) -> None:
    """Schema 4: a checksum of each memory's words, kept by triggers and checked at open.

    SQLite's own checks look at the file's structure only; bytes changed inside a row would
    otherwise be served as if the person had written them.
    """
    register_functions(db)
    _run_script(
        db,
        f"""
ALTER TABLE memories ADD COLUMN checksum TEXT;
UPDATE memories SET checksum = {CHECKSUM_FUNCTION}(text, context, speaker);
CREATE TRIGGER IF NOT EXISTS memories_checksum_insert AFTER INSERT ON memories BEGIN
    UPDATE memories SET checksum = {CHECKSUM_FUNCTION}(new.text, new.context, new.speaker) WHERE id = new.id;
END;
CREATE TRIGGER IF NOT EXISTS memories_checksum_update AFTER UPDATE OF text, context, speaker ON memories BEGIN
    UPDATE memories SET checksum = {CHECKSUM_FUNCTION}(new.text, new.context, new.speaker) WHERE id = new.id;
END;
""",
    )


def plans_ledger(db: sqlite3.Connection) -> None:
    """Schema 5: the ledger of goals, commitments, limits, people, triggers and what helps
    (:mod:`.plans`): entries, every change to them, and the turns they came from."""
    kinds = "'goal', 'commitment', 'limit', 'person', 'trigger', 'helps'"
    statuses = "'active', 'done', 'missed', 'dropped', 'superseded'"
    _run_script(
        db,
        f"""
CREATE TABLE IF NOT EXISTS plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ({kinds})),
    text TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({statuses})),
    due_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    added_by TEXT NOT NULL CHECK (added_by IN ('joi', 'person')),
    superseded_by INTEGER REFERENCES plans (id) ON DELETE SET NULL,
    followed_up_at REAL
);
CREATE INDEX IF NOT EXISTS plans_status ON plans (status, due_at);
CREATE TABLE IF NOT EXISTS plan_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    at REAL NOT NULL,
    change TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({statuses})),
    text TEXT NOT NULL,
    due_at REAL,
    by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plan_history_by_plan ON plan_history (plan_id, id);
CREATE TABLE IF NOT EXISTS plan_evidence (
    plan_id INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    memory_id INTEGER NOT NULL REFERENCES memories (id) ON DELETE CASCADE,
    PRIMARY KEY (plan_id, memory_id)
);
CREATE INDEX IF NOT EXISTS plan_evidence_by_memory ON plan_evidence (memory_id);
""",
    )


Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: tuple[Migration, ...] = (
    initial_schema,
    conversation_index,
    safety_plan_table,
    memory_checksums,
    plans_ledger,
)
SCHEMA_VERSION = len(MIGRATIONS)


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run SQL statements one at a time (``executescript`` would commit the open transaction)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement[:80]}")


def db_errors() -> tuple[type[Exception], ...]:
    """The database errors of the SQLite modules in use (stdlib, and SQLCipher's when loaded)."""
    errors: list[type[Exception]] = [sqlite3.Error]
    cipher = sys.modules.get("sqlcipher3.dbapi2")
    if cipher is not None:
        errors.append(cipher.Error)
    return tuple(errors)


def stored_version(db: sqlite3.Connection) -> int:
    """The schema version of an open store (0 for an empty file)."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version:
        return version
    has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if not has_meta:
        return 0
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Bring an open store (autocommit connection) up to date; returns the migrations run."""
    current, target = stored_version(db), len(migrations)
    if current > target:
        raise SchemaError(f"the store has schema {current}, newer than this Joi ({target}): update Joi")
    ran = []
    for version, step in enumerate(migrations[current:], start=current + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(version),)
            )
            db.execute(f"PRAGMA user_version = {version}")
        except BaseException as exc:
            db.execute("ROLLBACK")
            if isinstance(exc, db_errors()):
                raise SchemaError(
                    f"upgrading the store to schema {version} ({step.__name__}) failed: {exc}"
                ) from exc
            raise
        db.execute("COMMIT")
        ran.append(step.__name__)
    return ran
