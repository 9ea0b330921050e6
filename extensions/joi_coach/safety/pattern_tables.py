"""Crisis patterns for languages other than English, as data: ``patterns/<language>.yaml``.

Each file holds ``language`` and ``rules``; a rule has a ``name``, a ``kind`` (a ``CrisisKind``
value), a ``score`` (0.5–1), ``any`` (regular expressions, one of which must match a sentence)
and optionally ``unless`` (expressions that, matching the same sentence, hold the rule back: a
negation, an idiom, a story about someone else). The expressions run on folded text
(``text_prep.fold``: lowercase, no accents), so they are written without accents.

English has its own, richer table with guards (``crisis_rules``); these tables are for explicit
statements in the other languages of the crisis card. Every table is checked on every message:
a short message's language cannot be told reliably, and a pattern in one language seldom
matches a sentence in another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .signals import CrisisKind, CrisisSignal
from .text_prep import fold, sentences

__all__ = ["PATTERN_DIR", "PatternTableError", "TableRule", "load_tables", "match_tables"]

PATTERN_DIR = Path(__file__).with_name("patterns")


class PatternTableError(ValueError):
    """A pattern table that cannot be used (says which file and rule, and why)."""


@dataclass(frozen=True)
class TableRule:
    name: str
    kind: CrisisKind
    score: float
    any: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]

    def fires(self, sentence: str) -> bool:
        return any(p.search(sentence) for p in self.any) and not any(p.search(sentence) for p in self.unless)


def _compile(patterns: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise PatternTableError(f"{where} must be a list of regular expressions")
    try:
        return tuple(re.compile(p) for p in patterns)
    except re.error as exc:
        raise PatternTableError(f"{where}: {exc}") from exc


def _rule(entry: Any, where: str) -> TableRule:
    if not isinstance(entry, dict):
        raise PatternTableError(f"{where} must be a mapping")
    try:
        kind = CrisisKind(str(entry.get("kind")))
    except ValueError:
        raise PatternTableError(
            f"{where}.kind must be one of {', '.join(k.value for k in CrisisKind)}"
        ) from None
    score = entry.get("score")
    if not isinstance(score, (int, float)) or not 0.5 <= float(score) <= 1:
        raise PatternTableError(f"{where}.score must be a number from 0.5 to 1")
    name = str(entry.get("name") or "")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise PatternTableError(f"{where}.name must be lowercase letters, digits and underscores")
    found = _compile(entry.get("any"), f"{where}.any")
    if not found:
        raise PatternTableError(f"{where}.any needs at least one expression")
    return TableRule(name, kind, float(score), found, _compile(entry.get("unless", []), f"{where}.unless"))


def read_table(path: Path) -> tuple[TableRule, ...]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PatternTableError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise PatternTableError(f"{path}: expected 'language' and a list of 'rules'")
    rules = tuple(_rule(entry, f"{path.name}: rules[{n}]") for n, entry in enumerate(data["rules"]))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise PatternTableError(f"{path}: rule names must be unique")
    return rules


@cache
def load_tables(folder: Path = PATTERN_DIR) -> tuple[TableRule, ...]:
    """Every table's rules (read once per process)."""
    return tuple(rule for path in sorted(folder.glob("*.yaml")) for rule in read_table(path))


def match_tables(cleaned: str, rules: tuple[TableRule, ...]) -> CrisisSignal | None:
    """The highest-scoring rule that fires in a sentence of ``cleaned`` text, or None."""
    best: TableRule | None = None
    for sentence in sentences(fold(cleaned)):
        for rule in rules:
            if (best is None or rule.score > best.score) and rule.fires(sentence):
                best = rule
    return None if best is None else CrisisSignal(best.kind, best.score, f"pattern:{best.name}")
