"""Transcripts are rebuilt from the memory streams, thoughts included, after a restart."""

from __future__ import annotations

from joi_coach.conversations import (
    current_conversation,
    list_conversations,
    load_transcript,
    new_conversation_id,
    set_current_conversation,
)
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream


def add_turn(bank: MemoryBank, conversation: str, t: float, said: str, answer: str) -> None:
    bank.add(
        [
            NewMemory(Stream.DIALOGUE, said, t, speaker="Sam", conversation=conversation),
            NewMemory(Stream.DIALOGUE, answer, t, speaker="Joi", conversation=conversation),
            NewMemory(Stream.EMPATHETIC, f"feels about {said}", t, speaker="Joi", conversation=conversation),
            NewMemory(Stream.THERAPEUTIC, f"plan for {said}", t, speaker="Joi", conversation=conversation),
        ]
    )


def test_a_transcript_comes_back_in_order_with_each_answers_thoughts(tmp_path, embedder):
    bank = MemoryBank(tmp_path / "p", embedder)
    add_turn(bank, "c1", 1000.0, "first", "answer one")
    add_turn(bank, "c1", 2000.0, "second", "answer two")
    add_turn(bank, "c2", 3000.0, "elsewhere", "other answer")
    bank.close()

    reopened = MemoryBank(tmp_path / "p", embedder)
    lines = load_transcript(reopened, "c1", "Joi")
    assert [(line.text, line.from_joi) for line in lines] == [
        ("first", False),
        ("answer one", True),
        ("second", False),
        ("answer two", True),
    ]
    assert lines[1].empathetic == "feels about first" and lines[3].therapeutic == "plan for second"
    assert lines[0].empathetic == ""  # the person's lines carry no thoughts
    infos = list_conversations(reopened)
    assert [(i.id, i.lines) for i in infos] == [("c2", 2), ("c1", 4)]
    assert "UTC" in infos[0].label()
    reopened.close()


def test_the_current_conversation_is_remembered(tmp_path, embedder):
    bank = MemoryBank(tmp_path / "p", embedder)
    fresh = current_conversation(bank)  # nothing yet: a new id, remembered
    assert fresh.startswith("c") and current_conversation(bank) == fresh
    add_turn(bank, "c-old", 1000.0, "hello", "hi")
    assert current_conversation(bank) == fresh
    set_current_conversation(bank, "c-old")
    assert current_conversation(bank) == "c-old"
    assert new_conversation_id() != new_conversation_id()
    bank.close()
