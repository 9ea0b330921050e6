"""A profile's memory bank on the real embedding model, real SQLite and FAISS files."""

from __future__ import annotations

import sqlite3

import pytest
from joi_coach.memory.bank import STORE_FILE, MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.profiles import ProfileError, ProfileRegistry, profile_folder_name

NOW = 1_700_000_000.0
HOUR = 3600.0

FACTS = [
    "My dog Biscuit died last spring and I still miss him every day.",
    "I had cereal for breakfast.",
    "I want to run a half marathon in October.",
    "My manager keeps scheduling meetings during my lunch break.",
    "I've been learning to play the cello for two years.",
]


def fill(bank: MemoryBank) -> list[int]:
    return bank.add(
        [NewMemory(Stream.DIALOGUE, text, NOW - (len(FACTS) - i) * HOUR) for i, text in enumerate(FACTS)]
    )


def test_recall_finds_relevant_memory_with_reasons(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    ids = fill(bank)
    recalled = bank.recall("How are you coping with losing your pet?", {Stream.DIALOGUE: 1}, now=NOW)
    top = recalled[Stream.DIALOGUE][0]
    assert top.memory.id == ids[0]
    assert top.score.relevance == 1.0 and 0 < top.score.recency < 1
    assert top.score.total == max(r.score.total for r in recalled[Stream.DIALOGUE])
    assert bank.get([ids[0]])[0].last_accessed == NOW  # retrieval refreshes last access
    lexical = bank.recall("cello", {Stream.DIALOGUE: 1}, now=NOW, touch=False)[Stream.DIALOGUE][0]
    assert lexical.memory.id == ids[4] and lexical.score.lexical == 1.0
    assert bank.get([ids[4]])[0].last_accessed < NOW


def test_streams_are_separate(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    fill(bank)
    [thought] = bank.add([NewMemory(Stream.EMPATHETIC, "They seem to be grieving their dog.", NOW)])
    recalled = bank.recall("dog", {Stream.EMPATHETIC: 5, Stream.REFLECTION: 5}, now=NOW)
    assert [r.memory.id for r in recalled[Stream.EMPATHETIC]] == [thought]
    assert recalled[Stream.REFLECTION] == []


def test_vector_cache_is_saved_reloaded_and_rebuilt_when_stale(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    fill(bank)
    bank.close()
    assert (tmp_path / "vectors.json").exists()
    reopened = MemoryBank(tmp_path, embedder)
    assert reopened.cache_was_loaded
    # a write that never reached the cache (the process died before a flush)
    [late] = reopened.add([NewMemory(Stream.DIALOGUE, "I adopted a kitten called Mochi.", NOW)])
    reopened._store.close()  # dies here: SQLite has the write, the cache files never got it
    again = MemoryBank(tmp_path, embedder)
    assert not again.cache_was_loaded
    assert again.recall("new cat", {Stream.DIALOGUE: 1}, now=NOW)[Stream.DIALOGUE][0].memory.id == late


def test_corrupt_cache_file_is_rebuilt(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    ids = fill(bank)
    bank.close()
    (tmp_path / "vectors-dialogue.faiss").write_bytes(b"garbage")
    reopened = MemoryBank(tmp_path, embedder)
    assert not reopened.cache_was_loaded
    assert reopened.recall("marathon", {Stream.DIALOGUE: 1}, now=NOW)[Stream.DIALOGUE][0].memory.id == ids[2]


def test_other_embedding_model_triggers_reembedding(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    ids = fill(bank)
    bank.close()
    db = sqlite3.connect(tmp_path / STORE_FILE)
    db.execute("UPDATE memories SET embedding_model = 'another-model#16', vector = zeroblob(64)")
    db.commit()
    db.close()
    reopened = MemoryBank(tmp_path, embedder, progress=False)
    assert reopened.vectors_from_other_models() == 0
    assert reopened.recall("breakfast", {Stream.DIALOGUE: 1}, now=NOW)[Stream.DIALOGUE][0].memory.id == ids[1]


def test_edit_and_delete_reach_the_index(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    ids = fill(bank)
    bank.edit_text(ids[1], "I had pancakes with blueberries.")
    top = bank.recall("pancakes", {Stream.DIALOGUE: 1}, now=NOW)[Stream.DIALOGUE][0]
    assert top.memory.id == ids[1] and top.memory.text.startswith("I had pancakes")
    bank.delete([ids[0]])
    recalled = bank.recall("dog died", {Stream.DIALOGUE: 5}, now=NOW)[Stream.DIALOGUE]
    assert ids[0] not in [r.memory.id for r in recalled]
    assert bank.indexed(Stream.DIALOGUE) == len(FACTS) - 1
    with pytest.raises(ValueError):
        bank.edit_text(ids[2], "   ")


def test_profiles_never_share_memories(tmp_path, embedder):
    registry = ProfileRegistry(tmp_path, embedder)
    registry.bank("alice").add([NewMemory(Stream.DIALOGUE, "Alice's secret: she is afraid of flying.", NOW)])
    registry.bank("bob").add([NewMemory(Stream.DIALOGUE, "Bob loves gardening.", NOW)])
    bob_recall = registry.bank("bob").recall("afraid of flying secret", {Stream.DIALOGUE: 5}, now=NOW)
    assert [r.memory.text for r in bob_recall[Stream.DIALOGUE]] == ["Bob loves gardening."]
    assert registry.folder("alice") != registry.folder("bob")
    registry.close()


def test_profile_folder_names_are_safe_and_distinct():
    names = ["../../etc/passwd", "Alice", "alice", "ÅSA", "😀", "a" * 128]
    folders = [profile_folder_name(n) for n in names]
    assert len(set(folders)) == len(names)
    assert all("/" not in f and ".." not in f for f in folders)
    for bad in ("", "   ", "x" * 129):
        with pytest.raises(ProfileError):
            profile_folder_name(bad)


def test_a_corrupt_profile_fails_clearly_and_alone(tmp_path, embedder):
    from joi_coach.memory.sqlite_store import StoreError

    registry = ProfileRegistry(tmp_path, embedder)
    registry.bank("bob").add([NewMemory(Stream.DIALOGUE, "Bob loves gardening.", NOW)])
    broken = registry.folder("alice")
    broken.mkdir(parents=True)
    (broken / STORE_FILE).write_bytes(b"\x00garbage" * 512)
    with pytest.raises(StoreError):
        registry.bank("alice")
    assert registry.bank("bob").count() == 1
    assert (broken / STORE_FILE).read_bytes().startswith(b"\x00garbage")  # nothing overwritten
    registry.close()


def test_a_memory_an_earlier_prompt_held_stays_while_it_nearly_ranks(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder)
    fill(bank)
    query = "I miss my dog and my runs"
    ranked = [
        r.memory.id for r in bank.recall(query, {Stream.DIALOGUE: 5}, now=NOW, touch=False)[Stream.DIALOGUE]
    ]
    top, second, last = ranked[0], ranked[1], ranked[-1]

    kept = bank.recall(query, {Stream.DIALOGUE: 1}, now=NOW, keep={Stream.DIALOGUE: [second]})
    assert [r.memory.id for r in kept[Stream.DIALOGUE]] == [top, second]  # top k first, then the kept one
    assert bank.get([second])[0].last_accessed == NOW  # it is in the prompt: recalled
    dropped = bank.recall(query, {Stream.DIALOGUE: 1}, now=NOW, touch=False, keep={Stream.DIALOGUE: [last]})
    assert [r.memory.id for r in dropped[Stream.DIALOGUE]] == [top]  # ranked too low to stay
    other = bank.recall(query, {Stream.DIALOGUE: 1}, now=NOW, touch=False, keep={Stream.EMPATHETIC: [second]})
    assert [r.memory.id for r in other[Stream.DIALOGUE]] == [top]  # kept per stream
    wider = bank.recall(
        query, {Stream.DIALOGUE: 1}, now=NOW, touch=False, keep={Stream.DIALOGUE: [ranked[2]]}, keep_within=2
    )
    assert [r.memory.id for r in wider[Stream.DIALOGUE]] == [top, ranked[2]]
