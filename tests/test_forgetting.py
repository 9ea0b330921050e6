"""Forgetting forgets: after a forget, the words and the vector are gone from every file.

Real store, real embedding model, real FAISS files: a memory carrying a unique marker word
is stored (with Joi's reply quoting it as context, a reflection drawn from it and the
safety plan), forgotten, and then the raw bytes of every file in the profile folder are
searched for the marker and for the vector's bytes. A control without the forget proves the
search finds them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from joi_coach.config import CoachSettings
from joi_coach.memory.bank import STORE_FILE, MemoryBank
from joi_coach.memory.files import erase_exports
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.transfer import dumps_export, export_json
from joi_coach.profile_settings import SETTINGS_FILE, ProfileSettings

NOW = 1_700_000_000.0
# Lower-case, no English suffix: the FTS5 porter stemmer stores it whole, so a left-over
# index term would be found too.
MARKER = "qorvexint"
CONVERSATION = "c-marker"


def files_with(folder: Path, needle: bytes) -> list[str]:
    """Every file under ``folder`` whose raw bytes contain ``needle``."""
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and needle in path.read_bytes()
    )


def fill(bank: MemoryBank) -> dict[str, object]:
    """A turn about the marker (message, Joi's reply and thought quoting it), a reflection
    drawn from it, an unrelated conversation, and a safety plan. Returns ids and vectors."""
    message = f"My secret word is {MARKER} and nobody else knows it"
    unrelated = "I went for a long walk by the river this morning"
    message_vec, unrelated_vec = bank.embedder.embed_passages([message, unrelated])
    [message_id] = bank.add(
        [NewMemory(Stream.DIALOGUE, message, NOW, speaker="Ann", conversation=CONVERSATION)],
        vectors=message_vec.reshape(1, -1),
    )
    reply_id, thought_id = bank.add(
        [
            NewMemory(
                Stream.DIALOGUE,
                "Thank you for trusting me with that.",
                NOW + 1,
                speaker="Joi",
                context=message,
                conversation=CONVERSATION,
            ),
            NewMemory(
                Stream.EMPATHETIC,
                "They shared something private.",
                NOW + 1,
                speaker="Joi",
                context=message,
                conversation=CONVERSATION,
            ),
        ]
    )
    [reflection_id] = bank.add(
        [NewMemory(Stream.REFLECTION, "Ann keeps a private word.", NOW + 2, evidence=(message_id,), depth=1)]
    )
    [other_id] = bank.add(
        [NewMemory(Stream.DIALOGUE, unrelated, NOW + 3, speaker="Ann", conversation="c-other")],
        vectors=unrelated_vec.reshape(1, -1),
    )
    bank.plans.add("goal", "keep a private word to myself", NOW + 2, evidence=[message_id], by="joi")
    bank.flush()
    return {
        "message": message_id,
        "reply": reply_id,
        "thought": thought_id,
        "reflection": reflection_id,
        "other": other_id,
        "message_vec": np.asarray(message_vec, dtype=np.float32).tobytes(),
    }


def assert_gone(folder: Path, vector: bytes) -> None:
    assert files_with(folder, MARKER.encode()) == []
    assert files_with(folder, vector) == []


def test_control_the_search_finds_what_was_stored(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder, progress=False)
    stored = fill(bank)
    bank.close()
    assert STORE_FILE in files_with(tmp_path, MARKER.encode())
    found = files_with(tmp_path, stored["message_vec"])  # type: ignore[arg-type]
    assert STORE_FILE in found and "vectors-dialogue.faiss" in found


def test_forgetting_one_memory_leaves_no_trace(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder, progress=False)
    stored = fill(bank)
    gone = bank.forget(stored["message"])  # type: ignore[arg-type]
    assert sorted(gone) == sorted([stored["message"], stored["reflection"]])
    assert_gone(tmp_path, stored["message_vec"])  # type: ignore[arg-type]  # while open (WAL truncated)
    reply, thought = bank.get([stored["reply"], stored["thought"]])  # type: ignore[list-item]
    assert reply.context == "" and thought.context == ""  # the quote went, the reply stays
    assert bank.plans.entries() == []  # the plan noted from the forgotten turn went with it
    assert (
        bank.recall(MARKER, {Stream.DIALOGUE: 5}, touch=False)[Stream.DIALOGUE][0].memory.id
        != stored["message"]
    )
    bank.close()
    assert_gone(tmp_path, stored["message_vec"])  # type: ignore[arg-type]
    bank = MemoryBank(tmp_path, embedder, progress=False)  # still a sound store
    assert bank.count() == 3 and bank.cache_was_loaded
    bank.close()


def test_forgetting_a_conversation_leaves_no_trace(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder, progress=False)
    stored = fill(bank)
    gone = bank.forget_conversation(CONVERSATION)
    assert sorted(gone) == sorted(stored[k] for k in ("message", "reply", "thought", "reflection"))
    assert bank.forget_conversation("no such conversation") == []
    assert [m.id for m in bank.all_memories()] == [stored["other"]]
    bank.close()
    assert_gone(tmp_path, stored["message_vec"])  # type: ignore[arg-type]


def test_forgetting_everything_leaves_no_trace(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder, progress=False)
    stored = fill(bank)
    bank.save_safety_plan({"warning_signs": f"when I stop saying {MARKER}"}, NOW)
    bank.set_meta("user_name", f"Ann {MARKER}")
    settings = ProfileSettings(CoachSettings(), lambda profile: tmp_path)
    settings.update("ann", {"safety": {"own_contacts": [f"{MARKER} 555 0100"]}})
    assert SETTINGS_FILE in files_with(tmp_path, MARKER.encode())
    assert bank.forget_everything() == 5
    settings.reset("ann")
    assert bank.count() == 0 and bank.safety_plan() == {} and bank.get_meta("user_name") is None
    bank.close()
    assert_gone(tmp_path, stored["message_vec"])  # type: ignore[arg-type]
    bank = MemoryBank(tmp_path, embedder, progress=False)  # opens, empty, and still works
    assert bank.count() == 0
    bank.add([NewMemory(Stream.DIALOGUE, "A fresh start.", NOW)])
    assert bank.count() == 1
    bank.close()


def test_editing_a_memory_leaves_no_trace_of_the_old_words(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder, progress=False)
    stored = fill(bank)
    bank.edit_text(stored["message"], "I told Joi something private.")  # type: ignore[arg-type]
    [reply] = bank.get([stored["reply"]])  # type: ignore[list-item]
    assert reply.context == "I told Joi something private."  # the quote follows the edit
    bank.close()
    assert files_with(tmp_path, MARKER.encode()) == []


@pytest.mark.parametrize("kind", ["json", "markdown"])
def test_exports_joi_wrote_are_erased(tmp_path, embedder, kind):
    from joi_coach.memory.transfer import export_markdown

    bank = MemoryBank(tmp_path / "profile", embedder, progress=False)
    fill(bank)
    exports = tmp_path / "exports"
    (exports / "export-1").mkdir(parents=True)
    text = dumps_export(export_json(bank)) if kind == "json" else export_markdown(bank)
    (exports / "export-1" / "joi-memories.txt").write_text(text, encoding="utf-8")
    assert files_with(exports, MARKER.encode())
    bank.close()
    assert erase_exports(exports) == 1
    assert exports.is_dir() and list(exports.iterdir()) == []
    assert erase_exports(tmp_path / "missing") == 0
