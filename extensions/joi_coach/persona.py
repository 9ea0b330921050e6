"""Joi's persona and prompt format, read from the webui's own file formats.

* ``characters/Joi.yaml``: ``name``, ``greeting``, ``context`` (with ``{{user}}``/``{{char}}``).
* ``instruction-templates/*.yaml``: a Jinja ``instruction_template`` over ``messages``.

The same files are installed into text-generation-webui, so host and engine agree.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from jinja2 import Template
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .llm.base import ChatMessage

DEFAULT_CHARACTER = "Joi"
DEFAULT_TEMPLATE = "Joi-ChatML"
_jinja = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])


class PersonaError(ValueError):
    """A character or template file is missing or malformed."""


def asset_roots() -> list[Path]:
    """Where characters/ and instruction-templates/ are looked up, in order."""
    roots = []
    if os.environ.get("JOI_ASSETS"):
        roots.append(Path(os.environ["JOI_ASSETS"]).expanduser())
    here = Path(__file__).resolve()
    roots += [here.parents[2], here.parents[1].parent, here.parents[1]]
    return roots


def find_asset(folder: str, name: str) -> Path:
    """A YAML file by path, or by name under ``folder`` of the first asset root that has it."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    for root in asset_roots():
        for suffix in (".yaml", ".yml"):
            path = root / folder / f"{name}{suffix}"
            if path.exists():
                return path
    raise PersonaError(f"no {folder}/{name}.yaml in {[str(r) for r in asset_roots()]}")


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PersonaError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PersonaError(f"{path} is not a YAML mapping")
    return data


@dataclass(frozen=True)
class Character:
    name: str
    greeting: str
    context: str

    @classmethod
    def load(cls, name_or_path: str = DEFAULT_CHARACTER) -> Character:
        path = find_asset("characters", name_or_path)
        data = _read_yaml(path)
        missing = [key for key in ("name", "context") if not str(data.get(key) or "").strip()]
        if missing:
            raise PersonaError(f"{path} lacks {', '.join(missing)}")
        return cls(
            name=str(data["name"]), greeting=str(data.get("greeting", "")), context=str(data["context"])
        )

    def fill(self, text: str, user_name: str) -> str:
        """Replace the webui's placeholders for the two speakers."""
        return text.replace("{{user}}", user_name).replace("{{char}}", self.name)


@dataclass(frozen=True)
class InstructionTemplate:
    source: str
    bos_token: str = ""
    eos_token: str = ""

    @classmethod
    def load(cls, name_or_path: str = DEFAULT_TEMPLATE) -> InstructionTemplate:
        path = find_asset("instruction-templates", name_or_path)
        data = _read_yaml(path)
        source = data.get("instruction_template")
        if not isinstance(source, str) or "messages" not in source:
            raise PersonaError(f"{path} has no Jinja instruction_template over messages")
        return cls(source=source)

    @cached_property
    def _compiled(self) -> Template:
        return _jinja.from_string(self.source)

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
        return self._compiled.render(
            messages=list(messages),
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
        )
