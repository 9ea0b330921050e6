"""Backups: a consistent copy while Joi writes, a restore that checks everything first.

Real stores (SQLite, SQLCipher where installed) and the real embedding model. A backup taken
while another thread stores memories holds every memory committed before it began; restored
into a new folder it gives the same memories, a rebuilt vector cache and working recall. A
corrupt, truncated, newer-schema or wrongly-encrypted backup is refused with a clear error and
the profile it would have replaced is left exactly as it was. An encrypted store's backup holds
no readable word. Forgetting everything empties the store, the settings, the exports and what
the chat room shows.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from joi_coach.app import cli
from joi_coach.chat_room import ChatRooms
from joi_coach.coach import Coach
from joi_coach.config import CoachSettings
from joi_coach.llm.priority import PriorityLLM
from joi_coach.memory import backup as backups
from joi_coach.memory import encryption
from joi_coach.memory.bank import STORE_FILE, MemoryBank
from joi_coach.memory.migrations import SCHEMA_VERSION
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.profiles import profile_folder_name
from scripted_llm import ScriptedLLM

MARKER = "zqweltrand"  # a word that occurs nowhere but in these memories
PASSPHRASE = "correct horse battery staple"
CHEAP = 2**12  # scrypt cost for tests
NOW = 1_700_000_000.0
PROFILE = "ann"


@pytest.fixture(autouse=True)
def forget_keys():
    yield
    encryption._unlocked.clear()


def folder_of(data_dir: Path, profile: str = PROFILE) -> Path:
    return data_dir / "profiles" / profile_folder_name(profile)


def open_bank(data_dir: Path, embedder, profile: str = PROFILE) -> MemoryBank:
    return MemoryBank(folder_of(data_dir, profile), embedder, progress=False)


def seed(data_dir: Path, embedder, profile: str = PROFILE) -> list[tuple[str, str]]:
    """A few memories with a reflection citing them, a safety plan and a settings file."""
    bank = open_bank(data_dir, embedder, profile)
    ids = bank.add(
        [
            NewMemory(Stream.DIALOGUE, f"My secret word is {MARKER}.", NOW, speaker="Ann"),
            NewMemory(
                Stream.DIALOGUE, "I want to learn to play the cello this year.", NOW + 10, speaker="Ann"
            ),
            NewMemory(
                Stream.DIALOGUE, "That is a lovely goal. What draws you to it?", NOW + 20, speaker="Joi"
            ),
            NewMemory(Stream.EMPATHETIC, "Ann sounds hopeful about music.", NOW + 20, speaker="Joi"),
        ]
    )
    bank.add(
        [
            NewMemory(
                Stream.REFLECTION, "Ann is drawn to music as a new challenge.", NOW + 30, evidence=(ids[1],)
            )
        ]
    )
    bank.save_safety_plan({"warning_signs": f"when I stop saying {MARKER}"}, NOW)
    goal = bank.plans.add("goal", "learn to play the cello this year", NOW + 10, evidence=[ids[1]], by="joi")
    bank.plans.set_status(goal.id, "done", NOW + 40)
    texts = sorted((m.stream.value, m.text) for m in bank.all_memories())
    bank.close()
    (folder_of(data_dir, profile) / "settings.json").write_text(
        json.dumps({"k": {"dialogue": 2}}), encoding="utf-8"
    )
    return texts


def contents(data_dir: Path, embedder, profile: str = PROFILE) -> list[tuple[str, str]]:
    bank = open_bank(data_dir, embedder, profile)
    try:
        return sorted((m.stream.value, m.text) for m in bank.all_memories())
    finally:
        bank.close()


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file of a folder (recursively) with the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def rezip(source: Path, target: Path, change) -> None:
    """Copy a backup, letting ``change(members)`` edit the members (a dict name -> bytes)."""
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def resum(members: dict[str, bytes]) -> None:
    """Make the manifest's checksums match the (edited) members again."""
    manifest = json.loads(members["manifest.json"])
    manifest["files"] = {n: hashlib.sha256(members[n]).hexdigest() for n in manifest["files"]}
    members["manifest.json"] = json.dumps(manifest).encode()


