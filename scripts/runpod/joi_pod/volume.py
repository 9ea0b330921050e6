"""Step 1: the volume: layout, the webui's defaults, Joi's files, first settings, the lock."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import time
from pathlib import Path

from .config import EXTENSION, HOST_DEFAULTS, JOI_FILES, PodConfig, PodError, VolumePaths, say


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare_volume(cfg: PodConfig, paths: VolumePaths, hold: bool) -> None:
    """Lay out the volume and fill in what is missing; never overwrite the person's files.

    With ``hold``, the volume is locked first, so a start refused because another webui runs
    on it writes nothing.
    """
    if not cfg.workspace.is_dir():
        raise PodError(
            f"{cfg.workspace} does not exist: attach a volume there (Runpod: 'Volume Mount Path' "
            "/workspace), or set JOI_WORKSPACE to a folder that persists"
        )
    paths.home.mkdir(exist_ok=True)
    if hold:
        hold_volume(paths)
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
