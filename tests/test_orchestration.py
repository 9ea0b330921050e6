"""The coach's orchestration on a scripted backend: stopping a reply, the message queue,
background work giving way. Fast and exact; the real-model tests stay the acceptance layer."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from joi_coach.chat_room import ChatRoom, Status
from joi_coach.coach import Coach, collect
from joi_coach.config import CoachSettings
from joi_coach.llm.base import GenerationParams
from joi_coach.llm.priority import Preempted, PriorityLLM
from joi_coach.memory.models import Stream
from scripted_llm import ScriptedLLM

# in words: a number the person never gave is an invented fact, and the guard drops it
_COUNT = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
LONG_LINE = " ".join(f"This is sentence number {n} of a long reply." for n in _COUNT * 4)


def reply_script(spoken: str) -> list[str]:
    """The three completions of one guided reply: two thoughts, then the spoken line."""
    return [" tired after a long week.", " to rest before planning.", spoken]


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_stopped_reply_keeps_what_was_said(coach_on):
    backend = ScriptedLLM(reply_script(LONG_LINE), delay=0.02)
    coach = coach_on(backend)
    room = ChatRoom(coach, "sam")
    try:
        exchange = room.send("I had a long week.", "Sam")
        assert wait_until(lambda: "sentence number two" in exchange.dialogue)
        room.stop()
        assert room.wait_idle(30)
        assert exchange.status is Status.STOPPED
        assert exchange.dialogue.startswith("This is sentence number one") and len(exchange.dialogue) < len(
            LONG_LINE
        )
        stored = [m.text for m in coach.bank("sam").memories(Stream.DIALOGUE)]
        assert "I had a long week." in stored and exchange.dialogue in stored
    finally:
        room.close()


def test_messages_are_answered_one_at_a_time_in_the_order_sent(coach_on):
    backend = ScriptedLLM(
        reply_script("First answer, Sam. How was it?") + reply_script("Second answer, Sam. What next?"),
        delay=0.005,
    )
    coach = coach_on(backend)
    room = ChatRoom(coach, "sam")
    try:
        first = room.send("First message.", "Sam")
        second = room.send("Second message.", "Sam")
        assert second.status is Status.QUEUED  # waits its turn
        assert room.wait_idle(30)
        assert (first.status, second.status) == (Status.DONE, Status.DONE)
        assert first.dialogue.startswith("First answer") and second.dialogue.startswith("Second answer")
        said = [m.text for m in reversed(coach.bank("sam").memories(Stream.DIALOGUE))]
        assert said == ["First message.", first.dialogue, "Second message.", second.dialogue]
        # The second reply's prompt already held the first exchange.
        second_prompt = backend.calls[3].messages
        assert [m["content"] for m in second_prompt if m["role"] != "system"][:2] == [
            "First message.",
            first.dialogue,
        ]
    finally:
        room.close()


def test_a_reply_makes_background_work_give_way():
    backend = ScriptedLLM(["x" * 3000, "Hello there."], delay=0.01)
    llm = PriorityLLM(backend, idle_before_background=0.0)
    outcome: dict[str, object] = {}

    def background() -> None:
        try:
            outcome["text"] = llm.complete_background(
                [{"role": "user", "content": "rate"}], GenerationParams()
            )
        except Preempted:
            outcome["preempted"] = True

    thread = threading.Thread(target=background)
    thread.start()
    assert wait_until(lambda: llm._busy)
    reply = "".join(llm.stream_chat([{"role": "user", "content": "hi"}], GenerationParams()))
    thread.join(30)
    assert reply == "Hello there." and outcome == {"preempted": True}


def test_a_turn_stores_the_message_before_the_model_fails(coach_on):
    backend = ScriptedLLM([" tired."])  # the script runs out: the backend raises LLMError
    coach = coach_on(backend)
    with pytest.raises(Exception, match="no completion left"):
        collect(coach.reply("sam", "Something important happened.", user_name="Sam"))
    assert [m.text for m in coach.bank("sam").memories(Stream.DIALOGUE)] == ["Something important happened."]


@pytest.mark.llm
def test_stop_in_the_middle_of_a_real_models_reply_keeps_what_was_said(tmp_path, embedder, embedded_llm):
    """On the real embedded model: Stop pressed while the first thought is being written ends
    the reply there; the words shown are kept, nothing after them is generated or stored."""
    settings = replace(CoachSettings(), background=False)
    coach = Coach(
        PriorityLLM(embedded_llm, idle_before_background=0.0), embedder, tmp_path, settings=settings
    )
    room = ChatRoom(coach, "sam")
    try:
        exchange = room.send("I had a long week and I keep putting off my tax return.", "Sam")
        assert wait_until(lambda: len(exchange.empathetic) > len("Sam is") + 3, timeout=120)
        room.stop()
        assert room.wait_idle(60)
        assert exchange.status is Status.STOPPED
        assert exchange.dialogue == "" and exchange.therapeutic == ""  # no later step started
        bank = coach.bank("sam")
        [thought] = [m.text for m in bank.memories(Stream.EMPATHETIC)]
        assert thought == exchange.empathetic.strip()  # what was shown is what was kept
        assert [m.speaker for m in bank.memories(Stream.DIALOGUE)] == ["Sam"]
    finally:
        room.close()
        coach.close()