# -- a consistent copy while Joi writes -------------------------------------------------------------
def test_a_backup_taken_while_another_thread_writes_has_every_memory_committed_before_it(tmp_path, embedder):
    bank = open_bank(tmp_path / "data", embedder)
    rng = np.random.default_rng(0)

    def vectors(n: int) -> np.ndarray:
        v = rng.standard_normal((n, embedder.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    for start in range(0, 3000, 500):  # a store big enough that the copy takes a while
        bank.add(
            [
                NewMemory(Stream.DIALOGUE, f"line {i} {MARKER}", NOW + i, speaker="Ann")
                for i in range(start, start + 500)
            ],
            vectors(500),
        )
    committed: list[int] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        n = 0
        try:
            while not stop.is_set():
                batch = [
                    NewMemory(Stream.DIALOGUE, f"written meanwhile {n} {k}", NOW + 10_000 + n, speaker="Ann")
                    for k in range(3)
                ]
                committed.extend(bank.add(batch, vectors(3)))  # returns once the transaction committed
                n += 1
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        manifests = []
        for round_ in range(5):
            time.sleep(0.05)
            before = list(committed)
            destination = tmp_path / f"backup-{round_}.zip"
            manifests.append(
                (before, destination, backups.backup(folder_of(tmp_path / "data"), destination, PROFILE))
            )
    finally:
        stop.set()
        writer.join()
    assert not errors
    written_during = len(committed)
    bank.close()
    assert written_during > 0
    for before, destination, manifest in manifests:
        with zipfile.ZipFile(destination) as zf:
            (tmp_path / "copy.sqlite3").write_bytes(zf.read(STORE_FILE))
        db = sqlite3.connect(tmp_path / "copy.sqlite3")
        try:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            stored = {r[0] for r in db.execute("SELECT id FROM memories")}
            assert set(range(1, 3001)) <= stored
            assert set(before) <= stored  # everything committed before the backup began
            assert len(stored) == manifest.memories
            # whole transactions only: the three memories of one write are there together or not at all
            meanwhile = sorted(r[0] for r in db.execute("SELECT id FROM memories WHERE id > 3000"))
            assert len(meanwhile) % 3 == 0
        finally:
            db.close()
        assert manifest.schema_version == SCHEMA_VERSION
        assert manifest.embedding_model == embedder.model_id
        assert not manifest.encrypted


# -- restoring -------------------------------------------------------------------------------------
def test_restore_into_a_fresh_folder_gives_the_same_memories_a_rebuilt_index_and_recall(tmp_path, embedder):
    texts = seed(tmp_path / "old", embedder)
    backup_file = tmp_path / "ann.zip"
    manifest = backups.backup(folder_of(tmp_path / "old"), backup_file, PROFILE)
    assert manifest.memories == len(texts) and manifest.profile == PROFILE
    assert set(manifest.files) == {STORE_FILE, "settings.json"}

    new = tmp_path / "new"
    report = backups.restore(backup_file, new, PROFILE, folder_of(new), embedder=embedder)
    assert report.memories == len(texts)
    assert not list(folder_of(new).parent.glob(".joi-restore-*"))  # the scratch copy is gone
    bank = open_bank(new, embedder)
    try:
        assert bank.cache_was_loaded  # the restore rebuilt and saved the vector cache
        assert sorted((m.stream.value, m.text) for m in bank.all_memories()) == texts
        for stream in Stream:
            assert bank.indexed(stream) == bank.count(stream)
        [reflection] = bank.memories(Stream.REFLECTION)
        assert [m.text for m in bank.get(list(reflection.evidence))] == [
            "I want to learn to play the cello this year."
        ]
        found = bank.recall("which instrument did I want to learn?", {Stream.DIALOGUE: 1}, touch=False)
        assert "cello" in found[Stream.DIALOGUE][0].memory.text
        assert MARKER in bank.safety_plan()["warning_signs"]
        [goal] = bank.plans.entries()
        assert (goal.text, goal.status.value) == ("learn to play the cello this year", "done")
        assert [c.change for c in bank.plans.history(goal.id)] == ["noted", "status"]
        assert [m.text for m in bank.get(list(goal.evidence))] == [
            "I want to learn to play the cello this year."
        ]
    finally:
        bank.close()
    assert json.loads((folder_of(new) / "settings.json").read_text()) == {"k": {"dialogue": 2}}


def test_restore_replaces_an_existing_profile_and_a_running_one_is_refused(tmp_path, embedder):
    data = tmp_path / "data"
    texts = seed(data, embedder)
    backup_file = tmp_path / "ann.zip"
    backups.backup(folder_of(data), backup_file, PROFILE)
    bank = open_bank(data, embedder)
    bank.add([NewMemory(Stream.DIALOGUE, "Written after the backup.", NOW + 99, speaker="Ann")])
    with pytest.raises(backups.BackupError, match="stop Joi"):
        backups.restore(backup_file, data, PROFILE, folder_of(data), embedder=embedder)
    bank.close()
    (folder_of(data) / "settings.json").unlink()
    backups.restore(backup_file, data, PROFILE, folder_of(data), embedder=embedder)
    assert contents(data, embedder) == texts
    assert (folder_of(data) / "settings.json").is_file()
    assert not list(folder_of(data).glob("*.replaced"))


@pytest.fixture
def target(tmp_path, embedder):
    """A data folder with a profile whose files must survive every refused restore."""
    data = tmp_path / "target"
    bank = open_bank(data, embedder)
    bank.add([NewMemory(Stream.DIALOGUE, "The target's own memory.", NOW, speaker="Ann")])
    bank.close()
    return data


@pytest.fixture
def good_backup(tmp_path, embedder) -> Path:
    seed(tmp_path / "source", embedder)
    path = tmp_path / "good.zip"
    backups.backup(folder_of(tmp_path / "source"), path, PROFILE)
    return path


def refused(source: Path, data: Path, embedder, match: str, **kwargs) -> None:
    before = fingerprint(data)
    with pytest.raises(backups.BackupError, match=match) as info:
        backups.restore(source, data, PROFILE, folder_of(data), embedder=embedder, **kwargs)
    assert "nothing was restored" in str(info.value)
    assert fingerprint(data) == before  # not a byte of the profile changed, no scratch left


def test_a_truncated_backup_is_refused(tmp_path, embedder, target, good_backup):
    blob = good_backup.read_bytes()
    for cut in (len(blob) // 2, len(blob) - 30, 100):
        truncated = tmp_path / f"truncated-{cut}.zip"
        truncated.write_bytes(blob[:cut])
        refused(truncated, target, embedder, "truncated or damaged|damaged")


def test_a_corrupt_backup_is_refused(tmp_path, embedder, target, good_backup):
    blob = bytearray(good_backup.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(blob))) as zf:
        info = zf.getinfo(STORE_FILE)
    middle = info.header_offset + 100 + info.compress_size // 2  # inside the store's compressed bytes
    for i in range(middle, middle + 16):
        blob[i] ^= 0x5A
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(blob))
    refused(corrupt, target, embedder, "damaged")

    def break_a_page(members: dict[str, bytes]) -> None:  # a damaged store with matching checksums
        store = bytearray(members[STORE_FILE])
        page = 4096
        for i in range(2 * page + 8, 3 * page):
            store[i] = 0xFF
        members[STORE_FILE] = bytes(store)
        resum(members)

    damaged_store = tmp_path / "damaged-store.zip"
    rezip(good_backup, damaged_store, break_a_page)
    refused(damaged_store, target, embedder, "integrity check|damaged")

    not_a_backup = tmp_path / "notes.zip"
    with zipfile.ZipFile(not_a_backup, "w") as zf:
        zf.writestr("notes.txt", "hello")
    refused(not_a_backup, target, embedder, "not a Joi Coach backup")
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"\0" * 5000)
    refused(garbage, target, embedder, "not a Joi backup")


