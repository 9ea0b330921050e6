"""No message or memory text reaches the logs or the console, even with every logger at DEBUG.

A full turn through the chat room (its worker thread), a second turn whose spoken line is
stopped by the guard and asked again, a crisis message, importance ratings and a reflection
on the background worker, and a reflection asked for directly, with every logger (Joi's
and every library's) at DEBUG: the log records, and everything written to stdout and
stderr at the file-descriptor level, must hold none of the person's words nor any
memory's text (distinctive marker words make a leak findable).
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import replace

import pytest
from joi_coach.chat_room import ChatRoom, Status
from joi_coach.coach import Coach, collect
from joi_coach.config import CoachSettings
from joi_coach.llm.priority import PriorityLLM
from joi_coach.memory.models import Stream
from protocol_llm import ProtocolLLM

FIRST = "My neighbour Quorblatt borrowed the marmalade jar again and I felt TANGERINEWOLF about it."
SECOND = "The Quorblatt situation with the TANGERINEWOLF jar is still on my mind today."
CRISIS = "I want to kill myself tonight"
SPOKEN = "That OBLONGHERON moment with your neighbour sounds tiring. What would feel fair to you now?"
MARKERS = ("Quorblatt", "TANGERINEWOLF", "marmalade", "kill myself", "OBLONGHERON")


@pytest.fixture
def debug_everywhere():
    """Every logger at DEBUG, into one buffer; the previous levels restored afterwards."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(threadName)s: %(message)s"))
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in list(root.manager.loggerDict))]
    levels = {logger: logger.level for logger in loggers}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    root.addHandler(handler)
    logging.captureWarnings(True)
    try:
        yield buffer
    finally:
        logging.captureWarnings(False)
        root.removeHandler(handler)
        for logger, level in levels.items():
            logger.setLevel(level)


def test_no_message_or_memory_text_in_debug_logs_or_the_console(tmp_path, embedder, debug_everywhere, capfd):
    backend = ProtocolLLM(seed=11, spoken=SPOKEN)
    settings = replace(CoachSettings(), background=True)
    coach = Coach(PriorityLLM(backend, idle_before_background=0.0), embedder, tmp_path, settings=settings)
    room = ChatRoom(coach, "sam")
    try:
        exchange = room.send(FIRST, "Sam")  # the chat room's worker thread answers it
        assert room.wait_idle(60) and exchange.status is Status.DONE, exchange.error
        assert coach.wait_idle(60)
        # The same spoken line again: the guard stops it as a repeat and asks once more.
        _, _, second = collect(coach.reply("sam", SECOND, user_name="Sam"))
        _, _, crisis = collect(coach.reply("sam", CRISIS, user_name="Sam"))
        assert second is not None and crisis is not None and crisis.crisis is not None
        assert coach.wait_idle(60)
        reflections = coach.reflect_now("sam", user_name="Sam")
        coach.queue_thinking("sam")  # rate the new reflections too
        assert coach.wait_idle(60)
        bank = coach.bank("sam")
        memories = [m.text for m in bank.all_memories()]
        assert bank.count(Stream.REFLECTION) and reflections and not bank.unrated()
    finally:
        room.close()
        coach.close()
    time.sleep(0.2)  # let the daemon threads' last records land
    records = debug_everywhere.getvalue()
    console = capfd.readouterr()
    assert "joi_coach" in records, "nothing was logged: the test proves nothing"
    assert any("OBLONGHERON" in text for text in memories)  # the markers are in the store...
    for where, text in (("log records", records), ("stdout", console.out), ("stderr", console.err)):
        leaked = [m for m in MARKERS if m.lower() in text.lower()]
        assert not leaked, f"{where} show the person's words or memories: {leaked}"
        for memory in (m for m in memories if len(m) >= 12):  # ...and no memory's text, nor its start
            assert memory[:40] not in text, (where, memory)
    print(
        f"\nlogs: {len(records.splitlines())} DEBUG-level lines, {len(console.out) + len(console.err)} "
        f"console characters, {len(memories)} memories checked"
    )


@pytest.mark.llm
def test_a_real_model_turn_leaves_no_text_in_debug_logs_or_the_console(
    tmp_path, embedder, embedded_llm, debug_everywhere, capfd
):
    """The same check with the real embedded model writing the reply and rating its importance
    (the protocol stand-in above cannot show what llama.cpp or the guard would log)."""
    settings = replace(CoachSettings(), background=True)
    coach = Coach(
        PriorityLLM(embedded_llm, idle_before_background=0.0), embedder, tmp_path, settings=settings
    )
    try:
        _, _, turn = collect(coach.reply("sam", FIRST, user_name="Sam"))
        assert turn is not None and turn.reply.dialogue
        _, _, again = collect(coach.reply("sam", "Who borrowed the jar, did I say?", user_name="Sam"))
        assert again is not None
        assert coach.wait_idle(300)
        memories = [m.text for m in coach.bank("sam").all_memories()]
    finally:
        coach.close()
    time.sleep(0.2)
    records = debug_everywhere.getvalue()
    console = capfd.readouterr()
    assert "joi_coach" in records, "nothing was logged: the test proves nothing"
    for where, text in (("log records", records), ("stdout", console.out), ("stderr", console.err)):
        leaked = [m for m in MARKERS if m.lower() in text.lower()]
        assert not leaked, f"{where} show the person's words or memories: {leaked}"
        for memory in (m for m in memories if len(m) >= 12):
            assert memory[:40] not in text, (where, memory)
