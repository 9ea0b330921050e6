"""Crisis lines per country and the card's words per language, read from YAML.

The shipped list is ``crisis_lines.yaml`` beside this module (its header documents the
format); a deployment can add or replace countries with a file of its own
(``CrisisDirectory.load(extra)``). Nothing here reaches the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .detection import CrisisKind

SHIPPED_LINES = Path(__file__).with_name("crisis_lines.yaml")
INTERNATIONAL = "INTL"
DEFAULT_LANGUAGE = "en"
TEXT_KEYS = ("title", "opening", "emergency", "lines", "plan", "own", "closing")
MAX_FIELD = 300
SUICIDE_KINDS = frozenset({CrisisKind.SUICIDAL, CrisisKind.SELF_HARM})  # what suicide lines are for first


class ResourcesError(ValueError):
    """A crisis-lines file that cannot be used (says where and why)."""


@dataclass(frozen=True)
class CrisisLine:
    name: str
    contact: str
    kinds: frozenset[CrisisKind] = frozenset(CrisisKind)
    everywhere: bool = False  # an international line that also ends a language's list

    def serves(self, kind: CrisisKind | None) -> bool:
        return kind is None or kind in self.kinds


@dataclass(frozen=True)
class CountryLines:
    code: str
    name: str
    language: str
    emergency: str
    lines: tuple[CrisisLine, ...]

    def for_kind(self, kind: CrisisKind | None) -> list[CrisisLine]:
        """The lines that serve ``kind``, the fitting ones first: for danger at home, violence
        or a medical emergency, the lines that are not suicide lines lead (a domestic-violence
        line, the emergency number). All lines if none serves ``kind`` (never an empty card)."""
        chosen = [line for line in self.lines if line.serves(kind)] or list(self.lines)
        if kind is None or kind in SUICIDE_KINDS:
            return chosen
        return sorted(chosen, key=lambda line: bool(line.kinds & SUICIDE_KINDS))


@dataclass(frozen=True)
class CrisisDirectory:
    """Every known country's lines and every language's card texts."""

    countries: Mapping[str, CountryLines]
    texts: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, extra: Path | None = None) -> CrisisDirectory:
        """The shipped list, with the countries and languages of ``extra`` laid over it."""
        data = _read(SHIPPED_LINES)
        directory = cls.from_data(data, SHIPPED_LINES.name)
        if extra is None:
            return directory
        more = cls.from_data(_read(extra), str(extra), partial=True)
        return cls(
            countries={**directory.countries, **more.countries},
            texts={**directory.texts, **more.texts},
        )

    @classmethod
    def from_data(cls, data: Any, where: str, *, partial: bool = False) -> CrisisDirectory:
        if not isinstance(data, dict):
            raise ResourcesError(f"{where}: expected a mapping with 'countries' and 'texts'")
        countries = {
            code: _country(code, entry, where)
            for code, entry in _mapping(data.get("countries", {}), f"{where}: countries").items()
        }
        texts = {
            lang: _texts(lang, entry, where)
            for lang, entry in _mapping(data.get("texts", {}), f"{where}: texts").items()
        }
        if not partial:
            if INTERNATIONAL not in countries:
                raise ResourcesError(f"{where}: countries must include {INTERNATIONAL}")
            if DEFAULT_LANGUAGE not in texts:
                raise ResourcesError(f"{where}: texts must include {DEFAULT_LANGUAGE}")
        return cls(countries=countries, texts=texts)

    def country(self, code: str, language: str = "") -> CountryLines:
        """The lines for ``code`` (ISO 3166, any case). With no country chosen (or an unknown
        one), the international list; for a person writing in another language than English,
        the lines of the countries that speak it lead it (names prefixed with the country)."""
        chosen = self.countries.get(code.strip().upper())
        if chosen is not None:
            return chosen
        world = self.countries[INTERNATIONAL]
        language = language.strip().lower()
        if not language or language == DEFAULT_LANGUAGE:
            return world
        local = tuple(
            CrisisLine(f"{c.name}: {line.name}", line.contact, line.kinds)
            for c in self.countries.values()
            if c.code != INTERNATIONAL and c.language == language
            for line in c.lines
        )
        if not local:
            return world
        anywhere = tuple(line for line in world.lines if line.everywhere)
        return CountryLines(world.code, world.name, language, world.emergency, local + anywhere)

    def words(self, language: str) -> Mapping[str, str]:
        return self.texts.get(language.strip().lower(), self.texts[DEFAULT_LANGUAGE])

    def choices(self) -> list[tuple[str, str]]:
        """(label, code) for a menu: international first, then by name."""
        others = sorted((c for c in self.countries.values() if c.code != INTERNATIONAL), key=lambda c: c.name)
        first = self.countries[INTERNATIONAL]
        return [(first.name, first.code)] + [(f"{c.name} ({c.code})", c.code) for c in others]


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ResourcesError(f"cannot read crisis lines from {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ResourcesError(f"{path} is not valid YAML: {exc}") from exc


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ResourcesError(f"{where} must be a mapping")
    return {str(k): v for k, v in value.items()}


def _text(value: Any, where: str) -> str:
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ResourcesError(f"{where} must be text")
    text = str(value).strip()
    if len(text) > MAX_FIELD:
        raise ResourcesError(f"{where} is longer than {MAX_FIELD} characters")
    return text


def _country(code: str, entry: Any, where: str) -> CountryLines:
    here = f"{where}: countries.{code}"
    entry = _mapping(entry, here)
    raw_lines = entry.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise ResourcesError(f"{here}.lines must be a non-empty list")
    lines = []
    for n, item in enumerate(raw_lines):
        at = f"{here}.lines[{n}]"
        item = _mapping(item, at)
        kinds = frozenset(CrisisKind)
        if "for" in item:
            if not isinstance(item["for"], list) or not item["for"]:
                raise ResourcesError(f"{at}.for must be a non-empty list of kinds")
            try:
                kinds = frozenset(CrisisKind(str(k)) for k in item["for"])
            except ValueError:
                known = ", ".join(k.value for k in CrisisKind)
                raise ResourcesError(f"{at}.for: the kinds are {known}") from None
        name, contact = _text(item.get("name"), f"{at}.name"), _text(item.get("contact"), f"{at}.contact")
        if not name or not contact:
            raise ResourcesError(f"{at} needs a name and a contact")
        everywhere = item.get("everywhere", False)
        if not isinstance(everywhere, bool):
            raise ResourcesError(f"{at}.everywhere must be true or false")
        lines.append(CrisisLine(name, contact, kinds, everywhere))
    return CountryLines(
        code=code.upper(),
        name=_text(entry.get("name", code), f"{here}.name") or code,
        language=_text(entry.get("language", DEFAULT_LANGUAGE), f"{here}.language").lower(),
        emergency=_text(entry.get("emergency", ""), f"{here}.emergency"),
        lines=tuple(lines),
    )


def _texts(language: str, entry: Any, where: str) -> dict[str, str]:
    here = f"{where}: texts.{language}"
    entry = _mapping(entry, here)
    missing = [key for key in TEXT_KEYS if not entry.get(key)]
    if missing:
        raise ResourcesError(f"{here} is missing {', '.join(missing)}")
    texts = {key: _text(entry[key], f"{here}.{key}") for key in TEXT_KEYS}
    if "{emergency}" not in texts["emergency"]:
        raise ResourcesError(f"{here}.emergency must contain {{emergency}}")
    return texts