def test_a_backup_from_a_newer_schema_is_refused(tmp_path, embedder, target, good_backup):
    source = tmp_path / "future"
    bank = open_bank(source, embedder)
    bank.add([NewMemory(Stream.DIALOGUE, "From the future.", NOW, speaker="Ann")])
    bank.close()
    with sqlite3.connect(folder_of(source) / STORE_FILE) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    future = tmp_path / "future.zip"
    manifest = backups.backup(folder_of(source), future, PROFILE)
    assert manifest.schema_version == SCHEMA_VERSION + 1
    refused(future, target, embedder, "newer than this Joi")

    def claim_an_old_schema(members: dict[str, bytes]) -> None:  # the manifest lies; the store does not
        data = json.loads(members["manifest.json"])
        data["schema_version"] = SCHEMA_VERSION
        members["manifest.json"] = json.dumps(data).encode()

    lying = tmp_path / "lying.zip"
    rezip(future, lying, claim_an_old_schema)
    refused(lying, target, embedder, "newer than this Joi")

    def newer_format(members: dict[str, bytes]) -> None:
        data = json.loads(members["manifest.json"])
        data["version"] = backups.BACKUP_VERSION + 1
        members["manifest.json"] = json.dumps(data).encode()

    newer = tmp_path / "newer-format.zip"
    rezip(good_backup, newer, newer_format)
    refused(newer, target, embedder, "newer than this Joi")


