"""Settings of the coach, with YAML round-tripping and validation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .cognition.reflection import ReflectionSettings
from .llm.base import GenerationParams
from .memory.models import Stream
from .memory.retrieval import RetrievalSettings
from .memory.scoring import ScoreWeights


def default_k() -> dict[Stream, int]:
    return {Stream.DIALOGUE: 4, Stream.EMPATHETIC: 1, Stream.THERAPEUTIC: 1, Stream.REFLECTION: 3}


@dataclass(frozen=True)
class CoachSettings:
    """Everything a turn depends on, apart from the models themselves."""

    k: dict[Stream, int] = field(default_factory=default_k)
    history_messages: int = 8  # recent dialogue memories sent verbatim
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    reflection: ReflectionSettings = field(default_factory=ReflectionSettings)
    reply: GenerationParams = field(default_factory=lambda: GenerationParams(max_tokens=350))
    prime_format: bool = True  # start the reply with the first voice label where the backend allows
    background: bool = True  # importance and reflection after each reply

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["k"] = {Stream(s).value: v for s, v in self.k.items()}
        data["reply"]["stop"] = list(self.reply.stop)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CoachSettings:
        """Build from (possibly partial) user data; unknown keys and bad values raise ValueError."""
        base = cls()
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        changes: dict[str, Any] = {}
        if "k" in data:
            k = dict(base.k)
            for name, value in dict(data["k"]).items():
                k[Stream(name)] = _int(value, f"k.{name}", 0, 50)
            changes["k"] = k
        if "history_messages" in data:
            changes["history_messages"] = _int(data["history_messages"], "history_messages", 0, 64)
        for flag in ("prime_format", "background"):
            if flag in data:
                changes[flag] = bool(data[flag])
        if "retrieval" in data:
            r = dict(data["retrieval"])
            weights = ScoreWeights(**{**asdict(base.retrieval.weights), **dict(r.pop("weights", {}))})
            if any(w < 0 for w in asdict(weights).values()):
                raise ValueError("retrieval weights must not be negative")
            retrieval = replace(base.retrieval, weights=weights, **r)
            if not 0 < retrieval.decay_per_hour <= 1:
                raise ValueError("retrieval.decay_per_hour must be in (0, 1]")
            changes["retrieval"] = retrieval
        if "reflection" in data:
            changes["reflection"] = replace(base.reflection, **dict(data["reflection"]))
        if "reply" in data:
            reply = dict(data["reply"])
            if "stop" in reply:
                reply["stop"] = tuple(reply["stop"])
            changes["reply"] = replace(base.reply, **reply)
        return replace(base, **changes)


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
    return value
