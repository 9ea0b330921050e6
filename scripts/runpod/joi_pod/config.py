"""What the container's environment asks for, and where the volume keeps each thing."""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MODEL = "turboderp/gemma-3-27b-it-exl3:4.0bpw"
DEFAULT_USERNAME = "joi"
UI_PORT = 7860
API_PORT = 5000
EXTENSION = "joi_coach"
# Joi's files the pod places into the webui's user_data (source under the seed folder).
JOI_FILES = ("characters/Joi.yaml", "characters/Joi.png", "instruction-templates/Joi-ChatML.yaml")
# The webui's own default user_data files, copied onto the volume where missing. Nothing else
# of the image's user_data is: not extensions (Joi runs from the image), models or logs.
HOST_DEFAULTS = (
    "characters",
    "grammars",
    "instruction-templates",
    "presets",
    "tools",
    "training",
    "users",
    "CMD_FLAGS.txt",
)
SECRET_MIN_LENGTH = 8
# Joi's encryption at rest (extensions/joi_coach/memory/encryption.py): the file that marks an
# encrypted data folder, and the shortest passphrase it takes.
KEY_FILE = "joi-coach-key.json"
PASSPHRASE_MIN_LENGTH = 8
# Secrets that the webui and the downloader never inherit (the webui gets a file instead).
PASSPHRASE_VARIABLES = ("JOI_PASSPHRASE", "JOI_NEW_PASSPHRASE", "JOI_PASSPHRASE_FILE")
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
BRANCH = re.compile(r"^[A-Za-z0-9._-]+$")  # what the webui's downloader accepts
CREDENTIAL = re.compile(r"^[^\s:,]+$")  # the webui splits credentials on ',' and ':'
TRUE = {"1", "true", "yes", "on"}


class PodError(Exception):
    """A setting or a state of the volume that stops the start, with what to do about it."""


def say(message: str = "") -> None:
    """One line of the start's log (stderr; stdout carries only --json's plan)."""
    print(f"[joi-pod] {message}" if message else "[joi-pod]", file=sys.stderr, flush=True)


@dataclass
class PodConfig:
    """What the container's environment asks for."""

    workspace: Path
    textgen_dir: Path
    seed_dir: Path
    python: str
    username: str
    password: str
    api_key: str
    share: bool
    model: str
    model_file: str
    loader: str
    ctx_size: int
    cache_type: str
    extra_extensions: list[str]
    extra_args: list[str]
    pod_id: str
    # Encryption at rest: the passphrase (a Runpod secret), a new one to change it to, or a
    # file holding it (compose: a Docker secret); never shown, never on the volume.
    passphrase: str = field(default="", repr=False)
    new_passphrase: str = field(default="", repr=False)
    passphrase_file: str = ""
    runtime_dir: Path = Path("/dev/shm")  # memory only: where the webui's passphrase file goes

    @classmethod
    def from_env(cls, env: dict[str, str]) -> PodConfig:
        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        ctx = get("JOI_CTX_SIZE", "16384")
        if not ctx.isdigit():
            raise PodError(f"JOI_CTX_SIZE must be a whole number of tokens, got {ctx!r}")
        try:
            extra_args = shlex.split(get("EXTRA_LAUNCH_ARGS"))
        except ValueError as exc:
            raise PodError(f"EXTRA_LAUNCH_ARGS is not valid shell words: {exc}") from exc
        return cls(
            workspace=Path(get("JOI_WORKSPACE", "/workspace")),
            textgen_dir=Path(get("JOI_TEXTGEN_DIR", "/app")),
            seed_dir=Path(get("JOI_SEED_DIR", str(Path(__file__).resolve().parents[3]))),  # /opt/joi
            python=get("JOI_PYTHON", sys.executable),
            username=get("JOI_USERNAME", DEFAULT_USERNAME),
            password=env.get("JOI_PASSWORD", ""),
            api_key=env.get("JOI_API_KEY", ""),
            share=get("JOI_SHARE").lower() in TRUE,
            model=get("JOI_MODEL", DEFAULT_MODEL),
            model_file=get("JOI_MODEL_FILE"),
            loader=get("JOI_LOADER"),
            ctx_size=int(ctx),
            cache_type=get("JOI_CACHE_TYPE"),
            extra_extensions=get("JOI_EXTRA_EXTENSIONS").split(),
            extra_args=extra_args,
            pod_id=get("RUNPOD_POD_ID"),
            passphrase=one_line("JOI_PASSPHRASE", env.get("JOI_PASSPHRASE", "")),
            new_passphrase=one_line("JOI_NEW_PASSPHRASE", env.get("JOI_NEW_PASSPHRASE", "")),
            passphrase_file=get("JOI_PASSPHRASE_FILE"),
            runtime_dir=Path(get("JOI_RUNTIME_DIR") or default_runtime_dir()),
        )


def one_line(name: str, value: str) -> str:
    """A passphrase from the environment, without a trailing line break; one line only (the
    webui's extension and Joi's CLI read the first line of a passphrase file)."""
    value = value.rstrip("\r\n")
    if "\n" in value or "\r" in value:
        raise PodError(f"{name} has more than one line; a passphrase is one line")
    return value


def default_runtime_dir() -> str:
    """/dev/shm (memory, gone when the container stops) where it can be written, else the
    container's own temporary folder: never the volume."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else tempfile.gettempdir()


@dataclass
class VolumePaths:
    """Where each kind of the person's data lives on the volume."""

    home: Path
    user_data: Path
    models: Path
    secrets: Path
    cache: Path
    download_marks: Path
    shipped_record: Path
    joi_data: Path  # Joi's data folder: where the extension keeps everyone's memories

    @classmethod
    def under(cls, workspace: Path) -> VolumePaths:
        home = workspace / "joi-coach"
        user_data = home / "user_data"
        return cls(
            home=home,
            user_data=user_data,
            models=user_data / "models",
            secrets=home / "secrets",
            cache=home / "cache",
            download_marks=home / "downloads",
            shipped_record=home / "joi-files.json",
            joi_data=user_data / EXTENSION,  # the extension's default: user_data/joi_coach
        )


def launch_env(paths: VolumePaths, passphrase_file: Path | None = None) -> dict[str, str]:
    """The environment of the webui and its downloader: caches on the volume, no telemetry.

    No passphrase is inherited: the webui gets ``JOI_PASSPHRASE_FILE`` (a root-only file in
    memory) when Joi's memories are to be unlocked at its start, so the processes it starts
    (llama.cpp's server) never see the passphrase in their environment.
    """
    env = {key: value for key, value in os.environ.items() if key not in PASSPHRASE_VARIABLES}
    if passphrase_file is not None:
        env["JOI_PASSPHRASE_FILE"] = str(passphrase_file)
    env.update(
        {
            "HF_HOME": str(paths.cache / "huggingface"),  # anything fetched later stays on the volume
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "DO_NOT_TRACK": "1",
        }
    )
    return env
