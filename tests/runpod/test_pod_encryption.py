"""The pod's encryption at rest: JOI_PASSPHRASE encrypts Joi's data folder once, with Joi's own
CLI, and hands the webui a root-only file in memory; without it an encrypted folder starts
locked; JOI_NEW_PASSPHRASE changes it before the webui starts. No passphrase ever reaches the
log, a command line, the volume or the webui's environment.

The entrypoint runs for real (as in test_pod_start.py), and so does Joi's CLI, from the stand-in
image's ``/app/extensions/joi_coach``; the stand-in ``server.py`` records what the webui got.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from pathlib import Path

import pytest

pytest.importorskip("sqlcipher3", reason="the 'encryption' extra is not installed")

from joi_coach.memory import encryption
from joi_coach.webui import extension

from .conftest import REPO, Pod, import_pod_module

PASSPHRASE = "lantern orchard 42 velvet"
NEW_PASSPHRASE = "harbour-quiet-copper-9"
MARKER = "qorvexint"  # a word of a memory, which must not be readable on the volume


@pytest.fixture(autouse=True)
def forget_keys():
    """Each test starts with no folder unlocked in this process."""
    yield
    encryption._unlocked.clear()


def joi_data(pod: Pod) -> Path:
    return pod.user_data / "joi_coach"


def plain_memories(pod: Pod) -> Path:
    """A plain profile store with a memory in it, and the list of people, as Joi leaves them."""
    profile = joi_data(pod) / "profiles" / "sam-joi"
    profile.mkdir(parents=True)
    store = profile / "memories.sqlite3"
    db = sqlite3.connect(store)
    db.execute("CREATE TABLE memories (text TEXT)")
    db.execute("INSERT INTO memories VALUES (?)", (f"Sam's secret word is {MARKER}",))
    db.commit()
    db.close()
    (joi_data(pod) / "webui-profiles.json").write_text(json.dumps({"Sam & Joi": f"{MARKER} notes"}))
    return store


def memories_in(store: Path, passphrase: str) -> list[str]:
    """The memories of an encrypted store, read with the folder's passphrase."""
    encryption._unlocked.clear()
    key = encryption.unlock(store.parents[2], passphrase, finish=False)
    db = encryption.sqlcipher().connect(str(store))
    try:
        db.execute(f"PRAGMA key = \"x'{key.database.hex()}'\"")
        return [row[0] for row in db.execute("SELECT text FROM memories")]
    finally:
        db.close()


def files_with(folder: Path, needle: str) -> list[str]:
    return sorted(
        str(path) for path in folder.rglob("*") if path.is_file() and needle.encode() in path.read_bytes()
    )


def log_of(result) -> str:
    return result.stdout + result.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_passphrase_encrypts_the_plain_data_folder_once_and_the_memories_stay(pod):
    store = plain_memories(pod)
    first = pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE)
    assert first.returncode == 0, first.stderr
    assert "Encrypting Joi's memories in" in first.stderr
    assert "nothing in this data folder can be recovered" in first.stderr  # Joi's CLI says it
    assert encryption.is_encrypted(joi_data(pod))
    assert files_with(pod.workspace, MARKER) == []  # the store and the list of people
    assert memories_in(store, PASSPHRASE) == [f"Sam's secret word is {MARKER}"]
    key_file = joi_data(pod) / encryption.KEY_FILE
    before = (digest(key_file), digest(store))

    second = pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE)
    assert second.returncode == 0, second.stderr
    assert "Encrypting" not in second.stderr
    assert "are encrypted; the webui unlocks them at start with JOI_PASSPHRASE" in second.stderr
    assert (digest(key_file), digest(store)) == before  # not encrypted again, nothing rewritten
    assert memories_in(store, PASSPHRASE) == [f"Sam's secret word is {MARKER}"]
    assert len(pod.calls("server.py")) == 2

    # The passphrase is nowhere but in the memory-only file the webui reads.
    for result in (first, second):
        assert PASSPHRASE not in log_of(result)
    assert PASSPHRASE not in pod.calls_file.read_text()
    assert files_with(pod.workspace, PASSPHRASE) == []


