"""What the crisis detector reports: the kind of danger and the signal for one message."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CrisisKind", "CrisisSignal"]


class CrisisKind(str, Enum):
    """What kind of danger a message signals."""

    SUICIDAL = "suicidal"
    SELF_HARM = "self_harm"
    HARM_TO_OTHERS = "harm_to_others"
    ABUSE_OR_DANGER = "abuse_or_danger"
    MEDICAL_EMERGENCY = "medical_emergency"


@dataclass(frozen=True)
class CrisisSignal:
    """A detected crisis. ``reason`` is machine-ish ("pattern:suicidal_plan", "similar:0.71")
    and never contains the message's words."""

    kind: CrisisKind
    score: float
    reason: str
