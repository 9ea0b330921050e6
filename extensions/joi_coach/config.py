"""Settings of the coach, with YAML round-tripping and validation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .cognition.reflection import ReflectionSettings
from .llm.base import GenerationParams
from .memory.models import Stream
from .memory.retrieval import RetrievalSettings
from .memory.scoring import ScoreWeights
from .safety.settings import SafetySettings


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
    plans: bool = True  # note goals, commitments and limits in the background; use them in replies
    read_ahead: bool = True  # while the person types, the model reads the reply's prompt (embedded model)
    safety: SafetySettings = field(default_factory=SafetySettings)

    def __post_init__(self) -> None:
        for stream, k in self.k.items():
            Stream(stream)
            _check_int(k, f"k.{Stream(stream).value}", 0, 50)
        _check_int(self.history_messages, "history_messages", 0, 64)
        for name, kind in (
            ("retrieval", RetrievalSettings),
            ("reflection", ReflectionSettings),
            ("reply", GenerationParams),
            ("safety", SafetySettings),
        ):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{name} must be {kind.__name__}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["k"] = {Stream(s).value: v for s, v in self.k.items()}
        data["reply"]["stop"] = list(self.reply.stop)
        data["reply"]["avoid_words"] = list(self.reply.avoid_words)
        data["safety"]["own_contacts"] = list(self.safety.own_contacts)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CoachSettings:
        """Build from (possibly partial) user data; unknown keys and bad values raise ValueError.

        The values themselves are checked where they are defined (each dataclass's
        ``__post_init__``); this only maps the plain data onto them.
        """
        base = cls()
        _known(data, cls, "settings")
        changes: dict[str, Any] = {}
        if "k" in data:
            k = dict(base.k)
            for name, value in dict(data["k"]).items():
                try:
                    k[Stream(name)] = value
                except ValueError:
                    raise ValueError(f"k: no memory stream called {name!r}") from None
            changes["k"] = k
        if "history_messages" in data:
            changes["history_messages"] = data["history_messages"]
        for flag in ("prime_format", "background", "plans", "read_ahead"):
            if flag in data:
                changes[flag] = bool(data[flag])
        if "retrieval" in data:
            retrieval = dict(data["retrieval"])
            _known(retrieval, RetrievalSettings, "retrieval")
            weights = dict(retrieval.pop("weights", {}))
            _known(weights, ScoreWeights, "retrieval.weights")
            retrieval["weights"] = replace(base.retrieval.weights, **weights)
            changes["retrieval"] = replace(base.retrieval, **retrieval)
        if "reflection" in data:
            reflection = dict(data["reflection"])
            _known(reflection, ReflectionSettings, "reflection")
            changes["reflection"] = replace(base.reflection, **reflection)
        if "reply" in data:
            reply = dict(data["reply"])
            _known(reply, GenerationParams, "reply")
            for listed in ("stop", "avoid_words"):
                if listed in reply:
                    reply[listed] = tuple(reply[listed])
            changes["reply"] = replace(base.reply, **reply)
        if "safety" in data:
            safety = dict(data["safety"])
            _known(safety, SafetySettings, "safety")
            if "own_contacts" in safety:
                contacts = safety["own_contacts"]
                safety["own_contacts"] = tuple(contacts) if isinstance(contacts, list) else contacts
            changes["safety"] = replace(base.safety, **safety)
        return replace(base, **changes)


def _known(data: dict[str, Any], kind: type, where: str) -> None:
    unknown = set(data) - {f.name for f in fields(kind)}
    if unknown:
        raise ValueError(f"unknown {where}: {', '.join(sorted(unknown))}")


def _check_int(value: Any, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}")
