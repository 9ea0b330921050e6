"""Joi's persona, read from the webui's character format.

``characters/Joi.yaml``: ``name``, ``greeting``, ``context`` (with ``{{user}}``/``{{char}}``).
The same file is installed into text-generation-webui, so host and engine agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from .assets import PersonaError, find_asset, read_yaml

DEFAULT_CHARACTER = "Joi"


@dataclass(frozen=True)
class Character:
    name: str
    greeting: str
    context: str

    @classmethod
    def load(cls, name_or_path: str = DEFAULT_CHARACTER) -> Character:
        path = find_asset("characters", name_or_path)
        data = read_yaml(path)
        missing = [key for key in ("name", "context") if not str(data.get(key) or "").strip()]
        if missing:
            raise PersonaError(f"{path} lacks {', '.join(missing)}")
        return cls(
            name=str(data["name"]), greeting=str(data.get("greeting", "")), context=str(data["context"])
        )

    def fill(self, text: str, user_name: str) -> str:
        """Replace the webui's placeholders for the two speakers."""
        return text.replace("{{user}}", user_name).replace("{{char}}", self.name)
