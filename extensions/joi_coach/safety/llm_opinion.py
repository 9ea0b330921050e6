"""A second opinion from the person's own model, for messages the learned model is unsure about.

Only a message in the detector's uncertain band is asked about (``Screening.uncertain``): a few
in a hundred everyday messages. The model reads the message with the person's last turns and
answers one word; "yes" makes it a crisis of the kind the learned model leaned to. The question
is asked before the reply, on the same model, so that the reply is framed for a crisis from
its first word; it costs one short prompt and at most a few generated tokens
(``benchmarks/safety.py --llm`` measures it).

Any failure (the model is busy, stopped, or answers something else) leaves the message as it
was: not a crisis.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from ..llm.base import ChatMessage, GenerationParams, LLMError
from .signals import CrisisKind, CrisisSignal

__all__ = ["OPINION_PARAMS", "ask_model", "opinion_messages"]

log = logging.getLogger(__name__)

OPINION_PARAMS = GenerationParams(max_tokens=3, temperature=0.0, top_p=1.0, repeat_penalty=1.0, stop=("\n",))
MAX_TURN_CHARS = 600
_YES = re.compile(r"^\W*(?:yes|ja|oui|si|sí)\b", re.I)

_QUESTION = (
    "You screen messages sent to a self-improvement coaching app for safety. Decide whether the "
    "person's LAST message, read with their earlier ones, says that the person or someone near them "
    "is in danger NOW: thoughts of ending their own life (also indirect: being a burden, saying goodbye, "
    "putting affairs in order, others coping better without them), hurting themselves, a real plan to "
    "hurt someone, abuse or violence at home, or a medical emergency such as an overdose. Messages may "
    "be in any language.\n"
    "Answer no for: figures of speech (this traffic is killing me, I could strangle him for forgetting the "
    "bins), jokes about trivial things, stories, films, books and news, someone's job, the past that is "
    "over, and sadness or tiredness without danger.\n"
    "Answer with one word: yes or no."
)


def opinion_messages(message: str, earlier: Sequence[str] = ()) -> list[ChatMessage]:
    turns = [t[:MAX_TURN_CHARS] for t in earlier[-3:] if isinstance(t, str) and t.strip()]
    shown = "".join(f"Earlier message: {t}\n" for t in turns)
    return [
        {"role": "system", "content": _QUESTION},
        {
            "role": "user",
            "content": f"{shown}LAST message: {message[: MAX_TURN_CHARS * 2]}\n\nDanger now? yes or no",
        },
    ]


def ask_model(llm, message: str, earlier: Sequence[str], kind: CrisisKind) -> CrisisSignal | None:
    """``llm.stream_chat``'s answer to the screening question: a signal of ``kind`` for "yes",
    None for "no" or any failure (nothing of the message is logged)."""
    try:
        answer = "".join(llm.stream_chat(opinion_messages(message, earlier), OPINION_PARAMS))
    except (LLMError, OSError, RuntimeError) as exc:
        log.warning(
            "the model's safety opinion failed (%s); the message stays as screened", type(exc).__name__
        )
        return None
    if _YES.match(answer):
        return CrisisSignal(kind, 0.5, "model:yes")
    return None
