"""An encrypted data folder in the webui: locked until unlocked, sealed on disk once it is.

The extension is loaded by the stand-in host as the webui loads it, on a scripted loader
(the exact text matters here, not the model's quality); the encryption, the stores and the
embedding model are real. The folders are encrypted with a cheap scrypt cost, so each unlock
takes milliseconds.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import pytest
from joi_coach.memory import encryption
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.profiles import profile_folder_name
from joi_coach.webui.extension import UNLOCKED, WRONG_PASSPHRASE

from .conftest import REPO, Conversation, ScriptedModel, chat_state

PASSPHRASE = "correct horse battery"
MARKER = "Zanzibarquux"  # a word that appears nowhere but in what Sam says and Joi answers
THOUGHTS = f"\nEmpathetic voice: Sam misses {MARKER}.\nTherapist voice: I will ask about {MARKER}.\n"
DIALOGUE = f"Tell me more about {MARKER}, Sam."
REPLY = f"{THOUGHTS}</think>\n\n{DIALOGUE}"
SEEDED = "Sam has a sister called Ana."


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def joi_state(name1: str = "Sam") -> dict:
    state = chat_state("Joi", name1, "chat")
    state["seed"] = -1
    return state


@pytest.fixture()
def user_data(tmp_path, embedder, monkeypatch):
    """A webui user_data folder whose joi_coach data folder holds Sam's memory and is encrypted
    (then locked again: this process has not been given the passphrase)."""
    from modules import shared

    for name in ("JOI_PASSPHRASE", "JOI_PASSPHRASE_FILE"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "extensions").mkdir()
    (tmp_path / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    data_dir = (tmp_path / "joi_coach").resolve()
    bank = MemoryBank(data_dir / "profiles" / profile_folder_name("Sam & Joi"), embedder)
    bank.add([NewMemory(Stream.DIALOGUE, SEEDED, time.time() - 60, speaker="Sam")])
    bank.close()
    (data_dir / "webui-profiles.json").write_text('["Sam & Joi"]', encoding="utf-8")  # before encrypting
    encryption.set_passphrase(data_dir, PASSPHRASE, cost=2**10)
    encryption.lock(data_dir)
    shared.user_data_dir = tmp_path
    shared.settings = {"joi_coach-background": False, "joi_coach-reply_steps": False}  # (locking, not steps)
    shared.args.parallel, shared.args.idle_timeout = 1, 0
    shared.model, shared.model_name, shared.stop_everything = ScriptedModel(REPLY), "scripted", False
    yield tmp_path
    encryption.lock(data_dir)
    shared.model, shared.model_name = None, "None"


def load(extensions_list: list[str]):
    """What the host does at start (and on "Apply flags/extensions and restart")."""
    from modules import extensions, shared

    shared.args.extensions = extensions_list
    extensions.setup_called.clear()
    extensions.load_extensions()
    return sys.modules.get("user_ext_joi_coach")


@pytest.fixture()
def loaded(user_data):
    scripts: list = []

    def start():
        script = load(["joi_coach"])
        scripts.append(script)
        return script

    yield start
    for script in scripts:
        script.joi.close()


def a_turn_and_a_regenerate() -> tuple[list[dict], list[str]]:
    """A chat turn and a regenerate through the host: the histories it keeps, the prompts it sent."""
    from modules import shared

    conversation = Conversation(joi_state())
    first = conversation.send(f"I miss {MARKER}.")
    again = conversation.send("", regenerate=True)
    return [first, again], list(shared.model.prompts)


def test_a_locked_folder_leaves_every_turn_to_the_host_byte_for_byte_and_writes_nothing(
    user_data, loaded, caplog
):
    from modules import shared

    load([])  # the host without any extension: what a turn is without Joi
    without_joi = a_turn_and_a_regenerate()
    shared.model = ScriptedModel(REPLY)
    before = files_of(user_data / "joi_coach")
    with caplog.at_level(logging.INFO, logger="joi_coach"):
        script = loaded()
        assert script.joi.locked
        assert a_turn_and_a_regenerate() == without_joi  # histories and prompts, byte for byte
        state = joi_state()
        assert script.state_modifier(state) is state
        assert script.chat_input_modifier("hi", "hi", state) == ("hi", "hi")
        assert script.output_modifier("<b>x</b>", state, is_chat=True) == "<b>x</b>"
    assert files_of(user_data / "joi_coach") == before  # nothing written, nothing opened
    locked_lines = [r for r in caplog.records if "Joi Coach is locked" in r.getMessage()]
    assert locked_lines and not any(r.exc_info for r in caplog.records)
    assert "Traceback" not in caplog.text
    assert script.joi.turns.known_profiles() == []  # the names stay sealed too


@pytest.mark.parametrize("given", ["env", "file"])
def test_a_passphrase_given_at_setup_unlocks_and_turns_are_stored_encrypted(
    user_data, loaded, monkeypatch, tmp_path_factory, given
):
    import os

    if given == "env":
        monkeypatch.setenv("JOI_PASSPHRASE", PASSPHRASE)
    else:
        secret = tmp_path_factory.mktemp("secret") / "passphrase"
        secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
        monkeypatch.setenv("JOI_PASSPHRASE_FILE", str(secret))
    script = loaded()
    assert not script.joi.locked
    assert "JOI_PASSPHRASE" not in os.environ  # no process the host starts inherits it
    history, _ = a_turn_and_a_regenerate()
    assert history[-1]["internal"][-1][1] == "<think>" + REPLY  # Joi's turn, through the host
    bank = script.joi.coach.bank("Sam & Joi")
    assert [m.text for m in bank.memories(Stream.DIALOGUE) if m.speaker == "Joi"] == [DIALOGUE]
    assert SEEDED in [m.text for m in bank.memories(Stream.DIALOGUE)]  # the earlier memories too
    script.joi.coach.close()  # flushed to disk (the vector cache included)
    data = files_of(user_data / "joi_coach")
    assert data and not [name for name, blob in data.items() if MARKER.encode() in blob]
    assert not [name for name, blob in data.items() if b"Sam has a sister" in blob]


def test_a_wrong_passphrase_says_so_and_stays_locked_until_the_right_one(
    user_data, loaded, monkeypatch, caplog
):
    monkeypatch.setenv("JOI_PASSPHRASE", "not the passphrase")
    with caplog.at_level(logging.INFO, logger="joi_coach"):
        script = loaded()
    assert script.joi.locked
    assert "does not open" in caplog.text and "Traceback" not in caplog.text
    assert not any(r.exc_info for r in caplog.records)
    assert script.joi.unlock("still not it") == WRONG_PASSPHRASE  # what the tab shows
    assert script.joi.locked
    state = joi_state()
    script.history_modifier(state["history"])
    assert script.state_modifier(state) is state  # Joi stays out
    assert script.joi.unlock(PASSPHRASE) == UNLOCKED
    assert not script.joi.locked
    assert script.joi.turns.known_profiles() == ["Sam & Joi"]  # read once unlocked
    history, _ = a_turn_and_a_regenerate()
    assert history[-1]["internal"][-1][1] == "<think>" + REPLY
    bank = script.joi.coach.bank("Sam & Joi")
    assert [m.text for m in bank.memories(Stream.DIALOGUE) if m.speaker == "Joi"] == [DIALOGUE]


def test_a_restart_unlocks_with_the_passphrase_it_is_given_and_reuses_the_engine(
    user_data, loaded, monkeypatch
):
    first = loaded()
    assert first.joi.locked
    monkeypatch.setenv("JOI_PASSPHRASE", PASSPHRASE)
    again = loaded()  # "Apply flags/extensions and restart": setup() runs again
    assert again.joi.coach is first.joi.coach and not again.joi.locked and not first.joi.locked
    third = loaded()  # and again, with the passphrase gone from the environment: still unlocked
    assert third.joi.coach is first.joi.coach and not third.joi.locked


def test_the_profile_names_are_sealed_in_an_encrypted_folder_and_plain_json_otherwise(
    user_data, loaded, monkeypatch, tmp_path, embedder
):
    profiles = user_data / "joi_coach" / "webui-profiles.json"
    assert encryption.is_sealed(profiles.read_bytes())  # 'joi-coach encrypt' sealed it
    profiles.write_bytes(b'["Sam & Joi"]')  # a plain copy left by an older Joi's encrypt
    monkeypatch.setenv("JOI_PASSPHRASE", PASSPHRASE)
    script = loaded()
    assert encryption.is_sealed(profiles.read_bytes())  # the left-over was sealed at unlock
    state = joi_state("Alex")
    script.history_modifier(state["history"])
    script.state_modifier(state)
    assert script.joi.turns.known_profiles() == ["Sam & Joi", "Alex & Joi"]
    blob = profiles.read_bytes()
    assert encryption.is_sealed(blob) and b"Alex" not in blob and b"Sam" not in blob
    assert not list(profiles.parent.glob("webui-profiles.json.plain"))
    from joi_coach.webui.turns import WebuiTurns

    assert WebuiTurns(script.joi.coach, script.joi.turns.options).known_profiles() == [
        "Sam & Joi",
        "Alex & Joi",
    ]

    from modules import shared

    plain = tmp_path / "plain-user-data"
    (plain / "extensions").mkdir(parents=True)
    (plain / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    shared.user_data_dir = plain
    monkeypatch.delenv("JOI_PASSPHRASE", raising=False)
    other = loaded()
    assert not other.joi.locked
    other.history_modifier(state["history"])
    other.state_modifier(joi_state("Alex"))
    assert (
        (plain / "joi_coach" / "webui-profiles.json")
        .read_text(encoding="utf-8")
        .startswith('[\n "Alex & Joi"')
    )


def test_regenerating_replaces_the_replys_memories_and_their_reflections_in_one_delete(
    user_data, loaded, monkeypatch
):
    monkeypatch.setenv("JOI_PASSPHRASE", PASSPHRASE)
    script = loaded()
    conversation = Conversation(joi_state())
    conversation.send(f"I miss {MARKER}.")
    bank = script.joi.coach.bank("Sam & Joi")
    replaced = {
        m.id for m in bank.memories(limit=100) if m.speaker == "Joi" or m.stream is not Stream.DIALOGUE
    }
    [line] = [m for m in bank.memories(Stream.DIALOGUE) if m.speaker == "Joi"]
    [sam_said] = [m for m in bank.memories(Stream.DIALOGUE) if m.text == f"I miss {MARKER}."]
    [reflection] = bank.add(
        [
            NewMemory(
                Stream.REFLECTION,
                "Sam talks about what they miss.",
                time.time(),
                evidence=(line.id,),
                depth=1,
            )
        ]
    )
    [deeper] = bank.add(
        [NewMemory(Stream.REFLECTION, "Loss comes up often.", time.time(), evidence=(reflection,), depth=2)]
    )
    [kept] = bank.add(
        [NewMemory(Stream.REFLECTION, "Sam likes to talk.", time.time(), evidence=(sam_said.id,), depth=1)]
    )
    deletes: list[list[int]] = []
    delete = type(bank).delete

    def counted(self, ids):
        deletes.append(sorted(ids))
        return delete(self, ids)

    monkeypatch.setattr(type(bank), "delete", counted)
    monkeypatch.setattr(type(bank), "forget", lambda *a, **k: pytest.fail("one id at a time"))
    conversation.send("", regenerate=True)
    assert deletes == [sorted(replaced | {reflection, deeper})]  # one delete: one purge
    left = bank.memories(limit=100)
    assert not {m.id for m in left} & (replaced | {reflection, deeper})
    assert kept in {m.id for m in left}  # a reflection on Sam's message stays, as Sam's message does
    assert [m.text for m in left if m.speaker == "Joi" and m.stream is Stream.DIALOGUE] == [DIALOGUE]
    assert [m.text for m in left if m.text == f"I miss {MARKER}."] == [f"I miss {MARKER}."]
    for stream in (Stream.EMPATHETIC, Stream.THERAPEUTIC):
        assert len(bank.memories(stream)) == 1
