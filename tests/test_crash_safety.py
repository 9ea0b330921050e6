"""Crash safety: a writer killed with SIGKILL at random moments never loses a committed memory.

``tests/crash_writer.py`` loads the embedding model once and forks a child per round; the
child writes turns through the real ``Coach`` (messages, replies, importance ratings,
reflections) on a real SQLite store with its FAISS cache, reporting every write after it
committed. This test kills the child at a random moment, then checks that the store opens,
passes SQLite's integrity checks (the tables, the full-text index, the evidence links), holds
every memory the child reported with its exact text (and rating, and evidence), and that the
vector cache holds exactly the stored memories of each stream (loaded, or rebuilt).

``JOI_CRASH_ROUNDS`` sets the rounds (default 200).
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import faiss
import numpy as np
from joi_coach.memory.bank import STORE_FILE, MemoryBank
from joi_coach.memory.models import Stream
from joi_coach.profiles import profile_folder_name

ROUNDS = int(os.environ.get("JOI_CRASH_ROUNDS", "200"))
WRITER = Path(__file__).with_name("crash_writer.py")
MAX_DELAY = 0.9  # seconds after the fork within which every kill lands
MARKERS = {"tx+": "tx", "tx-": "tx", "meta+": "meta", "meta-": "meta", "cache+": "cache", "cache-": "cache"}


class Server:
    """The fork server's stdout, read line by line on a thread (never blocks the killer)."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.stderr = log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(WRITER), str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            cwd=Path(__file__).parent.parent,
        )
        self.lines: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.put(json.loads(raw))
        self.lines.put(None)

    def next(self, timeout: float) -> dict:
        event = self.lines.get(timeout=timeout)
        if event is None:
            raise AssertionError(f"the writer server exited ({self.process.poll()}); see {self.stderr.name}")
        if event["ev"] == "error":
            raise AssertionError(f"the writer failed before it was killed:\n{event['trace']}")
        return event

    def send(self, **command: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.stderr.close()


class Ledger:
    """What the children reported as committed, and where each kill landed."""

    def __init__(self) -> None:
        self.memories: dict[int, dict] = {}
        self.importance: dict[int, int] = {}
        self.landed: Counter[str] = Counter()

    def take(self, events: list[dict]) -> None:
        open_writes: list[str] = []  # tx / meta / cache writes begun and not yet returned
        op = None
        for event in events:
            kind = event["ev"]
            if kind == "memory":
                self.memories[event["id"]] = event
            elif kind == "rated":
                self.importance.update({int(i): v for i, v in event["scores"]})
            elif kind in MARKERS:
                if kind.endswith("+"):
                    open_writes.append(MARKERS[kind])
                else:
                    open_writes.remove(MARKERS[kind])
            elif kind == "op+":
                op = event["op"]
            elif kind == "op-":
                op = None
        started = any(e["ev"] == "opened" for e in events)
        self.landed["rounds"] += 1
        if not started:
            self.landed["while opening"] += 1
        if op is not None:
            self.landed[f"mid-{op}"] += 1
        for write in set(open_writes):
            self.landed[f"inside a {write} write"] += 1
        if open_writes:
            self.landed["mid-write"] += 1


def indexed_ids(bank: MemoryBank, stream: Stream) -> set[int]:
    """The ids in the stream's FAISS index (the bank exposes only their count)."""
    index = bank._index._indexes[stream]
    return set(faiss.vector_to_array(index.id_map).tolist())


def check_store(folder: Path, embedder, ledger: Ledger) -> bool:
    """Everything reported is there; SQLite and the cache agree. Returns cache_was_loaded."""
    bank = MemoryBank(folder, embedder, progress=False)
    try:
        found = {m.id: m for m in bank.get(sorted(ledger.memories))}
        missing = sorted(set(ledger.memories) - set(found))
        assert not missing, f"committed memories lost: {missing[:10]}"
        for memory_id, reported in ledger.memories.items():
            memory = found[memory_id]
            assert (memory.stream.value, memory.text) == (reported["stream"], reported["text"]), memory_id
            if "evidence" in reported:
                assert list(memory.evidence) == reported["evidence"], memory_id
        rated = {m.id: m.importance for m in bank.get(sorted(ledger.importance))}
        assert rated == ledger.importance, "committed importance ratings lost"
        assert bank.vectors_from_other_models() == 0
        for stream in Stream:
            stored = {m.id for m in bank.memories(stream, limit=1_000_000)}
            assert bank.indexed(stream) == bank.count(stream) == len(stored), stream
            assert indexed_ids(bank, stream) == stored, f"the {stream.value} index disagrees with SQLite"
        probe = next(iter(found.values()), None)
        if probe is not None:  # the cache answers for a stored vector: its own memory first
            vector = bank._store.vectors_for([probe.id])[probe.id]
            assert bank.nearest(probe.stream, vector, 1)[0][0] == probe.id
        loaded = bank.cache_was_loaded
    finally:
        bank.close()
    db = sqlite3.connect(folder / STORE_FILE)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        db.execute("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')")
    finally:
        db.close()
    return loaded


def test_sigkill_at_random_moments_loses_nothing_committed(tmp_path, embedder):
    data_dir = tmp_path / "data"
    folder = data_dir / "profiles" / profile_folder_name("sam")
    server = Server(data_dir, tmp_path / "writer.log")
    rng = random.Random(20240515)
    ledger = Ledger()
    cache = Counter()
    started = time.monotonic()
    try:
        assert server.next(timeout=300)["ev"] == "ready"
        for round_no in range(ROUNDS):
            server.send(round=round_no, seed=rng.randrange(1 << 30))
            events: list[dict] = []  # the child may write before the server says it forked
            while (forked := server.next(timeout=60))["ev"] != "forked":
                events.append(forked)
            deadline = time.monotonic() + rng.uniform(0.0, MAX_DELAY)
            # Half the rounds kill at a random time; the other half as the n-th write begins
            # (a transaction, or a save of the vector cache), to land inside more commits.
            target = rng.choice(["tx+", "cache+"]) if rng.random() < 0.5 else None
            nth = rng.randint(1, 12 if target == "tx+" else 2)
            while (left := deadline - time.monotonic()) > 0:
                try:
                    events.append(server.next(timeout=left))
                except queue.Empty:
                    break
                if target and sum(e["ev"] == target for e in events) >= nth:
                    break
            os.kill(forked["pid"], signal.SIGKILL)
            while (event := server.next(timeout=60))["ev"] != "reaped":
                events.append(event)
            assert event["signal"] == signal.SIGKILL, event
            ledger.take(events)
            if folder.exists():
                cache["loaded" if check_store(folder, embedder, ledger) else "rebuilt"] += 1
    finally:
        server.close()
    seconds = time.monotonic() - started
    bank = MemoryBank(folder, embedder, progress=False)
    totals = {s.value: bank.count(s) for s in Stream}
    bank.close()
    print(
        f"\ncrash safety: {ledger.landed['rounds']} rounds in {seconds:.0f} s; kills mid-write "
        f"(inside a transaction, meta write or cache save): {ledger.landed['mid-write']}; "
        f"where they landed: {dict(ledger.landed)}; committed memories checked: {len(ledger.memories)}, "
        f"ratings: {len(ledger.importance)}; cache at the check: {dict(cache)}; store: {totals}"
    )
    assert ledger.landed["rounds"] == ROUNDS >= 1
    assert ledger.landed["mid-write"] > 0 and ledger.memories and ledger.importance
    assert any(m["stream"] == "reflection" for m in ledger.memories.values())
    assert np.all(np.array(list(totals.values())) > 0)
