#!/usr/bin/env python3
"""Start text-generation-webui with Joi Coach inside a container (a Runpod pod, or any GPU box).

Run by ``entrypoint.sh`` on every start of the container. In order:

1. **Volume.** Everything the person keeps lives under ``$JOI_WORKSPACE/joi-coach`` (the pod's
   ``/workspace`` volume): the webui's ``user_data`` (models, chats, settings, characters) with
   Joi's memory stores in ``user_data/joi_coach``, the sign-in secrets, and the download cache.
   Missing host defaults are copied in; Joi's character and template are refreshed unless the
   person edited them.
2. **Access.** The web UI always asks for a user name and password (``--gradio-auth-path``), and
   the API always wants a key. Given as ``JOI_PASSWORD`` / ``JOI_API_KEY``, or generated on the
   first start, kept on the volume and printed once, on that start.
3. **Model.** ``JOI_MODEL`` (a Hugging Face repo id, ``repo:branch``, with ``JOI_MODEL_FILE`` for
   one GGUF file) is downloaded with the webui's own ``download-model.py`` unless a finished
   download is on the volume; then loaded with the loader that matches its format.
4. **Launch.** ``server.py`` with Joi's extension, the API, the Joi character (through the
   first-start ``settings.yaml``) and the flags above; ``EXTRA_LAUNCH_ARGS`` last.

``--dry-run`` prepares the volume (steps 1-2 are the same) but prints the download and launch
commands instead of running them; ``--json`` prints the plan as JSON (secrets redacted).
Standard library only (PyYAML when present), so it runs in the webui image's own Python.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
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
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
BRANCH = re.compile(r"^[A-Za-z0-9._-]+$")  # what the webui's downloader accepts
CREDENTIAL = re.compile(r"^[^\s:,]+$")  # the webui splits credentials on ',' and ':'
TRUE = {"1", "true", "yes", "on"}


class PodError(Exception):
    """A setting or a state of the volume that stops the start, with what to do about it."""


def say(message: str = "") -> None:
    """One line of the start's log (stderr; stdout carries only --json's plan)."""
    print(f"[joi-pod] {message}" if message else "[joi-pod]", file=sys.stderr, flush=True)


# -- configuration ------------------------------------------------------------------------------
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
        here = Path(__file__).resolve().parent
        return cls(
            workspace=Path(get("JOI_WORKSPACE", "/workspace")),
            textgen_dir=Path(get("JOI_TEXTGEN_DIR", "/app")),
            seed_dir=Path(get("JOI_SEED_DIR", str(here.parent.parent))),
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
        )


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
        )


# -- 1. the volume ------------------------------------------------------------------------------
def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare_volume(cfg: PodConfig, paths: VolumePaths) -> None:
    if not cfg.workspace.is_dir():
        raise PodError(
            f"{cfg.workspace} does not exist: attach a volume there (Runpod: 'Volume Mount Path' "
            "/workspace), or set JOI_WORKSPACE to a folder that persists"
        )
    for folder in (paths.user_data, paths.models, paths.cache, paths.download_marks):
        folder.mkdir(parents=True, exist_ok=True)
    paths.secrets.mkdir(mode=0o700, exist_ok=True)
    paths.secrets.chmod(0o700)
    copied = copy_missing_defaults(cfg.textgen_dir / "user_data", paths.user_data)
    if copied:
        say(f"Set up the webui's defaults on the volume ({copied} files).")
    place_joi_files(cfg.seed_dir, paths)
    write_first_settings(paths.user_data / "settings.yaml")
    shadow = paths.user_data / "extensions" / EXTENSION
    if shadow.exists():
        say(f"Note: {shadow} exists and is loaded instead of the image's Joi; remove it to use the image's.")


def copy_missing_defaults(source: Path, target: Path) -> int:
    """Copy the webui's default user_data files the volume lacks; never overwrite one."""
    if not source.is_dir():
        return 0
    copied = 0
    for item in sorted(source.rglob("*")):
        relative = item.relative_to(source)
        if relative.parts[0] not in HOST_DEFAULTS or not item.is_file():
            continue
        destination = target / relative
        if destination.exists():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item, destination)
        copied += 1
    return copied


