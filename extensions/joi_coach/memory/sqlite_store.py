"""SQLite (WAL) storage of one profile's memories: the source of truth.

Text, times, importance, evidence links and the embedding vector of every memory live
here. Lexical search uses SQLite's FTS5 (BM25 ranking, Porter stemming), kept in sync by
triggers inside the same transactions, so a crash can never leave the two apart.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from .migrations import CHECKSUM_MISMATCH, SchemaError, db_errors, migrate, register_functions
from .models import MEMORY_COLUMNS, NEW_MEMORY_COLUMNS, Memory, NewMemory, Stream

_COLUMNS = ", ".join(MEMORY_COLUMNS)
_INSERT_COLUMNS = (
    *(c for c in NEW_MEMORY_COLUMNS if c != "evidence"),
    "last_accessed",
    "embedding_model",
    "vector",
)
_INSERT = (
    f"INSERT INTO memories ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"
)
log = logging.getLogger(__name__)
_WORD = re.compile(r"\w+", re.UNICODE)
# Words so common that BM25 gives them almost no weight, yet matching them makes FTS5 score
# most of the store: leaving them out of the query keeps lexical search fast at 100k memories.
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "again",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


# A query word found in more than this share of the memories (and in more than
# COMMON_TERM_MIN_DOCS of them) is left out of the FTS5 query: BM25 gives it little weight
# yet matching it makes FTS5 score a large part of the store. A rule by document frequency,
# so it follows each person's own words rather than a list; the floor keeps small stores
# exact. The share is what recall allows: applied to every store of locomo-dev, 20 % keeps
# hit@5 at .723; 10 % gave .714 and 5 % .680 (though 5 % made the lexical step 4x faster
# at 100k memories): words in 5-10 % of one person's memories are often what they talk about.
COMMON_TERM_SHARE = 0.2
COMMON_TERM_MIN_DOCS = 500
_DF_CACHE_WORDS = 20_000  # cached document frequencies (words) before the cache starts afresh
_DF_RECOUNT_SHARE = 0.05  # the store grew by this share since the count: frequencies are recounted
_OPEN_MMAP_BYTES = 1 << 34  # the file is mapped (up to 16 GiB) while it is checked at open


# Meta values that are bookkeeping, not the person's: kept when everything is forgotten.
KEPT_META = ("schema_version", "vector_generation")


# Plans Joi noted that cite no turn any more (a person's own entries cite none and stay).
ORPHAN_PLANS = (
    "SELECT id FROM plans WHERE added_by = 'joi' "
    "AND NOT EXISTS (SELECT 1 FROM plan_evidence WHERE plan_evidence.plan_id = plans.id)"
)


class StoreError(RuntimeError):
    """The store file cannot be used (corrupt, or from an unknown future schema)."""


def query_words(text: str, max_terms: int = 64) -> list[str]:
    """The distinct non-stopwords of free text, lower-cased, in order (at most ``max_terms``)."""
    words: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in words and word not in STOPWORDS:
            words.append(word)
    return words[:max_terms]


def fts_query(text: str, max_terms: int = 64) -> str | None:
    """Turn free text into a safe FTS5 query: the distinct non-stopwords, OR-ed, each quoted."""
    return _or_query(query_words(text, max_terms))


def _or_query(words: Sequence[str]) -> str | None:
    """Words (from :func:`query_words`: letters, digits, underscores) as a quoted FTS5 OR."""
    return " OR ".join(f'"{w}"' for w in words) if words else None


def _ranked_rows(rows: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    return [(int(i), float(score)) for i, score in rows]


def _insert_row(
    db: sqlite3.Connection, memory: NewMemory, last_accessed: float, model_id: str, vector: np.ndarray
) -> int:
    """One memory's row (without its evidence links); returns its id."""
    row = {c: getattr(memory, c) for c in NEW_MEMORY_COLUMNS}
    row["stream"] = Stream(memory.stream).value
    row |= {
        "last_accessed": last_accessed,
        "embedding_model": model_id,
        "vector": np.asarray(vector, dtype=np.float32).tobytes(),
    }
    cursor = db.execute(_INSERT, [row[c] for c in _INSERT_COLUMNS])
    if cursor.lastrowid is None:
        raise StoreError("the database did not return the new row's id")
    return int(cursor.lastrowid)