def test_the_cli_backs_up_and_restores_and_refuses_with_a_message(tmp_path, embedder, capsys):
    data = tmp_path / "data"
    texts = seed(data, embedder)
    assert cli.main(["backup", str(tmp_path), "--data-dir", str(data), "--profile", PROFILE]) == 0
    [written] = tmp_path.glob("joi-backup-*.zip")
    assert "NOT encrypted" in capsys.readouterr().out
    other = tmp_path / "other"
    code = cli.main(["restore", str(written), "--data-dir", str(other), "--yes"])  # the profile named inside
    assert code == 0
    assert contents(other, embedder) == texts
    bad = tmp_path / "bad.zip"
    bad.write_bytes(written.read_bytes()[:500])
    with pytest.raises(SystemExit) as stop:
        cli.main(["restore", str(bad), "--data-dir", str(other), "--yes"])
    assert "truncated or damaged" in str(stop.value.code)
    assert contents(other, embedder) == texts
    with pytest.raises(SystemExit) as stop:
        cli.main(["backup", str(tmp_path / "x.zip"), "--data-dir", str(data), "--profile", "nobody"])
    assert "no memories to back up" in str(stop.value.code)


# -- encrypted stores ---------------------------------------------------------------------------------
@pytest.fixture
def sqlcipher():
    return pytest.importorskip("sqlcipher3", reason="the 'encryption' extra is not installed")


def encrypted_folder(data: Path, embedder) -> list[tuple[str, str]]:
    texts = seed(data, embedder)
    encryption.set_passphrase(data, PASSPHRASE, cost=CHEAP)
    return texts


def test_an_encrypted_stores_backup_is_unreadable_without_the_key(tmp_path, embedder, sqlcipher):
    data = tmp_path / "data"
    encrypted_folder(data, embedder)
    path = tmp_path / "encrypted.zip"
    manifest = backups.backup(folder_of(data), path, PROFILE)
    assert manifest.encrypted
    assert set(manifest.files) == {STORE_FILE, "settings.json", encryption.KEY_FILE}
    blob = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    for data_bytes in (blob, *members.values()):
        assert MARKER.encode() not in data_bytes
        assert b"cello" not in data_bytes
    assert not members[STORE_FILE].startswith(encryption.SQLITE_MAGIC)
    assert encryption.is_sealed(members["settings.json"])
    (tmp_path / "stolen.sqlite3").write_bytes(members[STORE_FILE])
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(tmp_path / "stolen.sqlite3").execute("SELECT * FROM memories").fetchall()