def test_the_webui_gets_a_root_only_file_in_memory_and_not_the_variable(pod, monkeypatch):
    plain_memories(pod)
    assert pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE).returncode == 0
    [launch] = pod.calls("server.py")
    assert launch["secrets_in_env"] == []  # llama.cpp's server and the rest inherit no passphrase
    handed = Path(launch["env"]["JOI_PASSPHRASE_FILE"])
    assert handed.parent == pod.runtime / "joi-pod" and pod.workspace not in handed.parents
    assert stat.S_IMODE(handed.stat().st_mode) == 0o600
    assert stat.S_IMODE(handed.parent.stat().st_mode) == 0o700
    # Joi's extension reads it at setup as it does on any webui, and it opens the folder.
    monkeypatch.delenv("JOI_PASSPHRASE", raising=False)
    monkeypatch.setenv("JOI_PASSPHRASE_FILE", str(handed))
    given = extension.passphrase_from_env()
    assert given == (PASSPHRASE, "JOI_PASSPHRASE_FILE")
    assert extension.JoiExtension._unlock_at_setup(joi_data(pod).resolve(), given) is False  # unlocked


def test_a_passphrase_file_of_ones_own_is_used_and_handed_over_as_it_is(pod, tmp_path):
    """Compose with a Docker secret: JOI_PASSPHRASE_FILE instead of the variable."""
    store = plain_memories(pod)
    secret = tmp_path / "docker-secret"
    secret.write_text(PASSPHRASE + "\n")
    result = pod.start(JOI_MODEL="none", JOI_PASSPHRASE_FILE=str(secret))
    assert result.returncode == 0, result.stderr
    assert memories_in(store, PASSPHRASE) == [f"Sam's secret word is {MARKER}"]
    [launch] = pod.calls("server.py")
    assert launch["env"]["JOI_PASSPHRASE_FILE"] == str(secret)
    assert not (pod.runtime / "joi-pod" / "passphrase").exists()  # no second copy
    assert PASSPHRASE not in log_of(result)


def test_a_new_data_folder_is_encrypted_before_joi_writes_anything(pod):
    result = pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE)
    assert result.returncode == 0, result.stderr
    assert encryption.is_encrypted(joi_data(pod))  # so the first memory is written encrypted
    assert PASSPHRASE not in log_of(result)


def test_an_encrypted_folder_without_a_passphrase_starts_locked_and_says_how_to_unlock(pod):
    store = plain_memories(pod)
    assert pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE).returncode == 0
    result = pod.start(JOI_MODEL="none")
    assert result.returncode == 0, result.stderr
    assert "Joi is locked: its memories in" in result.stderr
    assert "Joi Coach tab" in result.stderr and "JOI_PASSPHRASE secret" in result.stderr
    launches = pod.calls("server.py")
    assert len(launches) == 2 and launches[1]["env"]["JOI_PASSPHRASE_FILE"] is None  # the webui starts
    assert memories_in(store, PASSPHRASE) == [f"Sam's secret word is {MARKER}"]


def test_a_plain_folder_without_a_passphrase_stays_plain_and_the_log_recommends_one(pod):
    store = plain_memories(pod)
    result = pod.start(JOI_MODEL="none")
    assert result.returncode == 0, result.stderr
    assert "not encrypted at rest; set the JOI_PASSPHRASE secret" in result.stderr
    assert not encryption.is_encrypted(joi_data(pod)) and encryption.is_plain_sqlite(store)
    assert pod.calls("server.py")[0]["env"]["JOI_PASSPHRASE_FILE"] is None


