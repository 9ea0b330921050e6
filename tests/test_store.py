"""The SQLite store on real files: writes, FTS sync, evidence, corruption, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.sqlite_store import SqliteMemoryStore, StoreError, fts_query

DIM = 8


def vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def add(store: SqliteMemoryStore, text: str, stream=Stream.DIALOGUE, **kw) -> int:
    return store.insert(
        [NewMemory(stream, text, kw.pop("created_at", 1000.0), **kw)], vec(len(text))[None], "m#8"
    )[0]


def test_insert_get_evidence_and_generation(tmp_path):
    store = SqliteMemoryStore(tmp_path / "s.sqlite3")
    g0 = store.generation()
    a = add(store, "I started running in the mornings")
    b = add(store, "My sister moved to Berlin", importance=7, importance_source="user")
    r = add(store, "They value family", stream=Stream.REFLECTION, evidence=(a, b), depth=1)
    assert store.generation() == g0 + 3
    [ref] = store.get([r])
    assert ref.evidence == (a, b) and ref.depth == 1 and ref.stream is Stream.REFLECTION
    assert store.derived_from(a) == [r]
    assert [m.id for m in store.get([b, 999, a])] == [b, a]
    assert store.get([b])[0].importance == 7


def test_fts_follows_edits_and_deletes(tmp_path):
    store = SqliteMemoryStore(tmp_path / "s.sqlite3")
    a = add(store, "We talked about marathons")
    assert [i for i, _ in store.lexical_search(Stream.DIALOGUE, "marathon training", 5)] == [a]
    store.update_text(a, "We talked about swimming", vec(1), "m#8")
    assert store.lexical_search(Stream.DIALOGUE, "marathon", 5) == []
    assert [i for i, _ in store.lexical_search(Stream.DIALOGUE, "swim", 5)] == [a]
    store.delete([a])
    assert store.lexical_search(Stream.DIALOGUE, "swimming", 5) == []


def test_lexical_search_is_per_stream_and_query_safe(tmp_path):
    store = SqliteMemoryStore(tmp_path / "s.sqlite3")
    add(store, "coffee in the morning", stream=Stream.EMPATHETIC)
    assert store.lexical_search(Stream.DIALOGUE, "coffee", 5) == []
    # FTS5 syntax in user text is inert
    assert store.lexical_search(Stream.EMPATHETIC, 'coffee" OR * NEAR( -"', 5)
    assert fts_query("!!! ???") is None


def test_delete_cascades_evidence_links(tmp_path):
    store = SqliteMemoryStore(tmp_path / "s.sqlite3")
    a = add(store, "fact")
    r = add(store, "insight", stream=Stream.REFLECTION, evidence=(a,), depth=1)
    store.delete([a])
    assert store.get([r])[0].evidence == ()


def test_importance_bookkeeping(tmp_path):
    store = SqliteMemoryStore(tmp_path / "s.sqlite3")
    a = add(store, "one")
    b = add(store, "two")
    assert [m.id for m in store.unrated()] == [a, b]
    store.set_importance({a: 9, b: 2}, "llm")
    assert store.unrated() == []
    assert store.importance_since(0) == (11, 2)
    assert store.importance_since(a) == (2, 1)
    with pytest.raises(sqlite3.IntegrityError):
        store.set_importance({a: 11}, "llm")


def test_corrupt_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "broken.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"cannot be opened|integrity"):
        SqliteMemoryStore(path)


def test_missing_folder_is_created(tmp_path):
    store = SqliteMemoryStore(tmp_path / "a" / "b" / "s.sqlite3")
    assert store.count() == 0


WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from joi_coach.memory.models import NewMemory, Stream
    from joi_coach.memory.sqlite_store import SqliteMemoryStore
    store = SqliteMemoryStore(sys.argv[1])
    n = 0
    while True:
        batch = [NewMemory(Stream.DIALOGUE, f"memory {n} {'x' * 2000}", float(n)) for _ in range(5)]
        ids = store.insert(batch, np.ones((5, 8), dtype=np.float32), "m#8")
        print(ids[-1], flush=True)
        n += 1
    """
)


def test_store_survives_a_kill_mid_write(tmp_path):
    path = tmp_path / "crash.sqlite3"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    committed = 0
    deadline = time.monotonic() + 60
    while committed < 200 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if line:
            committed = int(line)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert committed >= 200
    store = SqliteMemoryStore(path)  # runs an integrity check
    count = store.count()
    assert count >= committed and count % 5 == 0  # whole transactions only
    assert len(store.get(list(range(1, committed + 1)))) == committed
