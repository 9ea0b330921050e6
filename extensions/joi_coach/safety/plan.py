"""The person's own safety plan: what they wrote down, in a calm moment, for a hard one.

The sections follow the safety-planning practice clinicians use (Stanley & Brown): warning
signs, what helps, people and places that take the mind off it, people to ask for help,
professionals and services, and making the surroundings safer. The plan lives in the
profile's store (:meth:`MemoryBank.safety_plan`), so it is exported, forgotten and isolated
with the person's memories.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ..memory.bank import MemoryBank

MAX_SECTION_CHARS = 4000


@dataclass(frozen=True)
class PlanSection:
    key: str
    title: str
    hint: str


SECTIONS: tuple[PlanSection, ...] = (
    PlanSection(
        "warning_signs",
        "My warning signs",
        "Thoughts, feelings or situations that tell me a hard time is starting.",
    ),
    PlanSection("what_helps", "Things that help me", "What I can do on my own to get through it."),
    PlanSection(
        "distractions",
        "People and places that take my mind off it",
        "A friend to text, a café, a walk, a place with people around.",
    ),
    PlanSection(
        "people_to_ask",
        "People I can ask for help",
        "Names and numbers of people I trust to tell how I really am.",
    ),
    PlanSection(
        "professionals",
        "Professionals and services",
        "My doctor, therapist or local crisis team, with their numbers.",
    ),
    PlanSection(
        "safer_surroundings",
        "Making my surroundings safer",
        "What I can put away, or ask someone to keep, when things get hard.",
    ),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)


@dataclass(frozen=True)
class SafetyPlan:
    warning_signs: str = ""
    what_helps: str = ""
    distractions: str = ""
    people_to_ask: str = ""
    professionals: str = ""
    safer_surroundings: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, str):
                raise ValueError(f"{f.name} must be text")
            if len(value) > MAX_SECTION_CHARS:
                raise ValueError(f"'{_title(f.name)}' is longer than {MAX_SECTION_CHARS} characters")

    @classmethod
    def from_sections(cls, sections: dict[str, str]) -> SafetyPlan:
        unknown = set(sections) - set(SECTION_KEYS)
        if unknown:
            raise ValueError(f"unknown safety plan sections: {', '.join(sorted(unknown))}")
        return cls(**{key: (text or "").strip() for key, text in sections.items()})

    def sections(self) -> dict[str, str]:
        """The sections that have text, in order."""
        return {key: getattr(self, key) for key in SECTION_KEYS if getattr(self, key).strip()}

    @property
    def is_empty(self) -> bool:
        return not self.sections()


def _title(key: str) -> str:
    return next(s.title for s in SECTIONS if s.key == key)


def load_plan(bank: MemoryBank) -> SafetyPlan:
    """The profile's plan (empty when none was written)."""
    stored = bank.safety_plan()
    return SafetyPlan.from_sections({k: v for k, v in stored.items() if k in SECTION_KEYS})


def save_plan(bank: MemoryBank, plan: SafetyPlan, now: float) -> None:
    """Replace the profile's plan with ``plan`` (empty sections are removed)."""
    bank.save_safety_plan(plan.sections(), now)
