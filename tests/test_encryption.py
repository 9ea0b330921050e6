"""Encryption at rest: with a passphrase nothing a person said is readable from the files.

Real store (SQLCipher), real embedding model, a scripted LLM through full turns. Every file
in the data folder is searched for a marker word from a message; the FAISS cache and the
settings are checked not to be readable in their plain formats; a wrong passphrase is a
clear error; changing it works; a plain folder is encrypted in place with every memory kept,
and a crash in the middle leaves a state the next unlock finishes.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace
from pathlib import Path

import faiss
import pytest

pytest.importorskip("sqlcipher3", reason="the 'encryption' extra is not installed")

from joi_coach.app import cli
from joi_coach.coach import Coach, collect
from joi_coach.config import CoachSettings
from joi_coach.llm.priority import PriorityLLM
from joi_coach.memory import encryption
from joi_coach.memory.bank import STORE_FILE, MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.profiles import profile_folder_name
from joi_coach.safety.settings import SafetySettings
from scripted_llm import ScriptedLLM

MARKER = "qorvexint"  # a word from a message, stored whole in text and in the FTS index
PASSPHRASE = "correct horse battery staple"
CHEAP = 2**12  # scrypt cost for tests (the default is 2**17)
NOW = 1_700_000_000.0

# The scripted model answers the reply steps only: no safety question is put to it.
NO_MODEL_OPINION = SafetySettings(llm_opinion=False)


@pytest.fixture(autouse=True)
def forget_keys():
    """Each test starts with no folder unlocked in this process."""
    yield
    encryption._unlocked.clear()


def files_with(folder: Path, needle: bytes) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()
    )


def reply_script(spoken: str) -> list[str]:
    return [" tired after a long week.", " to rest before planning.", spoken]


def new_coach(data_dir: Path, embedder, completions: list[str]) -> Coach:
    settings = replace(CoachSettings(), background=False, safety=NO_MODEL_OPINION)
    return Coach(
        PriorityLLM(ScriptedLLM(completions), idle_before_background=0.0),
        embedder,
        data_dir,
        settings=settings,
    )


def talk(data_dir: Path, embedder, profile: str = "ann") -> None:
    """Two full turns and a personal setting, then close (everything flushed)."""
    coach = new_coach(data_dir, embedder, reply_script("That sounds heavy.") + reply_script("Tell me more."))
    collect(coach.reply(profile, f"My secret word is {MARKER} and I am tired", user_name="Ann", now=NOW))
    collect(coach.reply(profile, f"I keep thinking about {MARKER} at night", user_name="Ann", now=NOW + 60))
    coach.update_settings(profile, {"safety": {"own_contacts": [f"{MARKER} sister 555 0100"]}})
    coach.bank(profile).save_safety_plan({"warning_signs": f"when I stop saying {MARKER}"}, NOW)
    coach.bank(profile).plans.add("commitment", f"say {MARKER} to my sister on Sunday", NOW)
    coach.close()


def memories_of(data_dir: Path, embedder, profile: str = "ann") -> list[tuple[str, str]]:
    bank = MemoryBank(data_dir / "profiles" / profile_folder_name(profile), embedder, progress=False)
    try:
        return sorted((m.stream.value, m.text) for m in bank.all_memories())
    finally:
        bank.close()


def test_turns_stored_with_a_passphrase_are_unreadable_on_disk(tmp_path, embedder):
    encryption.set_passphrase(tmp_path, PASSPHRASE, cost=CHEAP)
    talk(tmp_path, embedder)
    folder = tmp_path / "profiles" / profile_folder_name("ann")
    assert (folder / STORE_FILE).is_file() and (folder / "settings.json").is_file()
    assert files_with(tmp_path, MARKER.encode()) == []
    assert files_with(tmp_path, b"SQLite format 3") == []
    settings = (folder / "settings.json").read_bytes()
    with pytest.raises(ValueError):
        json.loads(settings)
    caches = sorted(folder.glob("vectors*"))
    assert len(caches) == 5
    for cache in caches:
        assert encryption.is_sealed(cache.read_bytes())
        if cache.suffix == ".faiss":
            with pytest.raises(RuntimeError):
                faiss.read_index(str(cache))
    # the same folder, unlocked again, holds everything
    encryption._unlocked.clear()
    with pytest.raises(encryption.Locked):
        MemoryBank(folder, embedder, progress=False)
    encryption.unlock(tmp_path, PASSPHRASE)
    texts = [text for _, text in memories_of(tmp_path, embedder)]
    assert sum(MARKER in t for t in texts) == 2
    bank = MemoryBank(folder, embedder, progress=False)
    assert bank.cache_was_loaded and bank.safety_plan()["warning_signs"].endswith(MARKER)
    assert [e.text for e in bank.plans.entries()] == [f"say {MARKER} to my sister on Sunday"]
    bank.close()
    coach = new_coach(tmp_path, embedder, [])
    assert coach.settings_for("ann").safety.own_contacts == (f"{MARKER} sister 555 0100",)
    coach.close()


def test_a_wrong_passphrase_is_a_clear_error(tmp_path, embedder, capsys):
    encryption.set_passphrase(tmp_path, PASSPHRASE, cost=CHEAP)
    talk(tmp_path, embedder)
    encryption._unlocked.clear()
    with pytest.raises(encryption.WrongPassphrase):
        encryption.unlock(tmp_path, "not the passphrase")
    wrong = tmp_path.parent / f"{tmp_path.name}-wrong.txt"
    wrong.write_text("not the passphrase\n", encoding="utf-8")
    with pytest.raises(SystemExit) as stopped:
        cli.main(["--data-dir", str(tmp_path), "--passphrase-file", str(wrong)])
    assert "passphrase does not open" in str(stopped.value.code)
    assert "Traceback" not in capsys.readouterr().err
    with pytest.raises(SystemExit) as stopped:  # no passphrase, no terminal
        cli.main(["--data-dir", str(tmp_path)])
    assert "encrypted" in str(stopped.value.code) and "JOI_PASSPHRASE" in str(stopped.value.code)
    assert not encryption._unlocked


def test_changing_the_passphrase(tmp_path, embedder):
    encryption.set_passphrase(tmp_path, PASSPHRASE, cost=CHEAP)
    talk(tmp_path, embedder)
    before = memories_of(tmp_path, embedder)
    store = (tmp_path / "profiles" / profile_folder_name("ann") / STORE_FILE).read_bytes()
    encryption.change_passphrase(tmp_path, PASSPHRASE, "a brand new passphrase", cost=CHEAP)
    assert (
        tmp_path / "profiles" / profile_folder_name("ann") / STORE_FILE
    ).read_bytes() == store  # rewrap only
    encryption._unlocked.clear()
    with pytest.raises(encryption.WrongPassphrase):
        encryption.unlock(tmp_path, PASSPHRASE)
    encryption.unlock(tmp_path, "a brand new passphrase")
    assert memories_of(tmp_path, embedder) == before
    assert list(tmp_path.glob(f"{encryption.KEY_FILE}.*")) == []
    with pytest.raises(encryption.EncryptionError):
        encryption.change_passphrase(tmp_path, "a brand new passphrase", "short")


def test_encrypting_a_plain_folder_keeps_every_memory(tmp_path, embedder):
    talk(tmp_path, embedder)
    talk(tmp_path, embedder, profile="bob")
    before = {p: memories_of(tmp_path, embedder, p) for p in ("ann", "bob")}
    (tmp_path / "webui-profiles.json").write_text(json.dumps([f"{MARKER} & Joi"]), encoding="utf-8")
    assert files_with(tmp_path, MARKER.encode())  # plain: the marker is there
    encryption.set_passphrase(tmp_path, PASSPHRASE, cost=CHEAP)
    assert files_with(tmp_path, MARKER.encode()) == []
    assert [p.name for p in tmp_path.rglob("*.plain")] == []
    encryption._unlocked.clear()
    encryption.unlock(tmp_path, PASSPHRASE)
    assert {p: memories_of(tmp_path, embedder, p) for p in ("ann", "bob")} == before
    assert json.loads(encryption.read_private(tmp_path / "webui-profiles.json")) == [f"{MARKER} & Joi"]
    coach = new_coach(tmp_path, embedder, [])
    assert coach.settings_for("bob").safety.own_contacts == (f"{MARKER} sister 555 0100",)
    coach.close()
    with pytest.raises(encryption.EncryptionError):
        encryption.set_passphrase(tmp_path, PASSPHRASE, cost=CHEAP)  # already encrypted


def test_a_crash_between_stores_is_finished_by_the_next_unlock(tmp_path, embedder, monkeypatch):
    talk(tmp_path, embedder)
    talk(tmp_path, embedder, profile="bob")
    before = {p: memories_of(tmp_path, embedder, p) for p in ("ann", "bob")}
    first, second = sorted((tmp_path / "profiles").iterdir())
    real_replace = os.replace

    def crash_on_second(src, dst, *args, **kwargs):
        if Path(dst) == second / STORE_FILE:
            raise OSError("simulated crash")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", crash_on_second)
    with pytest.raises(OSError, match="simulated crash"):
        encryption.set_passphrase(tmp_path, PASSPHRASE, cost=CHEAP)
    monkeypatch.setattr(os, "replace", real_replace)
    encryption._unlocked.clear()
    # every store is whole: the first encrypted, the second still plain and intact
    assert not encryption.is_plain_sqlite(first / STORE_FILE)
    assert encryption.is_plain_sqlite(second / STORE_FILE)
    plain = sqlite3.connect(second / STORE_FILE)
    assert plain.execute("PRAGMA quick_check").fetchone() == ("ok",)
    plain.close()
    with pytest.raises(encryption.Locked):  # never opened (or written) without the key
        MemoryBank(second, embedder, progress=False)
    encryption.unlock(tmp_path, PASSPHRASE)  # finishes the job
    assert not encryption.is_plain_sqlite(second / STORE_FILE)
    assert [p.name for p in tmp_path.rglob("*") if p.suffix in (".plain", ".encrypting")] == []
    assert files_with(tmp_path, MARKER.encode()) == []
    assert {p: memories_of(tmp_path, embedder, p) for p in ("ann", "bob")} == before


def test_a_store_left_plain_is_encrypted_when_opened_with_the_key(tmp_path, embedder):
    folder = tmp_path / "profiles" / profile_folder_name("ann")
    bank = MemoryBank(folder, embedder, progress=False)
    bank.add([NewMemory(Stream.DIALOGUE, f"plain {MARKER}", NOW)])
    bank.close()
    key = encryption.set_passphrase(tmp_path / "elsewhere", PASSPHRASE, cost=CHEAP)
    # a key is given for a store that is plain: it is encrypted first, then opened
    from joi_coach.memory.sqlite_store import SqliteMemoryStore

    store = SqliteMemoryStore(folder / STORE_FILE, key=key.database)
    assert store.count() == 1
    store.close()
    assert files_with(folder, MARKER.encode()) == []


def test_cli_encrypt_and_change_passphrase(tmp_path, embedder, capsys, monkeypatch):
    talk(tmp_path, embedder)
    first = tmp_path.parent / f"{tmp_path.name}-pass1.txt"
    second = tmp_path.parent / f"{tmp_path.name}-pass2.txt"
    first.write_text(PASSPHRASE + "\n", encoding="utf-8")
    second.write_text("another long passphrase\n", encoding="utf-8")
    monkeypatch.setattr(encryption, "SCRYPT_N", CHEAP)
    assert cli.main(["encrypt", "--data-dir", str(tmp_path), "--passphrase-file", str(first), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "nothing in this data folder can be recovered" in out
    assert files_with(tmp_path, MARKER.encode()) == []
    encryption._unlocked.clear()
    assert (
        cli.main(
            [
                "change-passphrase",
                "--data-dir",
                str(tmp_path),
                "--passphrase-file",
                str(first),
                "--new-passphrase-file",
                str(second),
            ]
        )
        == 0
    )
    encryption._unlocked.clear()
    with pytest.raises(SystemExit) as stopped:
        cli.main(["change-passphrase", "--data-dir", str(tmp_path), "--passphrase-file", str(first)])
    assert "does not open" in str(stopped.value.code)
    monkeypatch.setenv("JOI_PASSPHRASE", "another long passphrase")
    args = cli.build_parser().parse_args(["--data-dir", str(tmp_path)])
    assert cli.unlock_data_dir(args) is True
    assert "JOI_PASSPHRASE" not in os.environ  # not inherited by anything Joi starts
    assert sum(MARKER in text for _, text in memories_of(tmp_path, embedder)) == 2
