"""A person's own recall settings: validated, persisted, and never fatal when the file is bad."""

from __future__ import annotations

import json

import pytest
from joi_coach.config import CoachSettings
from joi_coach.memory.models import Stream
from joi_coach.profile_settings import SETTINGS_FILE, ProfileSettings


@pytest.fixture
def settings(tmp_path):
    return ProfileSettings(CoachSettings(), lambda profile: tmp_path / profile)


def test_changes_persist_and_only_the_changes_are_written(settings, tmp_path):
    updated = settings.update("ann", {"k": {"dialogue": 2}, "reflection": {"threshold": 33}})
    assert updated.k[Stream.DIALOGUE] == 2 and updated.k[Stream.REFLECTION] == 3
    assert updated.reflection.threshold == 33
    on_disk = json.loads((tmp_path / "ann" / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert on_disk == {"k": {"dialogue": 2}, "reflection": {"threshold": 33}}
    reread = ProfileSettings(CoachSettings(), lambda profile: tmp_path / profile).get("ann")
    assert reread == updated


def test_profiles_do_not_share_settings(settings):
    settings.update("ann", {"retrieval": {"decay_per_hour": 0.9}})
    assert settings.get("bob") == CoachSettings()
    assert settings.get("ann").retrieval.decay_per_hour == 0.9


@pytest.mark.parametrize(
    "changes",
    [
        {"k": {"dialogue": -1}},
        {"k": {"nonsense": 2}},
        {"retrieval": {"decay_per_hour": 1.5}},
        {"retrieval": {"weights": {"relevance": -1}}},
        {"unknown": 1},
    ],
)
def test_invalid_changes_raise_and_write_nothing(settings, tmp_path, changes):
    with pytest.raises((ValueError, TypeError)):
        settings.update("ann", changes)
    assert not (tmp_path / "ann" / SETTINGS_FILE).exists()
    assert settings.get("ann") == CoachSettings()


def test_a_corrupt_file_means_defaults_and_a_clear_problem_and_is_left_alone(settings, tmp_path):
    path = tmp_path / "ann" / SETTINGS_FILE
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert settings.get("ann") == CoachSettings()
    assert "could not be used" in settings.problem("ann")
    assert path.read_text(encoding="utf-8") == "{not json"


def test_reset_returns_to_the_defaults(settings, tmp_path):
    settings.update("ann", {"k": {"dialogue": 1}})
    assert settings.reset("ann") == CoachSettings()
    assert not (tmp_path / "ann" / SETTINGS_FILE).exists()