def place_joi_files(seed_dir: Path, paths: VolumePaths) -> None:
    """Joi's character and template: installed, and updated with the image unless edited.

    The record keeps the hash of what was last placed. A file that still has that hash is
    the image's and follows the image; a file with another hash was edited by the person and
    is kept (like a package manager's config files).
    """
    record = read_json(paths.shipped_record)
    for relative in JOI_FILES:
        source = seed_dir / relative
        if not source.is_file():
            raise PodError(f"the image lacks {source}; rebuild it from the Joi Coach repository")
        destination = paths.user_data / relative
        shipped = sha256(source)
        if destination.exists():
            current = sha256(destination)
            if current == shipped:
                record[relative] = shipped
                continue
            if current != record.get(relative):
                say(f"Kept your edited {relative} (the image's version is {source}).")
                continue
            action = "Updated"
        else:
            action = "Installed"
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        record[relative] = shipped
        say(f"{action} {relative}.")
    write_json(paths.shipped_record, record)


def write_first_settings(settings: Path) -> None:
    """On the first start, a settings.yaml that opens the chat with Joi; later, the person's."""
    if settings.exists():
        return
    lines = [
        "# Written by Joi Coach's pod on its first start. Yours to change: the webui's",
        '# "Save settings" rewrites it, and the pod never touches it again.',
        "character: Joi",
        "mode: chat",
        "",
    ]
    settings.write_text("\n".join(lines), encoding="utf-8")
    say("Wrote settings.yaml: the chat opens with Joi.")


def read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise PodError(f"{path} is unreadable ({exc}); delete it and start again") from exc
    return value if isinstance(value, dict) else {}


def write_json(path: Path, value: dict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)


