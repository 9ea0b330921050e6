"""Per-profile settings: the person's own changes, on top of the app's defaults.

Only what the person changed is kept, in ``settings.json`` in their profile folder
(written atomically; sealed when the data folder is encrypted). A file that cannot be used
is left untouched and the defaults apply; ``problem(profile)`` says why, so the memory tab
can show it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import CoachSettings
from .memory.encryption import read_private, write_private
from .memory.files import shred

log = logging.getLogger(__name__)
SETTINGS_FILE = "settings.json"


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it, nested dicts merged key by key."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class ProfileSettings:
    """Reads, validates and persists each profile's overrides of the coach's settings."""

    def __init__(self, defaults: CoachSettings, folder_of: Callable[[str], Path]) -> None:
        self.defaults = defaults
        self._folder_of = folder_of
        self._cache: dict[str, tuple[dict[str, Any], CoachSettings]] = {}
        self._problems: dict[str, str] = {}
        self._lock = threading.Lock()

    def _path(self, profile: str) -> Path:
        return self._folder_of(profile) / SETTINGS_FILE

    def _load(self, profile: str) -> tuple[dict[str, Any], CoachSettings]:
        path = self._path(profile)
        try:
            overrides = json.loads(read_private(path).decode("utf-8"))
            if not isinstance(overrides, dict):
                raise ValueError("the file does not hold a JSON object")
            return overrides, self._apply(overrides)
        except FileNotFoundError:
            return {}, self.defaults
        except (OSError, ValueError, TypeError) as exc:
            self._problems[profile] = f"{path.name} could not be used ({exc}); the defaults apply"
            log.warning("profile settings unusable, defaults apply: %s", type(exc).__name__)
            return {}, self.defaults

    def _apply(self, overrides: dict[str, Any]) -> CoachSettings:
        return CoachSettings.from_dict(deep_merge(self.defaults.to_dict(), overrides))

    def get(self, profile: str) -> CoachSettings:
        with self._lock:
            if profile not in self._cache:
                self._cache[profile] = self._load(profile)
            return self._cache[profile][1]

    def overrides(self, profile: str) -> dict[str, Any]:
        self.get(profile)
        with self._lock:
            return json.loads(json.dumps(self._cache[profile][0]))

    def problem(self, profile: str) -> str | None:
        return self._problems.get(profile)

    def update(self, profile: str, changes: dict[str, Any]) -> CoachSettings:
        """Validate and persist ``changes`` (a partial settings dict); raises ValueError."""
        self.get(profile)
        with self._lock:
            overrides = deep_merge(self._cache[profile][0], changes)
            settings = self._apply(overrides)  # raises ValueError before anything is written
            self._write(profile, overrides)
            self._cache[profile] = (overrides, settings)
            self._problems.pop(profile, None)
            return settings

    def reset(self, profile: str) -> CoachSettings:
        with self._lock:
            shred(self._path(profile))  # overwritten, then removed: own contacts are personal
            self._cache[profile] = ({}, self.defaults)
            self._problems.pop(profile, None)
            return self.defaults

    def _write(self, profile: str, overrides: dict[str, Any]) -> None:
        """Atomically, flushed to the disk; sealed (AES-GCM) when the data folder is encrypted."""
        text = json.dumps(overrides, indent=2, sort_keys=True)
        write_private(self._path(profile), text.encode("utf-8"))
