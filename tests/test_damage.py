"""Damaged stores: each gets a rebuild, a migration or a clear error, never a silent loss.

Real SQLite and FAISS files and the real embedding model. A damaged database must raise
``StoreError`` (what the chat room and the memory tab get when they open the profile) naming
the file and what is wrong, and must be left as it was for a person to recover; a damaged,
stale or foreign vector cache must be rebuilt from SQLite; an older schema is migrated with
every memory kept. The read-only cases run in a subprocess without the power to override
file permissions (``tests/permission_probe.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from joi_coach.chat_room import ChatRoom
from joi_coach.coach import Coach, collect
from joi_coach.config import CoachSettings
from joi_coach.llm.priority import PriorityLLM
from joi_coach.memory.bank import STORE_FILE, MemoryBank
from joi_coach.memory.migrations import SCHEMA_VERSION
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.sqlite_store import StoreError
from joi_coach.memory.vector_index import MANIFEST
from joi_coach.profiles import profile_folder_name
from protocol_llm import ProtocolLLM

PROFILE = "sam"
TOPICS = (
    "violin lessons on Tuesday evenings",
    "my sister's wedding in Lisbon",
    "training for the harbour ten kilometre run",
    "the pottery class that keeps getting cancelled",
    "saving money for a second-hand sailing boat",
    "learning to bake sourdough with my grandmother",
)
TEXTS = [f"Memory {n}: I keep thinking about {TOPICS[n % len(TOPICS)]} (note {n})." for n in range(48)]
STREAMS = (Stream.DIALOGUE, Stream.EMPATHETIC, Stream.THERAPEUTIC, Stream.REFLECTION)
SCHEMA_1 = Path(__file__).parent / "data" / "stores" / "schema-1.sqlite3"


def fill(bank: MemoryBank, texts: list[str], start: float = 1_700_000_000.0) -> list[int]:
    memories = [
        NewMemory(STREAMS[n % 4], text, start + n, speaker="Sam" if n % 4 == 0 else "Joi")
        for n, text in enumerate(texts)
    ]
    return bank.add(memories)


@pytest.fixture(scope="module")
def healthy(tmp_path_factory, embedder) -> Path:
    """A profile folder with 48 memories in four streams and a saved vector cache."""
    path = tmp_path_factory.mktemp("healthy") / "profile"
    bank = MemoryBank(path, embedder, progress=False)
    fill(bank, TEXTS)
    bank.close()
    assert (path / MANIFEST).exists()
    return path


@pytest.fixture
def folder(healthy, tmp_path) -> Path:
    """A copy of the healthy profile folder, for this test to damage."""
    return Path(shutil.copytree(healthy, tmp_path / "profile"))


def snapshot(path: Path) -> dict[str, bytes]:
    """The folder's files, without SQLite's WAL index and an empty WAL (a failed open leaves them)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(path.iterdir())
        if p.is_file()
        and not p.name.endswith("-shm")
        and not (p.name.endswith("-wal") and not p.stat().st_size)
    }


def assert_whole(bank: MemoryBank, texts: list[str]) -> None:
    """Every memory is there with its text, the cache agrees, and recall finds each by its words."""
    assert [m.text for m in bank.all_memories()] == texts
    assert bank.vectors_from_other_models() == 0
    for stream in STREAMS:
        assert bank.indexed(stream) == bank.count(stream), stream
    for n in (0, 5, len(texts) - 1):
        stream = STREAMS[n % 4]
        found = bank.recall(texts[n], {stream: 1}, touch=False)[stream]
        assert found and found[0].memory.text == texts[n], (n, [r.memory.text for r in found])
        vector = bank.embedder.embed_passages([texts[n]])[0]
        [(nearest_id, cosine)] = bank.nearest(stream, vector, 1)
        assert bank.get([nearest_id])[0].text == texts[n] and cosine > 0.99


def assert_clear_store_error(exc: StoreError, path: Path, *words: str) -> None:
    message = str(exc)
    assert str(path) in message, message
    assert any(word in message.lower() for word in words), message
    assert "Traceback" not in message