def hold_volume(paths: VolumePaths) -> None:
    """Lock the volume for this container's webui: two webuis on one store would clash.

    The lock's descriptor is inherited by the webui (the entrypoint execs into it), so it is
    held until the webui exits. A file system without locks gets a warning instead.
    """
    lock_file = paths.home / "in-use.lock"
    handle = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(handle, 200).decode("utf-8", "replace").strip() or "another container"
        os.close(handle)
        raise PodError(
            f"this volume is in use by {holder}: stop that pod or container first "
            "(two webuis writing one person's memories would clash)"
        ) from None
    except OSError as exc:
        os.close(handle)
        say(f"Note: this file system cannot lock {lock_file} ({exc.strerror}); run one pod per volume.")
        return
    os.set_inheritable(handle, True)
    os.ftruncate(handle, 0)
    os.write(handle, f"{socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())


# -- 2. access ----------------------------------------------------------------------------------
@dataclass
class Access:
    auth_file: Path
    api_key: str
    generated: list[str] = field(default_factory=list)  # which secrets this start generated


def write_secret(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def check_secret(name: str, value: str) -> None:
    if not CREDENTIAL.match(value):
        raise PodError(f"{name} may not contain spaces, ':' or ',' (the webui splits sign-ins on them)")
    if len(value) < SECRET_MIN_LENGTH:
        raise PodError(f"{name} is too short: use at least {SECRET_MIN_LENGTH} characters")


def prepare_access(cfg: PodConfig, paths: VolumePaths) -> Access:
    """The web UI's sign-in file and the API key: from the environment, the volume, or new."""
    if not CREDENTIAL.match(cfg.username):
        raise PodError("JOI_USERNAME may not be empty or contain spaces, ':' or ','")
    generated = []
    auth_file = paths.secrets / "gradio-auth.txt"
    if cfg.password:
        check_secret("JOI_PASSWORD", cfg.password)
        write_secret(auth_file, f"{cfg.username}:{cfg.password}\n")
    elif not saved_sign_in(auth_file, cfg.username):
        write_secret(auth_file, f"{cfg.username}:{secrets.token_urlsafe(18)}\n")
        generated.append("password")

    key_file = paths.secrets / "api-key.txt"
    if cfg.api_key:
        check_secret("JOI_API_KEY", cfg.api_key)
        write_secret(key_file, cfg.api_key + "\n")
    elif not key_file.exists() or not key_file.read_text(encoding="utf-8").strip():
        write_secret(key_file, f"joi-{secrets.token_urlsafe(32)}\n")
        generated.append("API key")
    return Access(auth_file, key_file.read_text(encoding="utf-8").strip(), generated)


def saved_sign_in(auth_file: Path, username: str) -> bool:
    """Is a sign-in for this user name already on the volume (from an earlier start)?"""
    if not auth_file.exists():
        return False
    lines = [line.strip() for line in auth_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return any(line.split(":", 1)[0] == username and len(line.split(":", 1)) == 2 for line in lines)


def announce_access(cfg: PodConfig, access: Access) -> None:
    """Print a newly generated secret once; later starts say where it is kept."""
    if access.generated:
        password = next(
            line.split(":", 1)[1]
            for line in access.auth_file.read_text(encoding="utf-8").splitlines()
            if line.split(":", 1)[0] == cfg.username
        )
        say("=" * 64)
        say("Generated on this first start; no later start prints the password again:")
        if "password" in access.generated:
            say(f"  web UI sign-in   user: {cfg.username}   password: {password}")
        if "API key" in access.generated:
            say(f"  API key          {access.api_key}")
        say(f"Kept on the volume in {access.auth_file.parent} (readable by root only).")
        say("=" * 64)
    else:
        say(
            f"Web UI sign-in for user {cfg.username!r} and the API key: as kept in {access.auth_file.parent}."
        )
    if cfg.pod_id:
        say(f"Web UI: https://{cfg.pod_id}-{UI_PORT}.proxy.runpod.net")
        say(f"API:    https://{cfg.pod_id}-{API_PORT}.proxy.runpod.net/v1  (Authorization: Bearer <key>)")


# -- 3. the model -------------------------------------------------------------------------------
@dataclass
class ModelPlan:
    name: str  # the name the webui loads it by (a folder or a .gguf file in models/)
    repo: str = ""
    branch: str = "main"
    file: str = ""
    downloaded: bool = True
    loader: str = ""

    @property
    def mark(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.name) + ".done"


def plan_model(cfg: PodConfig, paths: VolumePaths) -> ModelPlan | None:
    """Which model to load, and whether it must be downloaded first."""
    spec = cfg.model
    if spec.lower() in ("", "none"):
        return None
    if "/" not in spec:  # a model already in user_data/models
        if spec in (".", "..") or "\\" in spec or not (paths.models / spec).exists():
            raise PodError(
                f"JOI_MODEL={spec!r} is not in {paths.models}; give a Hugging Face repo id "
                "(org/name or org/name:branch) to download it, or 'none' to choose in the UI"
            )
        plan = ModelPlan(name=spec)
    else:
        repo, _, branch = spec.partition(":")
        branch = branch or "main"
        if not REPO_ID.match(repo):
            raise PodError(
                f"JOI_MODEL={spec!r}: expected a Hugging Face repo id like org/name or org/name:branch"
            )
        if not BRANCH.match(branch):
            raise PodError(f"JOI_MODEL={spec!r}: a branch may only have letters, digits, '.', '_' and '-'")
        file = cfg.model_file
        if file and ("/" in file or "\\" in file or file in (".", "..")):
            raise PodError(f"JOI_MODEL_FILE={file!r} must be one file name from the repo's top level")
        # The webui's downloader puts one GGUF file straight into models/, and a repository
        # into models/org_name[_branch] (its get_output_folder).
        folder = "_".join(repo.split("/")[-2:]) + ("" if branch == "main" else f"_{branch}")
        name = file or folder
        plan = ModelPlan(name=name, repo=repo, branch=branch, file=file)
        plan.downloaded = (paths.download_marks / plan.mark).exists() and (paths.models / name).exists()
    plan.loader = cfg.loader or infer_loader(paths.models / plan.name)
    return plan


def infer_loader(model: Path) -> str:
    """The webui loader for a model's format: GGUF -> llama.cpp, EXL3 -> ExLlamav3."""
    if model.suffix.lower() == ".gguf" or (model.is_dir() and any(model.glob("*.gguf"))):
        return "llama.cpp"
    config = model / "config.json"
    if config.is_file():
        try:
            method = (json.loads(config.read_text(encoding="utf-8")).get("quantization_config") or {}).get(
                "quant_method", ""
            )
        except (OSError, ValueError, AttributeError):
            method = ""
        if str(method).lower() == "exl3":
            return "ExLlamav3"
    if "exl3" in model.name.lower():
        return "ExLlamav3"
    return "Transformers"


def download_command(cfg: PodConfig, paths: VolumePaths, plan: ModelPlan) -> list[str]:
    command = [cfg.python, str(cfg.textgen_dir / "download-model.py"), plan.repo, "--branch", plan.branch]
    command += ["--model-dir", str(paths.models)]
    if plan.file:
        command += ["--specific-file", plan.file]
    return command


def download(cfg: PodConfig, paths: VolumePaths, plan: ModelPlan) -> bool:
    """Run the webui's downloader (it resumes a partial download); its progress goes to the log."""
    what = f"{plan.repo} ({plan.file or 'branch ' + plan.branch})"
    say(f"Downloading {what} into {paths.models}; this can take a while, progress follows.")
    command = download_command(cfg, paths, plan)
    result = subprocess.run(command, cwd=cfg.textgen_dir, env=launch_env(paths), check=False)
    if result.returncode != 0 or not (paths.models / plan.name).exists():
        say(f"ERROR: the download of {what} failed (exit {result.returncode}).")
        say("  Check JOI_MODEL / JOI_MODEL_FILE, the volume's free space, and HF_TOKEN for gated models.")
        say("  The webui starts without a model; restart the pod to resume the download.")
        return False
    write_json(
        paths.download_marks / plan.mark, {"repo": plan.repo, "branch": plan.branch, "file": plan.file}
    )
    plan.downloaded = True
    plan.loader = cfg.loader or infer_loader(paths.models / plan.name)
    say(f"Downloaded {plan.name}.")
    return True


# -- 4. the launch ------------------------------------------------------------------------------
def launch_flags(cfg: PodConfig, paths: VolumePaths, access: Access, plan: ModelPlan | None) -> list[str]:
    """The webui's command-line flags, in the host's own names (modules/shared.py).

    ``plan`` is the model to load at start, or None to start without one.
    """
    flags = ["--user-data-dir", str(paths.user_data)]
    flags += ["--listen", "--listen-port", str(UI_PORT)]
    flags += ["--gradio-auth-path", str(access.auth_file)]
    flags += ["--api", "--api-port", str(API_PORT), "--api-key", access.api_key]
    extensions = [EXTENSION, *[name for name in cfg.extra_extensions if name != EXTENSION]]
    flags += ["--extensions", *extensions]
    if cfg.share:
        flags.append("--share")
    if plan is not None:
        flags += ["--model", plan.name, "--loader", plan.loader]
        if cfg.ctx_size:
            flags += ["--ctx-size", str(cfg.ctx_size)]
        cache_type = cfg.cache_type or ("q8" if plan.loader.lower().startswith("exllamav3") else "")
        if cache_type:
            flags += ["--cache-type", cache_type]
    return flags + cfg.extra_args


def launch_command(cfg: PodConfig, flags: list[str]) -> list[str]:
    return [cfg.python, str(cfg.textgen_dir / "server.py"), *flags]


def launch_env(paths: VolumePaths) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HF_HOME": str(paths.cache / "huggingface"),  # anything fetched later stays on the volume
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "DO_NOT_TRACK": "1",
        }
    )
    return env


def redacted(command: list[str], access: Access) -> list[str]:
    return ["<api key>" if part == access.api_key else part for part in command]


def describe_image() -> str:
    parts = []
    for label in ("/variant.txt", "/version_tag.txt"):
        try:
            parts.append(Path(label).read_text(encoding="utf-8").strip())
        except OSError:
            continue
    return " ".join(part for part in parts if part)


# -- main ---------------------------------------------------------------------------------------
def run(cfg: PodConfig, dry_run: bool, as_json: bool) -> int:
    paths = VolumePaths.under(cfg.workspace)
    image = describe_image()
    say(f"Joi Coach pod starting{' on ' + image if image else ''}; volume: {paths.home}")
    prepare_volume(cfg, paths)
    if not dry_run:  # a dry run may look at the volume of a running pod
        hold_volume(paths)
    access = prepare_access(cfg, paths)
    announce_access(cfg, access)
    plan = plan_model(cfg, paths)
    download_cmd = None
    will_load = plan is not None and plan.downloaded
    if plan is None:
        say("No model configured (JOI_MODEL=none): load one in the webui's Model tab.")
    elif plan.downloaded:
        say(f"Model {plan.name} is on the volume.")
    else:
        download_cmd = download_command(cfg, paths, plan)
        if dry_run:
            say("Would download: " + shlex.join(download_cmd))
        will_load = dry_run or download(cfg, paths, plan)  # a dry run shows the launch after it
    if plan is not None and will_load:
        say(f"Loading {plan.name} with {plan.loader}.")
    if cfg.share:
        say("A Gradio share link will be printed below; it asks for the same sign-in.")
    command = launch_command(cfg, launch_flags(cfg, paths, access, plan if will_load else None))
    if dry_run:
        report = {
            "volume": {key: str(value) for key, value in asdict(paths).items()},
            "model": None if plan is None else asdict(plan),
            "download": download_cmd,
            "launch": redacted(command, access),
            "generated": access.generated,
        }
        if as_json:
            print(json.dumps(report, indent=2))
        else:
            say("Would launch: " + shlex.join(redacted(command, access)))
        return 0
    say("Launching: " + shlex.join(redacted(command, access)))
    os.chdir(cfg.textgen_dir)
    os.execvpe(command[0], command, launch_env(paths))
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="prepare the volume; print, not run, the commands"
    )
    parser.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    args = parser.parse_args(argv)
    try:
        return run(PodConfig.from_env(dict(os.environ)), args.dry_run, args.json)
    except PodError as exc:
        say(f"ERROR: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
