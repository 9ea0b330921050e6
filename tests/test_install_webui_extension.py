"""scripts/install-webui-extension.sh against a folder laid out like text-generation-webui.

Its Python is this test run's own environment, which already has Joi's requirements: pip
runs for real (satisfied, with the held versions as constraints) and must change nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "install-webui-extension.sh"
PLACED = [
    "extensions/joi_coach",
    "characters/Joi.yaml",
    "characters/Joi.png",
    "instruction-templates/Joi-ChatML.yaml",
]


@pytest.fixture()
def webui(tmp_path: Path) -> Path:
    root = tmp_path / "text-generation-webui"
    (root / "modules").mkdir(parents=True)
    (root / "server.py").write_text("# the webui's entry point\n")
    (root / "modules" / "extensions.py").write_text("# the webui's extension loader\n")
    (root / "user_data" / "characters").mkdir(parents=True)
    (root / "user_data" / "characters" / "Assistant.yaml").write_text("name: AI\n")
    return root


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def held_versions() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True
    )
    return out.stdout


def test_install_links_everything_holds_the_webuis_packages_and_is_idempotent(webui):
    before = held_versions()
    first = run("--python", sys.executable, str(webui))
    assert first.returncode == 0, first.stderr + first.stdout
    for place in PLACED:
        target = webui / "user_data" / place
        assert target.is_symlink() and target.resolve() == (REPO / place).resolve()
    assert "torch==" in first.stdout and "numpy==" in first.stdout  # held as constraints
    assert "The webui's packages are unchanged" in first.stdout
    again = run("--python", sys.executable, str(webui))
    assert again.returncode == 0 and again.stdout.count("already in place") == len(PLACED)
    assert held_versions() == before
    assert (webui / "user_data" / "characters" / "Assistant.yaml").exists()


def test_it_places_joi_in_the_user_data_the_webui_uses(webui, tmp_path):
    elsewhere = tmp_path / "data" / "user_data"
    given = run("--skip-requirements", "--user-data-dir", str(elsewhere), str(webui))
    assert given.returncode == 0, given.stderr + given.stdout
    assert all((elsewhere / place).is_symlink() for place in PLACED)
    assert not (webui / "user_data" / "extensions").exists()
    # A portable build keeps user_data beside the program folder, not inside it.
    portable = tmp_path / "portable"
    (portable / "user_data").mkdir(parents=True)
    app = portable / "text-generation-webui"
    (app / "modules").mkdir(parents=True)
    (app / "server.py").write_text("# the webui's entry point\n")
    (app / "modules" / "extensions.py").write_text("# the webui's extension loader\n")
    found = run("--skip-requirements", str(app))
    assert found.returncode == 0, found.stderr + found.stdout
    assert all((portable / "user_data" / place).is_symlink() for place in PLACED)
    assert not (app / "user_data").exists()


def test_a_requirement_that_would_move_a_held_package_fails_and_changes_nothing(webui, tmp_path):
    wants_old_numpy = tmp_path / "requirements.txt"
    wants_old_numpy.write_text("numpy<1.20\n")
    before = held_versions()
    result = run("--python", sys.executable, str(webui), env={"JOI_REQUIREMENTS_FILE": str(wants_old_numpy)})
    assert result.returncode != 0
    assert "without changing the webui's packages" in result.stderr
    assert held_versions() == before


def test_requirements_only_installs_with_the_held_versions_and_places_nothing(webui):
    """The pod image's way: Joi's files go elsewhere, the packages the careful way."""
    before = held_versions()
    result = run("--requirements-only", "--python", sys.executable, str(webui))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "torch==" in result.stdout and "The webui's packages are unchanged" in result.stdout
    assert not any((webui / "user_data" / place).exists() for place in PLACED)
    assert held_versions() == before
    clash = run("--requirements-only", "--uninstall", str(webui))
    assert clash.returncode != 0 and "goes with neither" in clash.stderr


def test_copy_mode_then_uninstall_removes_only_what_it_placed(webui):
    result = run("--copy", "--skip-requirements", str(webui))
    assert result.returncode == 0, result.stderr
    extension = webui / "user_data" / "extensions" / "joi_coach"
    assert extension.is_dir() and not extension.is_symlink() and (extension / "script.py").exists()
    memories = webui / "user_data" / "joi_coach" / "profiles"
    memories.mkdir(parents=True)  # a person's memories: never the installer's to delete
    removed = run("--uninstall", str(webui))
    assert removed.returncode == 0, removed.stderr
    assert not any((webui / "user_data" / place).exists() for place in PLACED)
    assert memories.is_dir() and (webui / "user_data" / "characters" / "Assistant.yaml").exists()


def test_it_refuses_to_overwrite_a_file_that_is_not_jois(webui):
    foreign = webui / "user_data" / "characters" / "Joi.yaml"
    foreign.write_text("name: Someone else's Joi\n")
    result = run("--skip-requirements", str(webui))
    assert result.returncode != 0 and "is not Joi's" in result.stderr
    assert foreign.read_text() == "name: Someone else's Joi\n"
    assert run("--uninstall", str(webui)).returncode == 0 and foreign.exists()


def test_it_refuses_a_folder_that_is_not_a_webui(tmp_path):
    result = run("--skip-requirements", str(tmp_path))
    assert result.returncode != 0 and "does not look like text-generation-webui" in result.stderr


def test_the_shell_scripts_pass_shellcheck():
    scripts = sorted(str(p) for p in (REPO / "scripts").rglob("*.sh"))
    assert any(name.endswith("runpod/entrypoint.sh") for name in scripts)
    result = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
