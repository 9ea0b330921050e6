"""The cue tables for plans (``data/plan_cues.yaml``): does a sentence say the person will do
something (a commitment) or must keep to a rule (a limit)? Read by the background noting
(``plan_cues``) and by the reply (``plan_use``: a step the person just stated is heard)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ..memory.plans import PlanKind

DATA = Path(__file__).with_name("data") / "plan_cues.yaml"
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True)
class CueRules:
    cues: tuple[re.Pattern[str], ...]
    hedges: tuple[re.Pattern[str], ...]


@cache
def cue_rules() -> dict[PlanKind, CueRules]:
    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return {
        PlanKind(kind): CueRules(
            tuple(re.compile(p, re.I) for p in rules["cues"]),
            tuple(re.compile(p, re.I) for p in rules.get("hedges", [])),
        )
        for kind, rules in data.items()
    }


def cued_clause(sentence: str, rules: CueRules) -> str:
    """The part of ``sentence`` from its cue on ("" when it has none): "plan is stretching,
    and I'm gonna ring the clinic on Monday" is cued from "I'm gonna"."""
    if sentence.rstrip().endswith("?"):
        return ""
    for cue in rules.cues:
        found = cue.search(sentence)
        if found and not any(h.search(sentence[: found.start() + 1]) for h in rules.hedges):
            return sentence[found.start() :].lstrip(" ,.;:!-").strip()
    return ""


def stated_commitment(message: str) -> str:
    """The step the message says the person will take, from its cue on ("" when it states none)."""
    rules = cue_rules()[PlanKind.COMMITMENT]
    for sentence in (s.strip() for s in SENTENCE.findall(message.replace("’", "'"))):
        clause = cued_clause(sentence, rules) if sentence else ""
        if clause:
            return clause
    return ""