def test_a_dry_run_shows_the_encrypt_step_without_the_passphrase_and_encrypts_nothing(pod):
    plain_memories(pod)
    plan, log = pod.plan(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE)
    [command] = plan["encryption"]["commands"]
    data_dir = str(joi_data(pod))
    assert command[1:] == [
        "-m",
        "joi_coach.app.cli",
        "encrypt",
        "--data-dir",
        data_dir,
        "--passphrase-file",
        str(pod.runtime / "joi-pod" / "passphrase"),
        "--yes",
    ]
    assert "Would encrypt Joi's memories:" in log and "--passphrase-file" in log
    assert PASSPHRASE not in log and PASSPHRASE not in json.dumps(plan)
    assert not encryption.is_encrypted(joi_data(pod))
    assert not (pod.runtime / "joi-pod").exists()  # not even the file is written


def test_a_new_passphrase_changes_it_before_the_webui_starts(pod):
    store = plain_memories(pod)
    assert pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE).returncode == 0
    result = pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE, JOI_NEW_PASSPHRASE=NEW_PASSPHRASE)
    assert result.returncode == 0, result.stderr
    assert "Changed. Now set JOI_PASSPHRASE to the new passphrase" in result.stderr
    assert memories_in(store, NEW_PASSPHRASE) == [f"Sam's secret word is {MARKER}"]
    with pytest.raises(encryption.WrongPassphrase):
        memories_in(store, PASSPHRASE)
    handed = Path(pod.calls("server.py")[-1]["env"]["JOI_PASSPHRASE_FILE"])
    assert handed.read_text().splitlines()[0] == NEW_PASSPHRASE  # the webui unlocks with the new one
    assert not (pod.runtime / "joi-pod" / "new-passphrase").exists()
    # Left in the template by mistake: the next start says so and still hands over the new one.
    again = pod.start(JOI_MODEL="none", JOI_PASSPHRASE=PASSPHRASE, JOI_NEW_PASSPHRASE=NEW_PASSPHRASE)
    assert again.returncode == 0 and "If an earlier start changed it" in again.stderr
    assert handed.read_text().splitlines()[0] == NEW_PASSPHRASE
    then = pod.start(JOI_MODEL="none", JOI_PASSPHRASE=NEW_PASSPHRASE)
    assert then.returncode == 0 and "the webui unlocks them at start" in then.stderr
    for run in (result, again, then):
        assert PASSPHRASE not in log_of(run) and NEW_PASSPHRASE not in log_of(run)
    assert files_with(pod.workspace, NEW_PASSPHRASE) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JOI_PASSPHRASE": "short7!"}, "JOI_PASSPHRASE is too short"),
        ({"JOI_PASSPHRASE": "first line\nsecond line"}, "more than one line"),
        ({"JOI_NEW_PASSPHRASE": NEW_PASSPHRASE}, "set the current one as JOI_PASSPHRASE too"),
        ({"JOI_PASSPHRASE": PASSPHRASE, "JOI_NEW_PASSPHRASE": NEW_PASSPHRASE}, "not encrypted yet"),
    ],
)
def test_unusable_passphrase_settings_stop_the_start_before_anything_is_encrypted(pod, env, message):
    plain_memories(pod)
    result = pod.start(JOI_MODEL="none", **env)
    assert result.returncode == 2
    assert "[joi-pod] ERROR:" in result.stderr and message in result.stderr
    assert pod.calls("server.py") == []
    assert not encryption.is_encrypted(joi_data(pod))
    for value in env.values():
        assert value not in log_of(result)


def test_the_pod_agrees_with_joi_on_the_data_folder_and_its_key_file():
    config = import_pod_module("joi_pod.config")
    assert config.KEY_FILE == encryption.KEY_FILE
    assert config.PASSPHRASE_MIN_LENGTH == encryption.MIN_PASSPHRASE
    assert (extension.PASSPHRASE_FILE_ENV, extension.PASSPHRASE_ENV) == (
        "JOI_PASSPHRASE_FILE",
        "JOI_PASSPHRASE",
    )
    # The extension's data folder on the pod: the webui's user_data (--user-data-dir) / joi_coach.
    source = (REPO / "extensions" / "joi_coach" / "webui" / "extension.py").read_text()
    assert 'host_user_data_dir() / "joi_coach"' in source
