"""Profiles: one person, one folder, one memory bank. Nothing crosses profiles."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from pathlib import Path

from .memory.bank import MemoryBank
from .memory.embeddings import Embedder
from .memory.retrieval import RetrievalSettings

MAX_PROFILE_NAME = 128


class ProfileError(ValueError):
    """A profile name that cannot be used."""


def profile_folder_name(profile: str) -> str:
    """A filesystem-safe, collision-free folder name: readable slug plus a hash of the name."""
    if not isinstance(profile, str) or not profile.strip():
        raise ProfileError("profile name is empty")
    if len(profile) > MAX_PROFILE_NAME:
        raise ProfileError(f"profile name is longer than {MAX_PROFILE_NAME} characters")
    normalised = unicodedata.normalize("NFC", profile.strip())
    slug = re.sub(r"[^a-z0-9]+", "-", normalised.lower()).strip("-")[:32] or "profile"
    digest = hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}"


class ProfileRegistry:
    """Opens each profile's memory bank once and hands out a per-profile turn lock."""

    def __init__(self, data_dir: Path, embedder: Embedder, settings: RetrievalSettings | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self._banks: dict[str, MemoryBank] = {}
        self._turn_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def folder(self, profile: str) -> Path:
        return self.data_dir / "profiles" / profile_folder_name(profile)

    def bank(self, profile: str) -> MemoryBank:
        key = profile_folder_name(profile)
        with self._lock:
            bank = self._banks.get(key)
            if bank is None:
                bank = MemoryBank(self.folder(profile), self.embedder, self.settings)
                self._banks[key] = bank
                self._turn_locks[key] = threading.Lock()
            return bank

    def turn_lock(self, profile: str) -> threading.Lock:
        """Serialises one profile's turns, so messages are answered in order."""
        self.bank(profile)
        return self._turn_locks[profile_folder_name(profile)]

    def flush(self) -> None:
        with self._lock:
            for bank in self._banks.values():
                bank.flush()

    def close(self) -> None:
        with self._lock:
            for bank in self._banks.values():
                bank.close()
            self._banks.clear()
