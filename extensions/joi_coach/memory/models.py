"""The records that flow through Joi's memory."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum


class Stream(str, Enum):
    """The memory streams of the Generative-Agents design, as adapted for a coach."""

    DIALOGUE = "dialogue"
    EMPATHETIC = "empathetic"
    THERAPEUTIC = "therapeutic"
    REFLECTION = "reflection"


ALL_STREAMS: tuple[Stream, ...] = tuple(Stream)
IMPORTANCE_MIN, IMPORTANCE_MAX = 1, 10
NEUTRAL_IMPORTANCE = 5  # what an unrated memory counts as, until the LLM rates it


@dataclass(frozen=True)
class NewMemory:
    """A memory about to be stored (the store assigns id and access time)."""

    stream: Stream
    text: str
    created_at: float
    speaker: str = ""
    context: str = ""
    conversation: str = "default"
    importance: int | None = None
    importance_source: str | None = None
    evidence: tuple[int, ...] = ()
    depth: int = 0


@dataclass(frozen=True)
class Memory:
    """A stored memory. Times are POSIX seconds (UTC)."""

    id: int
    stream: Stream
    text: str
    created_at: float
    last_accessed: float
    speaker: str = ""
    context: str = ""
    conversation: str = "default"
    importance: int | None = None
    importance_source: str | None = None
    depth: int = 0
    embedding_model: str = ""
    evidence: tuple[int, ...] = field(default=())


# The columns of a stored memory, derived from the dataclasses (evidence is its own table;
# the vector is stored beside the row and never read back into a Memory).
MEMORY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Memory) if f.name != "evidence")
NEW_MEMORY_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(NewMemory) if f.name != "evidence")
