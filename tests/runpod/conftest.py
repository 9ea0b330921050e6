"""The pod's entrypoint run for real, against a stand-in of the webui image's file system.

The image's /app is a temporary folder with the webui's default ``user_data`` files, Joi's
extension in ``extensions/joi_coach`` (a link to this repository's, where the Dockerfile copies
it; Joi's CLI runs from there) and stand-ins of its ``download-model.py`` and ``server.py``
(which cannot run here: no Hugging Face, no GPU); the seed folder is this repository, laid out
as the Dockerfile copies it. The container's memory-only folder (/dev/shm) is ``runtime``.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "scripts" / "runpod" / "entrypoint.sh"
STANDIN = Path(__file__).resolve().parent / "image_standin"
MANIFEST = Path(__file__).resolve().parent / "host_flags.json"
HOST_DEFAULTS = {  # a few of the webui's own user_data files (commit 1dcde41d)
    "CMD_FLAGS.txt": "# Only used by the one-click installer.\n",
    "characters/Assistant.yaml": "name: AI\ngreeting: How can I help you today?\n",
    "presets/Top-P.yaml": "top_p: 0.95\n",
    "extensions/place-your-extensions-here.txt": "",
    "models/place-your-models-here.txt": "",
    "logs/chat/Joi/20260501-10-00-00.json": "{}",  # not defaults: never copied to a volume
    "joi_coach/profiles/someone/memories.sqlite3": "",
}
DEFAULT_MODEL_FOLDER = "turboderp_gemma-3-27b-it-exl3_4.0bpw"


@dataclass
class Pod:
    """One container: its image (``textgen``), its volume (``workspace``) and its starts."""

    textgen: Path
    workspace: Path
    seed: Path
    calls_file: Path
    runtime: Path

    @property
    def home(self) -> Path:
        return self.workspace / "joi-coach"

    @property
    def user_data(self) -> Path:
        return self.home / "user_data"

    def start(self, *args: str, **env: str) -> subprocess.CompletedProcess:
        """Run the entrypoint as the container would, with these environment variables."""
        base = {key: value for key, value in os.environ.items() if not key.startswith(("JOI_", "RUNPOD_"))}
        base.pop("EXTRA_LAUNCH_ARGS", None)
        base.update(
            {
                "JOI_WORKSPACE": str(self.workspace),
                "JOI_TEXTGEN_DIR": str(self.textgen),
                "JOI_SEED_DIR": str(self.seed),
                "JOI_PYTHON": sys.executable,
                "STANDIN_CALLS": str(self.calls_file),
                "JOI_RUNTIME_DIR": str(self.runtime),
            }
        )
        base.update(env)
        return subprocess.run(
            ["bash", str(ENTRYPOINT), *args],
            capture_output=True,
            text=True,
            env=base,
            timeout=120,
            check=False,
        )

    def plan(self, **env: str) -> tuple[dict, str]:
        """A dry run's plan (JSON) and its log."""
        result = self.start("--dry-run", "--json", **env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout), result.stderr

    def calls(self, program: str) -> list[dict]:
        if not self.calls_file.exists():
            return []
        records = [json.loads(line) for line in self.calls_file.read_text().splitlines()]
        return [record for record in records if record["program"] == program]

    def sign_in(self) -> str:
        return (self.home / "secrets" / "gradio-auth.txt").read_text().strip()

    def api_key(self) -> str:
        return (self.home / "secrets" / "api-key.txt").read_text().strip()


@pytest.fixture()
def pod(tmp_path: Path) -> Pod:
    textgen = tmp_path / "app"
    for name in ("download-model.py", "server.py"):
        (textgen / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(STANDIN / name, textgen / name)
    for relative, text in HOST_DEFAULTS.items():
        (textgen / "user_data" / relative).parent.mkdir(parents=True, exist_ok=True)
        (textgen / "user_data" / relative).write_text(text)
    (textgen / "extensions").mkdir()
    (textgen / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    runtime = tmp_path / "shm"
    runtime.mkdir()
    return Pod(
        textgen=textgen, workspace=workspace, seed=REPO, calls_file=tmp_path / "calls.jsonl", runtime=runtime
    )


def import_pod_module(name: str):
    """A module of scripts/runpod (the entrypoint's package, the flag tools), imported from there."""
    sys.path.insert(0, str(REPO / "scripts" / "runpod"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


@pytest.fixture(scope="session")
def pod_launch():
    """The entrypoint's ``joi_pod.launch`` module."""
    return import_pod_module("joi_pod.launch")


@pytest.fixture(scope="session")
def host_parser():
    """The webui's argument parser, rebuilt from the manifest recorded from its real one."""
    host_flags = import_pod_module("host_flags")
    return host_flags.parser_from_manifest(json.loads(MANIFEST.read_text())["flags"])