# -- the database ----------------------------------------------------------------------------


def test_a_truncated_database_is_a_clear_error_and_is_left_alone(folder, embedder, tmp_path):
    store = folder / STORE_FILE
    os.truncate(store, store.stat().st_size // 2)
    before = snapshot(folder)
    with pytest.raises(StoreError) as caught:
        MemoryBank(folder, embedder, progress=False)
    assert_clear_store_error(caught.value, store, "malformed", "corrupt", "damaged")
    assert snapshot(folder) == before  # nothing rewritten, deleted or replaced: it can be recovered


@pytest.mark.parametrize("page", [0.35, 0.5, 0.8])
def test_a_database_with_a_page_overwritten_is_a_clear_error(folder, embedder, page):
    store = folder / STORE_FILE
    size = store.stat().st_size
    offset = int(size * page) // 4096 * 4096
    with store.open("r+b") as f:
        f.seek(offset)
        f.write(np.random.default_rng(7).bytes(4096))
    before = snapshot(folder)
    with pytest.raises(StoreError) as caught:
        MemoryBank(folder, embedder, progress=False)
    assert_clear_store_error(caught.value, store, "malformed", "corrupt", "damaged", "integrity")
    assert snapshot(folder) == before


def test_a_damaged_database_reaches_the_chat_as_a_store_error(folder, tmp_path, embedder):
    """What the chat tab gets when it opens the room of a profile whose store is damaged."""
    data_dir = tmp_path / "data"
    target = data_dir / "profiles" / profile_folder_name(PROFILE)
    shutil.copytree(folder, target)
    os.truncate(target / STORE_FILE, (target / STORE_FILE).stat().st_size // 3)
    coach = Coach(
        PriorityLLM(ProtocolLLM(), idle_before_background=0.0),
        embedder,
        data_dir,
        settings=replace(CoachSettings(), background=False),
    )
    try:
        with pytest.raises(StoreError) as caught:
            ChatRoom(coach, PROFILE)
        assert_clear_store_error(caught.value, target / STORE_FILE, "malformed", "corrupt", "damaged")
        with pytest.raises(StoreError):
            collect(coach.reply(PROFILE, "Hello again.", user_name="Sam"))
    finally:
        coach.close()


def test_words_changed_inside_a_stored_memory_are_not_served_silently(folder, embedder):
    """Bytes overwritten inside a record (not the page structure) change a memory's text.

    SQLite's quick_check looks at the b-tree structure only, so this damage passes it. The
    store must notice (a StoreError, like any other damage) rather than hand the changed
    words to the person and the model as if they had said them.
    """
    store = folder / STORE_FILE
    data = store.read_bytes()
    original = TEXTS[17].encode()
    assert data.count(original) == 1
    damaged = original.replace(b"thinking", b"xqzvwkjp")
    with store.open("r+b") as f:
        f.seek(data.index(original))
        f.write(damaged)
    try:
        bank = MemoryBank(folder, embedder, progress=False)
    except StoreError as exc:
        assert_clear_store_error(exc, store, "malformed", "corrupt", "damaged", "integrity", "checksum")
        return
    try:
        served = [m.text for m in bank.all_memories()]
    finally:
        bank.close()
    assert damaged.decode() not in served, "a damaged memory was served as if the person had said it"


def test_an_older_schema_is_migrated_with_every_memory_kept(tmp_path, embedder):
    data_dir = tmp_path / "data"
    target = data_dir / "profiles" / profile_folder_name(PROFILE)
    target.mkdir(parents=True)
    shutil.copy(SCHEMA_1, target / STORE_FILE)
    with sqlite3.connect(SCHEMA_1) as old:
        version = old.execute("PRAGMA user_version").fetchone()[0]
        rows = old.execute("SELECT id, stream, text, importance FROM memories ORDER BY id").fetchall()
    assert version < SCHEMA_VERSION and rows
    backend = ProtocolLLM(spoken="Good to hear from you again, Sam. What is on your mind this week?")
    coach = Coach(
        PriorityLLM(backend, idle_before_background=0.0),
        embedder,
        data_dir,
        settings=replace(CoachSettings(), background=False),
    )
    try:
        bank = coach.bank(PROFILE)
        kept = [(m.id, m.stream.value, m.text, m.importance) for m in bank.get([r[0] for r in rows])]
        assert kept == [tuple(r) for r in rows]
        assert bank.vectors_from_other_models() == 0
        for stream in STREAMS:
            assert bank.indexed(stream) == bank.count(stream)
        _, _, turn = collect(coach.reply(PROFILE, "I am back after a long break.", user_name="Sam"))
        assert turn is not None and bank.get([turn.user_memory_id])[0].text == "I am back after a long break."
    finally:
        coach.close()
    with sqlite3.connect(target / STORE_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("SELECT COUNT(*) FROM memories").fetchone()[0] == len(rows) + 4


def test_a_store_from_a_newer_joi_is_refused_untouched(folder, embedder):
    store = folder / STORE_FILE
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    before = snapshot(folder)
    with pytest.raises(StoreError) as caught:
        MemoryBank(folder, embedder, progress=False)
    assert_clear_store_error(caught.value, store, "update joi")
    assert snapshot(folder) == before


# -- the vector cache ------------------------------------------------------------------------


def test_a_missing_cache_is_rebuilt(folder, embedder):
    for path in folder.glob("vectors*"):
        path.unlink()
    bank = MemoryBank(folder, embedder, progress=False)
    try:
        assert not bank.cache_was_loaded
        assert_whole(bank, TEXTS)
    finally:
        bank.close()
    assert (folder / MANIFEST).exists()


def test_a_stale_cache_is_rebuilt(folder, embedder, tmp_path):
    old_cache = tmp_path / "old-cache"
    old_cache.mkdir()
    for path in folder.glob("vectors*"):
        shutil.copy(path, old_cache / path.name)
    bank = MemoryBank(folder, embedder, progress=False)
    more = [f"Later memory {n}: the {TOPICS[n % len(TOPICS)]} went better than I feared." for n in range(8)]
    fill(bank, more, start=1_800_000_000.0)
    bank.close()
    for path in old_cache.iterdir():  # the cache as it was before the last eight memories
        shutil.copy(path, folder / path.name)
    bank = MemoryBank(folder, embedder, progress=False)
    try:
        assert not bank.cache_was_loaded
        assert [m.text for m in bank.all_memories()] == TEXTS + more
        for stream in STREAMS:
            assert bank.indexed(stream) == bank.count(stream)
        found = bank.recall(more[4], {Stream.DIALOGUE: 1}, touch=False)[Stream.DIALOGUE]
        assert found[0].memory.text == more[4]
    finally:
        bank.close()


@pytest.mark.parametrize("damage", ["header", "truncated", "manifest", "empty"])
def test_a_corrupt_cache_file_is_rebuilt(folder, embedder, damage):
    index = folder / "vectors-dialogue.faiss"
    if damage == "header":
        with index.open("r+b") as f:
            f.write(np.random.default_rng(1).bytes(64))
    elif damage == "truncated":
        os.truncate(index, index.stat().st_size // 2)
    elif damage == "manifest":
        (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    else:
        index.write_bytes(b"")
    bank = MemoryBank(folder, embedder, progress=False)
    try:
        assert not bank.cache_was_loaded
        assert_whole(bank, TEXTS)
    finally:
        bank.close()


def test_vectors_overwritten_inside_a_cache_file_are_not_trusted(folder, embedder):
    """Bytes overwritten in the vector data of a cache file (its header intact) leave a file
    FAISS reads without complaint. The cache must not be trusted then (a rebuild), or recall
    silently misses memories that SQLite still holds."""
    index = folder / "vectors-dialogue.faiss"
    size = index.stat().st_size
    with index.open("r+b") as f:
        f.seek(size // 4)
        f.write(np.random.default_rng(2).bytes(size // 3))
    bank = MemoryBank(folder, embedder, progress=False)
    try:
        assert_whole(bank, TEXTS)
    finally:
        bank.close()


class OtherModel:
    """Another embedding model: its own id, its own (smaller) vectors."""

    def __init__(self, real, dim: int = 128) -> None:
        self.real, self.dim = real, dim
        self.name = "another-model"

    @property
    def model_id(self) -> str:
        return f"{self.name}#{self.dim}"

    same_space_for_queries = True

    def _other(self, vectors: np.ndarray) -> np.ndarray:
        picked = np.ascontiguousarray(vectors[:, ::-1][:, : self.dim])
        return picked / np.linalg.norm(picked, axis=1, keepdims=True)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._other(self.real.embed_passages(texts))

    def embed_query(self, text: str) -> np.ndarray:
        return self._other(self.real.embed_passages([text]))[0]


def test_a_store_and_cache_from_another_embedding_model_are_re_embedded(tmp_path, embedder):
    folder = tmp_path / "profile"
    other = MemoryBank(folder, OtherModel(embedder), progress=False)
    fill(other, TEXTS)
    other.close()
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["model_id"] == "another-model#128"
    bank = MemoryBank(folder, embedder, progress=False)
    try:
        assert not bank.cache_was_loaded
        assert_whole(bank, TEXTS)
    finally:
        bank.close()
    assert json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["model_id"] == embedder.model_id


# -- a folder Joi may not write to -------------------------------------------------------------


def _without_permission_override() -> list[str]:
    """How to run a command that the kernel holds to file permissions, as it holds a person."""
    if os.geteuid() != 0:
        return []
    capsh = shutil.which("capsh")
    if capsh is None:
        pytest.fail("running as root without capsh: no honest way to test a read-only folder here")
    return [capsh, "--drop=cap_dac_override,cap_dac_read_search,cap_fowner", "--", "-c", '"$0" "$@"']


def test_a_folder_without_write_permission_is_a_clear_error(folder, tmp_path):
    """Run as root, ``chmod`` binds nobody; the probe runs with the capabilities that let root
    ignore file modes dropped (``capsh``), so the refusals below are the kernel's, as a person
    with a read-only folder would meet them."""
    root = tmp_path / "ro"
    root.mkdir()
    profile = root / "readonly-profile"
    shutil.copytree(folder, profile)
    (root / "readonly-data").mkdir()
    for path in profile.iterdir():
        path.chmod(0o444)
    for path in (profile, root / "readonly-data"):
        path.chmod(0o555)
    before = snapshot(profile)
    try:
        result = subprocess.run(
            [
                *_without_permission_override(),
                sys.executable,
                str(Path(__file__).with_name("permission_probe.py")),
                str(root),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=Path(__file__).parent.parent,
        )
    finally:
        for path in (profile, root / "readonly-data"):
            path.chmod(0o755)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print("\npermission probe:", json.dumps(report, indent=1))
    assert report["can_write"] is False, "the probe could still write: the test proves nothing"
    assert snapshot(profile) == before

    existing = report["existing profile"]
    assert existing["store_error"], existing
    assert str(profile) in existing["message"] and "readonly" in existing["message"].replace("-", ""), (
        existing
    )

    new = report["new profile"]
    assert new["store_error"] or new["raised"] == "PermissionError", new
    assert str(root / "readonly-data") in new["message"], new

    # The CLI checks the data folder before it loads the models: a clear ConfigError
    # ("joi-coach: …", no traceback), not a PermissionError later or a failure in the browser.
    wrong = {
        case: f"{report[case]['raised']}: {report[case].get('message')}"
        for case in ("cli, data folder cannot be created", "cli, data folder read-only")
        if not report[case]["config_error"] or str(root / "readonly-data") not in report[case]["message"]
    }
    assert not wrong, f"the CLI should stop with a clear ConfigError naming the folder: {wrong}"
