"""A scripted backend that answers each kind of prompt Joi sends in the format Joi expects.

``ScriptedLLM`` plays a fixed list of completions in order, which suits a single reply. Tests
that also rate importance and reflect (on the background worker or in between turns) need
the answer to depend on the prompt instead: this backend reads which prompt it was given
(an importance rating, reflection questions, cited insights, a thought or the spoken line)
and answers it in the documented format (:mod:`joi_coach.cognition.importance`,
:mod:`joi_coach.cognition.reflection`, :mod:`joi_coach.cognition.reply_steps`), streaming
through ``ScriptedLLM`` so stop strings and cancellation behave exactly as there.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field

from joi_coach.llm.base import CancelToken, ChatMessage, GenerationParams
from scripted_llm import Call, ScriptedLLM

WORDS = [
    "garden",
    "morning",
    "river",
    "violin",
    "bicycle",
    "mountain",
    "letter",
    "kitchen",
    "painting",
    "harbour",
    "lantern",
    "orchard",
    "meadow",
    "journal",
    "compass",
    "window",
    "festival",
    "library",
    "bakery",
    "forest",
    "puzzle",
    "ladder",
    "marathon",
    "cello",
    "pottery",
    "sailing",
    "chess",
    "novel",
    "theatre",
    "market",
    "blanket",
    "candle",
    "island",
]
_NUMBERED_NOTE = re.compile(r'^\d+\. "', re.M)


@dataclass
class ProtocolLLM:
    """Answers importance, reflection and reply prompts in Joi's formats; records every call."""

    seed: int = 0
    chunk_size: int = 7
    name: str = "protocol"
    supports_prefix: bool = True
    spoken: str | None = None  # a fixed spoken line (default: a fresh varied one each time)
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def _words(self, count: int) -> str:
        return " ".join(self._random.choice(WORDS) for _ in range(count))

    def answer(self, messages: Sequence[ChatMessage], assistant_prefix: str) -> str:
        system = messages[0]["content"] if messages else ""
        last = messages[-1]["content"] if messages else ""
        if system.startswith("You rate how important"):
            count = len(_NUMBERED_NOTE.findall(last))
            return "\n".join(f"{n}. note {n} - {self._random.randint(3, 9)}" for n in range(1, count + 1))
        if "reflective mind" in system:
            if "high-level questions" in last:
                count = int(re.search(r"Write exactly (\d+) questions", last).group(1))
                return "\n".join(
                    f"{n}. What does the {self._words(2)} say about what matters to them?"
                    for n in range(1, count + 1)
                )
            notes = len(re.findall(r"^\[\d+\]", last, re.M))
            cited = sorted(self._random.sample(range(1, notes + 1), min(2, notes)))
            return (
                f"Insight: They find calm in the {self._words(3)} when the week gets heavy "
                f"(because of {', '.join(map(str, cited))})"
            )
        if assistant_prefix.rstrip().endswith(" is"):  # the empathetic voice
            return f" feeling the weight of the {self._words(2)} this week.\n"
        if "What would help" in assistant_prefix.rsplit("\n", 1)[-1]:  # the therapist's voice
            return f" a small step with the {self._words(2)} before planning more.\n"
        if self.spoken is not None:
            return self.spoken
        return (
            f"That sounds like a full week with the {self._words(2)}. "
            f"What would make the {self._words(2)} feel lighter tomorrow?"
        )

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        with self._lock:
            text = self.answer(messages, assistant_prefix)
            one = ScriptedLLM([text], chunk_size=self.chunk_size)
            stream = one.stream_chat(messages, params, cancel, assistant_prefix)
        try:
            yield from stream
        finally:
            with self._lock:
                self.calls.extend(one.calls)
