"""Where Joi's YAML assets (characters, instruction templates) are found, and how they are read.

The same files are installed into text-generation-webui, so host and engine agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml


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


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PersonaError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise PersonaError(f"{path} is not a YAML mapping")
    return data
