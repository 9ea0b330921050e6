"""Conversations as the person sees them, rebuilt from the memory streams.

A conversation is a label on dialogue memories; Joi's two inner voices of a turn are
stored with the same conversation and time as the dialogue line they preceded, which is
how a transcript finds them again after a restart.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from .memory.bank import MemoryBank
from .memory.display import utc_minute
from .memory.models import Stream
from .safety.response import CRISIS_SOURCE

CURRENT_CONVERSATION = "current_conversation"  # meta key


@dataclass(frozen=True)
class ChatLine:
    """One line of a transcript: the person's words, or Joi's with the thoughts before them."""

    speaker: str
    text: str
    created_at: float
    from_joi: bool
    memory_id: int
    empathetic: str = ""
    therapeutic: str = ""
    care_shown: bool = False  # a care card (crisis lines) was shown above this line


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    started_at: float
    last_at: float
    lines: int

    def label(self) -> str:
        started = utc_minute(self.started_at)
        return f"{started} UTC · {self.lines} lines"


def new_conversation_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"c{stamp}-{secrets.token_hex(3)}"


def current_conversation(bank: MemoryBank) -> str:
    """The conversation the person is in: the stored choice, else their latest, else a new one."""
    chosen = bank.get_meta(CURRENT_CONVERSATION)
    if chosen:
        return chosen
    existing = bank.conversations(limit=1)
    chosen = existing[0][0] if existing else new_conversation_id()
    bank.set_meta(CURRENT_CONVERSATION, chosen)
    return chosen


def set_current_conversation(bank: MemoryBank, conversation: str) -> None:
    bank.set_meta(CURRENT_CONVERSATION, conversation)


def list_conversations(bank: MemoryBank, limit: int = 200) -> list[ConversationInfo]:
    return [ConversationInfo(*row) for row in bank.conversations(limit)]


def load_transcript(bank: MemoryBank, conversation: str, joi_name: str, limit: int = 400) -> list[ChatLine]:
    """The last ``limit`` dialogue lines of a conversation, oldest first, with Joi's thoughts."""
    dialogue = list(reversed(bank.memories(Stream.DIALOGUE, conversation=conversation, limit=limit)))
    thoughts: dict[tuple[Stream, float], str] = {}
    cared: set[float] = set()
    for stream in (Stream.EMPATHETIC, Stream.THERAPEUTIC):
        for memory in bank.memories(stream, conversation=conversation, limit=limit):
            if memory.importance_source == CRISIS_SOURCE:  # Joi's note of a crisis, not a thought
                cared.add(memory.created_at)
            else:
                thoughts.setdefault((stream, memory.created_at), memory.text)
    return [
        ChatLine(
            speaker=m.speaker,
            text=m.text,
            created_at=m.created_at,
            from_joi=m.speaker == joi_name,
            memory_id=m.id,
            empathetic=thoughts.get((Stream.EMPATHETIC, m.created_at), "") if m.speaker == joi_name else "",
            therapeutic=thoughts.get((Stream.THERAPEUTIC, m.created_at), "") if m.speaker == joi_name else "",
            care_shown=m.speaker == joi_name and m.created_at in cared,
        )
        for m in dialogue
    ]