class SqliteMemoryStore:
    """One profile's memories in one SQLite file. Thread-safe (one connection, one lock)."""

    def __init__(self, path: Path, *, key: bytes | None = None) -> None:
        """Open (or create) the store; with ``key`` (32 bytes) it is a SQLCipher database.

        A plain store opened with a key is encrypted in place first (the end of an
        interrupted encryption of its data folder).
        """
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        # word -> memories it is found in (text or context), counted when the store held
        # _df_docs memories and its highest id was _df_max_id (see common_words)
        self._df: dict[str, int] = {}
        self._df_docs = 0
        self._df_max_id = -1
        # memories per embedding model (when all share one), counted in the checksum scan at
        # open; valid while the vector generation is the one recorded beside it
        self._models: tuple[int, dict[str, int]] | None = None
        errors = db_errors()
        try:
            if key is None:
                self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            else:
                self._db = self._open_encrypted(key)
                errors = db_errors()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=5000")
            # Deleted rows and freed pages are overwritten with zeros, not left in the file.
            self._db.execute("PRAGMA secure_delete=ON")
            register_functions(self._db)
            # the checks at open read the whole file: mapped, not copied page by page
            # (SQLCipher ignores this; it decrypts each page anyway)
            self._db.execute(f"PRAGMA mmap_size={_OPEN_MMAP_BYTES}")
            self._check_integrity()
            upgraded = migrate(self._db)
            self._check_checksums()
            self._db.execute("PRAGMA mmap_size=0")
        except BaseException as exc:
            if hasattr(self, "_db"):
                self._db.close()  # no connection (or -wal file) is left behind by a failed open
            if isinstance(exc, errors):
                raise StoreError(f"memory store {self.path} cannot be opened: {exc}") from exc
            if isinstance(exc, SchemaError):
                raise StoreError(f"memory store {self.path}: {exc}") from exc
            raise
        if upgraded:
            log.info("memory store upgraded: %s", ", ".join(upgraded))

    def _open_encrypted(self, key: bytes) -> sqlite3.Connection:
        from .encryption import encrypt_database, sqlcipher

        if len(key) != 32:
            raise ValueError("a store key has 32 bytes")
        dbapi = sqlcipher()
        try:
            encrypt_database(self.path, key)  # a plain store left by an interrupted run
            db = dbapi.connect(str(self.path), check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our error, not stderr noise
            db.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        except dbapi.DatabaseError as exc:
            raise StoreError(
                f"memory store {self.path} does not open with this data folder's key "
                f"(damaged, or copied from another folder): {exc}"
            ) from exc
        return db

    # -- housekeeping -------------------------------------------------------------------
    def _check_integrity(self) -> None:
        row = self._db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise StoreError(f"memory store {self.path} failed its integrity check: {row}")

    def _check_checksums(self) -> None:
        """Every memory's words against their checksum; in the same scan, the memories per
        embedding model (so the bank's re-embedding check at open reads nothing more)."""
        count, bad, low, high = self._db.execute(
            f"SELECT COUNT(*), SUM({CHECKSUM_MISMATCH}), MIN(embedding_model), MAX(embedding_model) "
            "FROM memories"
        ).fetchone()
        if bad:
            damaged = [
                row[0]
                for row in self._db.execute(
                    f"SELECT id FROM memories WHERE {CHECKSUM_MISMATCH} ORDER BY id LIMIT 20"
                )
            ]
            raise StoreError(
                f"memory store {self.path} is damaged: the words of memories {', '.join(map(str, damaged))} "
                "no longer match their checksum (the file was changed outside Joi). Nothing was changed; "
                "restore a backup (joi-coach restore) or move the file aside to start afresh."
            )
        if low == high:  # one model for all (or no memories): the bank's check needs no scan
            self._models = (self.generation(), {str(low): int(count)} if count else {})

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate transaction: all or nothing, even if the process dies inside it."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def read(self, sql: str, params: Sequence[object]) -> list[tuple]:
        """Rows of one read-only statement (for the tables beside the memories: plans)."""
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def generation(self) -> int:
        """A counter bumped by every change to the vectors; the FAISS cache records it."""
        return int(self.get_meta("vector_generation") or 0)

    def _bump_generation(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('vector_generation', '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- writes -------------------------------------------------------------------------
    def insert(self, memories: Sequence[NewMemory], vectors: np.ndarray, model_id: str) -> list[int]:
        """Store memories with their vectors in one transaction; returns their ids."""
        if len(memories) != len(vectors):
            raise ValueError("one vector per memory")
        ids: list[int] = []
        with self.transaction() as db:
            for memory, vector in zip(memories, vectors, strict=True):
                memory_id = _insert_row(db, memory, memory.created_at, model_id, vector)
                db.executemany(
                    "INSERT OR IGNORE INTO evidence (reflection_id, memory_id) VALUES (?, ?)",
                    [(memory_id, e) for e in memory.evidence],
                )
                ids.append(memory_id)
            self._bump_generation(db)
        return ids

    def update_text(self, memory_id: int, text: str, vector: np.ndarray, model_id: str) -> None:
        """A memory's new text and vector; contexts quoting the old text quote the new one.
        The old words leave the files (:meth:`purge`)."""
        with self.transaction() as db:
            row = db.execute("SELECT text FROM memories WHERE id = ?", (memory_id,)).fetchone()
            old = str(row[0]).strip() if row else ""
            if old:
                db.execute(
                    "UPDATE memories SET context = replace(context, ?, ?) "
                    "WHERE id != ? AND context != '' AND instr(context, ?) > 0",
                    (old, text.strip(), memory_id, old),
                )
            cursor = db.execute(
                "UPDATE memories SET text = ?, vector = ?, embedding_model = ? WHERE id = ?",
                (text, np.asarray(vector, dtype=np.float32).tobytes(), model_id, memory_id),
            )
            if cursor.rowcount == 0:
                raise KeyError(memory_id)
            self._bump_generation(db)
        self.purge()

    def replace_vectors(self, items: Iterable[tuple[int, np.ndarray]], model_id: str) -> None:
        """Swap in vectors of another embedding model (one transaction for the batch)."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE memories SET vector = ?, embedding_model = ? WHERE id = ?",
                [(np.asarray(v, dtype=np.float32).tobytes(), model_id, i) for i, v in items],
            )
            self._bump_generation(db)

    def set_importance(self, scores: dict[int, int], source: str) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE memories SET importance = ?, importance_source = ? WHERE id = ?",
                [(int(v), source, i) for i, v in scores.items()],
            )

    def touch(self, ids: Iterable[int], when: float) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE memories SET last_accessed = MAX(last_accessed, ?) WHERE id = ?",
                [(when, i) for i in ids],
            )

    def delete(self, ids: Iterable[int]) -> int:
        with self.transaction() as db:
            count = sum(db.execute("DELETE FROM memories WHERE id = ?", (i,)).rowcount for i in ids)
            self._bump_generation(db)
            self._df_max_id = -1  # frequencies are counted afresh
        return count

    def forget(self, ids: Iterable[int]) -> int:
        """Delete memories so their words are gone from the files, not just from the answers.

        In one transaction: the rows go, and every other memory whose context (the turn it
        answered) quotes a forgotten text has its context cleared. Then :meth:`purge`.
        """
        ids = list(dict.fromkeys(ids))
        with self.transaction() as db:
            texts: set[str] = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                texts.update(
                    str(r[0]) for r in db.execute(f"SELECT text FROM memories WHERE id IN ({marks})", chunk)
                )
            orphans_before = {r[0] for r in db.execute(ORPHAN_PLANS)}
            count = sum(db.execute("DELETE FROM memories WHERE id = ?", (i,)).rowcount for i in ids)
            # a plan Joi noted that only the forgotten turns supported goes with them
            for (plan_id,) in db.execute(ORPHAN_PLANS).fetchall():
                if plan_id not in orphans_before:
                    db.execute("DELETE FROM plans WHERE id = ?", (plan_id,))
            for text in texts:
                if text.strip():
                    db.execute(
                        "UPDATE memories SET context = '' WHERE context != '' AND instr(context, ?) > 0",
                        (text.strip(),),
                    )
            self._bump_generation(db)
            self._df_max_id = -1  # frequencies are counted afresh (and no forgotten word is kept)
            self._df.clear()
        self.purge()
        return count

    def forget_everything(self) -> int:
        """Every memory, evidence link, the safety plan and every meta value but the schema
        and the vector generation; then purged and vacuumed. Returns the memories deleted."""
        with self.transaction() as db:
            count = int(db.execute("SELECT COUNT(*) FROM memories").fetchone()[0])
            db.execute("DELETE FROM evidence")
            db.execute("DELETE FROM memories")
            db.execute("INSERT INTO memories_fts (memories_fts) VALUES ('delete-all')")
            db.execute("DELETE FROM safety_plan")
            db.execute("DELETE FROM plans")
            db.execute("DELETE FROM meta WHERE key NOT IN (?, ?)", (KEPT_META[0], KEPT_META[1]))
            self._bump_generation(db)
            self._df_max_id = -1
            self._df.clear()
        with self._lock:
            self._db.execute("VACUUM")
        self.purge()
        return count

    def ids_in_conversation(self, conversation: str) -> list[int]:
        """Every memory (any stream) stored in a conversation."""
        with self._lock:
            return [
                int(r[0])
                for r in self._db.execute(
                    "SELECT id FROM memories WHERE conversation = ? ORDER BY id", (conversation,)
                )
            ]

    def purge(self, *, text_index: bool = True) -> None:
        """Leave no deleted words behind in the files.

        ``secure_delete`` zeroes deleted rows and freed pages; FTS5 keeps deleted terms in
        its older segments until they are merged, so (``text_index``) the index is merged
        into one segment ('optimize'); then the WAL, which still holds earlier page images,
        is checkpointed into the database and truncated to nothing.
        """
        with self._lock:
            if text_index:
                self._db.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
            busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning("memory store %s: the WAL could not be truncated (busy)", self.path.name)

    def save_safety_plan(self, sections: dict[str, str], now: float) -> None:
        """Replace the safety plan with ``sections`` (section key -> text) in one transaction."""
        with self.transaction() as db:
            db.execute("DELETE FROM safety_plan")
            db.executemany(
                "INSERT INTO safety_plan (section, text, updated_at) VALUES (?, ?, ?)",
                [(key, text, now) for key, text in sections.items() if text.strip()],
            )
        self.purge(text_index=False)  # no earlier plan left in the WAL

    # -- reads --------------------------------------------------------------------------
    def safety_plan(self) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute("SELECT section, text FROM safety_plan").fetchall()
        return {str(section): str(text) for section, text in rows}

    def _rows_to_memories(self, rows: list[tuple]) -> list[Memory]:
        ids = [r[0] for r in rows]
        evidence: dict[int, list[int]] = {}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            for reflection_id, memory_id in self._db.execute(
                f"SELECT reflection_id, memory_id FROM evidence WHERE reflection_id IN ({marks}) "
                "ORDER BY memory_id",
                chunk,
            ):
                evidence.setdefault(reflection_id, []).append(memory_id)
        memories = []
        for r in rows:
            values = dict(zip(MEMORY_COLUMNS, r, strict=True))
            values["stream"] = Stream(values["stream"])
            memories.append(Memory(**values, evidence=tuple(evidence.get(values["id"], ()))))
        return memories

    def get(self, ids: Sequence[int]) -> list[Memory]:
        """Memories by id, in the order asked (missing ids are skipped)."""
        found: dict[int, Memory] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM memories WHERE id IN ({marks})", chunk
                ).fetchall()
                found.update((m.id, m) for m in self._rows_to_memories(rows))
        return [found[i] for i in ids if i in found]

    def memories(
        self,
        stream: Stream | None = None,
        *,
        conversation: str | None = None,
        newest_first: bool = True,
        limit: int = 100,
        offset: int = 0,
        after_id: int | None = None,
    ) -> list[Memory]:
        clauses: list[str] = []
        args: list[str | int] = []
        if stream is not None:
            clauses.append("stream = ?")
            args.append(Stream(stream).value)
        if conversation is not None:
            clauses.append("conversation = ?")
            args.append(conversation)
        if after_id is not None:
            clauses.append("id > ?")
            args.append(after_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM memories {where} ORDER BY created_at {order}, id {order} "
                "LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ).fetchall()
            return self._rows_to_memories(rows)

    def count(self, stream: Stream | None = None) -> int:
        with self._lock:
            if stream is None:
                return int(self._db.execute("SELECT COUNT(*) FROM memories").fetchone()[0])
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM memories WHERE stream = ?", (Stream(stream).value,)
                ).fetchone()[0]
            )

    def conversations(self, limit: int = 200) -> list[tuple[str, float, float, int]]:
        """(conversation, first time, last time, dialogue lines) per conversation, latest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT conversation, MIN(created_at), MAX(created_at), COUNT(*) FROM memories "
                "WHERE stream = 'dialogue' GROUP BY conversation ORDER BY MAX(created_at) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(str(c), float(a), float(b), int(n)) for c, a, b, n in rows]

    def unrated(self, limit: int = 64) -> list[Memory]:
        """Memories still waiting for an importance rating, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM memories WHERE importance IS NULL ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
            return self._rows_to_memories(rows)

    def importance_since(self, after_id: int) -> tuple[int, int]:
        """(sum of importance, count) of rated non-reflection memories with id > after_id."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(importance), 0), COUNT(*) FROM memories "
                "WHERE id > ? AND importance IS NOT NULL AND stream != 'reflection'",
                (after_id,),
            ).fetchone()
        return int(row[0]), int(row[1])

    def max_id(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(id), 0) FROM memories").fetchone()[0])

    def iter_vectors(self, batch: int = 4096) -> Iterator[tuple[np.ndarray, np.ndarray, list[str]]]:
        """Yields (ids, vectors, streams) in batches, for rebuilding the vector cache."""
        last = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, vector, stream FROM memories WHERE id > ? ORDER BY id LIMIT ?",
                    (last, batch),
                ).fetchall()
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            yield ids, vectors, [r[2] for r in rows]
            last = int(ids[-1])

    def ids_with_other_model(self, model_id: str, limit: int = 256) -> list[tuple[int, str, str]]:
        """(id, text, context) of memories embedded with another model than ``model_id``."""
        with self._lock:
            return self._db.execute(
                "SELECT id, text, context FROM memories WHERE embedding_model != ? ORDER BY id LIMIT ?",
                (model_id, limit),
            ).fetchall()

    def count_with_other_model(self, model_id: str) -> int:
        with self._lock:
            models = self._models
            if models is not None and models[0] == self.generation():
                return sum(n for model, n in models[1].items() if model != model_id)
            return int(
                self._db.execute(
                    "SELECT COUNT(*) FROM memories WHERE embedding_model != ?", (model_id,)
                ).fetchone()[0]
            )

    def vectors_for(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for memory_id, blob in self._db.execute(
                    f"SELECT id, vector FROM memories WHERE id IN ({marks})", chunk
                ):
                    out[memory_id] = np.frombuffer(blob, dtype=np.float32)
        return out

    def common_words(self, words: Sequence[str]) -> set[str]:
        """Those of ``words`` found in more than :data:`COMMON_TERM_SHARE` of the memories
        (and more than :data:`COMMON_TERM_MIN_DOCS`), by counts cached per word.

        The counts are recounted once the store has grown (or lost memories) by
        :data:`_DF_RECOUNT_SHARE`; a word costs one FTS5 count the first time it is seen.
        """
        with self._lock:
            max_id = self.max_id()
            if self._df_max_id < 0 or max_id - self._df_max_id > _DF_RECOUNT_SHARE * max(self._df_docs, 1):
                self._df.clear()
                self._df_docs = self.count()
                self._df_max_id = max_id
            if len(self._df) > _DF_CACHE_WORDS:
                self._df.clear()
            limit = max(COMMON_TERM_MIN_DOCS, int(COMMON_TERM_SHARE * self._df_docs))
            if self._df_docs <= limit:
                return set()
            common = set()
            for word in words:
                if word not in self._df:
                    self._df[word] = int(
                        self._db.execute(
                            "SELECT COUNT(*) FROM memories_fts WHERE memories_fts MATCH ?",
                            (f'{{text context}} : "{word}"',),
                        ).fetchone()[0]
                    )
                if self._df[word] > limit:
                    common.add(word)
            return common

    def lexical_words(self, text: str, *, drop_common: bool = True) -> list[str]:
        """The words of ``text`` that the FTS5 query asks for: its non-stopwords less the
        common ones (:meth:`common_words`); if all are common, the rarest of them."""
        words = query_words(text)
        if not drop_common or not words:
            return words
        common = self.common_words(words)
        kept = [w for w in words if w not in common]
        if kept:
            return kept
        with self._lock:
            return [min(words, key=lambda w: self._df.get(w, 0))]

    def lexical_search(
        self,
        stream: Stream,
        text: str,
        limit: int,
        context_weight: float = 0.5,
        *,
        drop_common: bool = True,
    ) -> list[tuple[int, float]]:
        """BM25 matches of the words of ``text`` in one stream: (id, score), best first.

        Scores are positive (FTS5's bm25() is negated); the context column (the turn a
        memory answered) counts with ``context_weight``. The stream is an FTS column, so
        FTS5 filters by it before scoring. Words in much of the store are left out
        (:meth:`lexical_words`). :meth:`lexical_search_streams` does every stream at once.
        """
        words = _or_query(self.lexical_words(text, drop_common=drop_common))
        if words is None:
            return []
        query = f'{{stream}} : "{Stream(stream).value}" AND {{text context}} : ({words})'
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, -bm25(memories_fts, 1.0, ?, 0.0) AS score FROM memories_fts "
                "WHERE memories_fts MATCH ? ORDER BY score DESC, rowid LIMIT ?",
                (float(context_weight), query, limit),
            ).fetchall()
        return _ranked_rows(rows)

    def lexical_search_streams(
        self,
        limits: dict[Stream, int],
        text: str,
        context_weight: float = 0.5,
        *,
        stream_of: Callable[[np.ndarray], np.ndarray] | None = None,
        drop_common: bool = True,
    ) -> dict[Stream, list[tuple[int, float]]]:
        """:meth:`lexical_search` for several streams (stream -> limit) in one FTS5 query.

        The same scores and order as one query per stream: BM25 counts over the whole
        store either way, and the stream column weighs nothing. ``stream_of`` maps ids to
        indexes into ``ALL_STREAMS`` (-1 where unknown; those are read from the table).
        Rows are read best first only until every stream has its ``limit``.
        """
        out: dict[Stream, list[tuple[int, float]]] = {Stream(s): [] for s in limits}
        wanted = {Stream(s): int(n) for s, n in limits.items() if n > 0}
        words = _or_query(self.lexical_words(text, drop_common=drop_common))
        if words is None or not wanted:
            return out
        streams = list(Stream)
        open_streams = set(wanted)
        with self._lock:
            cursor = self._db.execute(
                "SELECT rowid, -bm25(memories_fts, 1.0, ?, 0.0) AS score FROM memories_fts "
                "WHERE memories_fts MATCH ? ORDER BY score DESC, rowid",
                (float(context_weight), f"{{text context}} : ({words})"),
            )
            while open_streams and (rows := cursor.fetchmany(512)):
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                codes = np.full(len(ids), -1, dtype=np.int64) if stream_of is None else stream_of(ids)
                unknown = [int(i) for i, c in zip(ids, codes, strict=True) if c < 0]
                named = self._streams_by_id(unknown) if unknown else {}
                for (memory_id, score), code in zip(rows, codes, strict=True):
                    stream = streams[code] if code >= 0 else named.get(memory_id)
                    if stream in open_streams:
                        found = out[stream]
                        found.append((int(memory_id), float(score)))
                        if len(found) >= wanted[stream]:
                            open_streams.discard(stream)
            cursor.close()
        return out

    def _streams_by_id(self, ids: Sequence[int]) -> dict[int, Stream]:
        found: dict[int, Stream] = {}
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            found.update(
                (int(i), Stream(s))
                for i, s in self._db.execute(f"SELECT id, stream FROM memories WHERE id IN ({marks})", chunk)
            )
        return found

    def ranking_fields(self, ids: Sequence[int]) -> dict[int, tuple[float, float, int | None]]:
        """(created_at, last_accessed, importance) by id: what scoring needs, no words read."""
        out: dict[int, tuple[float, float, int | None]] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for memory_id, created, accessed, importance in self._db.execute(
                    f"SELECT id, created_at, last_accessed, importance FROM memories WHERE id IN ({marks})",
                    chunk,
                ):
                    out[int(memory_id)] = (float(created), float(accessed), importance)
        return out

    def most_recent(self, stream: Stream, limit: int) -> list[int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM memories WHERE stream = ? ORDER BY last_accessed DESC LIMIT ?",
                (Stream(stream).value, limit),
            ).fetchall()
        return [r[0] for r in rows]

    def created_between(self, stream: Stream, start: float, end: float, limit: int) -> list[int]:
        """Ids of a stream's memories made in [start, end), the most recently accessed first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM memories WHERE stream = ? AND created_at >= ? AND created_at < ? "
                "ORDER BY last_accessed DESC LIMIT ?",
                (Stream(stream).value, start, end, limit),
            ).fetchall()
        return [r[0] for r in rows]

    def most_important(self, stream: Stream, limit: int) -> list[int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM memories WHERE stream = ? AND importance IS NOT NULL "
                "ORDER BY importance DESC, last_accessed DESC LIMIT ?",
                (Stream(stream).value, limit),
            ).fetchall()
        return [r[0] for r in rows]

    def derived_from(self, memory_id: int) -> list[int]:
        """Reflections that cite ``memory_id`` as evidence (one level)."""
        with self._lock:
            return [
                r[0]
                for r in self._db.execute(
                    "SELECT reflection_id FROM evidence WHERE memory_id = ?", (memory_id,)
                )
            ]

    def insert_linked(
        self,
        memories: Sequence[NewMemory],
        vectors: np.ndarray,
        model_id: str,
        *,
        keys: Sequence[int],
        last_accessed: Sequence[float],
        known: dict[int, int] | None = None,
    ) -> list[tuple[int, bool]]:
        """Store memories that cite each other by caller-chosen keys, all in one transaction.

        ``memories[i]`` is named ``keys[i]``; its evidence lists keys of earlier rows or of
        ``known`` (key -> stored id), remapped here to stored ids, and a memory citing evidence
        gets a depth one more than its deepest. A row whose stream, text and creation time are
        already stored is not stored again: its key maps to the stored memory. Returns
        (stored id, newly added) per row. An unknown key (KeyError) or any other failure
        stores nothing.
        """
        if not len(memories) == len(vectors) == len(keys) == len(last_accessed):
            raise ValueError("one vector, key and access time per memory")
        stored = dict(known or {})
        out: list[tuple[int, bool]] = []
        with self.transaction() as db:
            for memory, vector, key, accessed in zip(memories, vectors, keys, last_accessed, strict=True):
                stream = Stream(memory.stream).value
                row = db.execute(
                    "SELECT id FROM memories WHERE stream = ? AND created_at = ? AND text = ? "
                    "ORDER BY id LIMIT 1",
                    (stream, memory.created_at, memory.text),
                ).fetchone()
                if row is not None:
                    stored[key] = int(row[0])
                    out.append((int(row[0]), False))
                    continue
                try:
                    evidence = sorted({stored[e] for e in memory.evidence})
                except KeyError as exc:
                    raise KeyError(f"memory {key} cites {exc.args[0]}, not stored before it") from None
                depth = memory.depth
                if evidence:
                    deepest = 0
                    for start in range(0, len(evidence), 500):
                        chunk = evidence[start : start + 500]
                        marks = ",".join("?" * len(chunk))
                        deepest = max(
                            deepest,
                            int(
                                db.execute(
                                    f"SELECT COALESCE(MAX(depth), 0) FROM memories WHERE id IN ({marks})",
                                    chunk,
                                ).fetchone()[0]
                            ),
                        )
                    depth = 1 + deepest
                memory_id = _insert_row(db, replace(memory, depth=depth), accessed, model_id, vector)
                db.executemany(
                    "INSERT INTO evidence (reflection_id, memory_id) VALUES (?, ?)",
                    [(memory_id, e) for e in evidence],
                )
                stored[key] = memory_id
                out.append((memory_id, True))
            if any(added for _, added in out):
                self._bump_generation(db)
        return out