def test_an_encrypted_backup_restores_into_its_folder_and_into_a_new_one_with_the_passphrase(
    tmp_path, embedder, sqlcipher
):
    data = tmp_path / "data"
    texts = encrypted_folder(data, embedder)
    path = tmp_path / "encrypted.zip"
    backups.backup(folder_of(data), path, PROFILE)
    bank = open_bank(data, embedder)
    bank.forget_everything()
    bank.close()
    backups.restore(path, data, PROFILE, folder_of(data), embedder=embedder)
    assert contents(data, embedder) == texts

    new = tmp_path / "new"
    encryption._unlocked.clear()
    refused_fresh = fingerprint(tmp_path / "data")
    with pytest.raises(backups.BackupError, match="passphrase"):
        backups.restore(
            path, new, PROFILE, folder_of(new), embedder=embedder, passphrase="not the passphrase"
        )
    with pytest.raises(backups.BackupError, match="give the passphrase"):
        backups.restore(path, new, PROFILE, folder_of(new), embedder=embedder)
    assert not encryption.is_encrypted(new)
    assert fingerprint(tmp_path / "data") == refused_fresh
    backups.restore(path, new, PROFILE, folder_of(new), embedder=embedder, passphrase=PASSPHRASE)
    assert encryption.is_encrypted(new)
    assert contents(new, embedder) == texts
    encryption._unlocked.clear()
    encryption.unlock(new, PASSPHRASE)
    assert contents(new, embedder) == texts


def test_a_plain_backup_into_an_encrypted_folder_and_the_reverse_are_refused(tmp_path, embedder, sqlcipher):
    plain_backup = tmp_path / "plain.zip"
    seed(tmp_path / "plain-source", embedder)
    backups.backup(folder_of(tmp_path / "plain-source"), plain_backup, PROFILE)
    encrypted = tmp_path / "encrypted"
    encrypted_folder(encrypted, embedder)
    encrypted_backup = tmp_path / "encrypted.zip"
    backups.backup(folder_of(encrypted), encrypted_backup, PROFILE)

    refused(plain_backup, encrypted, embedder, "not encrypted, but the data folder is")
    plain_target = tmp_path / "plain-target"
    seed(plain_target, embedder)
    refused(
        encrypted_backup,
        plain_target,
        embedder,
        "encrypted, but the data folder is not",
        passphrase=PASSPHRASE,
    )

    other = tmp_path / "other-encrypted"  # another folder, another key
    encrypted_folder(other, embedder)
    refused(encrypted_backup, other, embedder, "another encrypted data folder")

    encryption._unlocked.clear()  # a locked folder is a clear error too
    refused(encrypted_backup, encrypted, embedder, "unlock it")


# -- forgetting everything -------------------------------------------------------------------------------
def test_forget_everything_empties_the_store_settings_exports_and_the_chat_room(tmp_path, embedder):
    coach = Coach(
        PriorityLLM(ScriptedLLM([]), idle_before_background=0.0),
        embedder,
        tmp_path / "data",
        settings=replace(CoachSettings(), background=False),
    )
    try:
        bank = coach.bank(PROFILE)
        bank.add(
            [
                NewMemory(Stream.DIALOGUE, f"I told Joi {MARKER}.", NOW, speaker="Ann", conversation="c1"),
                NewMemory(
                    Stream.DIALOGUE, "Thank you for telling me.", NOW + 1, speaker="Joi", conversation="c1"
                ),
            ]
        )
        bank.set_meta("current_conversation", "c1")
        coach.update_settings(PROFILE, {"k": {"dialogue": 2}})
        rooms = ChatRooms(coach)
        room = rooms.room(PROFILE)
        assert room.view().history[0].text == f"I told Joi {MARKER}."
        exports = tmp_path / "exports"
        (exports / "export-1").mkdir(parents=True)
        (exports / "export-1" / "joi.json").write_text(MARKER)
        heard: list[str] = []
        coach.on_forget(heard.append)

        assert coach.forget_everything(PROFILE, exports=[exports]) == 2
        assert heard == [PROFILE]
        assert room.view().history == ()
        assert room.view().conversation != "c1"
        assert bank.count() == 0
        assert not (coach.profile_settings._path(PROFILE)).exists()
        assert coach.settings_for(PROFILE).k == CoachSettings().k
        assert exports.is_dir() and not list(exports.rglob("*"))
        rooms.close()
    finally:
        coach.close()
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert MARKER.encode() not in path.read_bytes(), path
