"""Step 2: the web UI's sign-in and the API key: from the environment, the volume, or new."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .config import API_PORT, CREDENTIAL, SECRET_MIN_LENGTH, UI_PORT, PodConfig, PodError, VolumePaths, say


@dataclass
class Access:
    """The sign-in file for ``--gradio-auth-path`` and the API key, as this start uses them."""

    auth_file: Path
    api_key: str
    generated: dict[str, str] = field(default_factory=dict)  # what this start generated, by name


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
    generated: dict[str, str] = {}
    auth_file = paths.secrets / "gradio-auth.txt"
    if cfg.password:
        check_secret("JOI_PASSWORD", cfg.password)
        write_secret(auth_file, f"{cfg.username}:{cfg.password}\n")
    elif not saved_sign_in(auth_file, cfg.username):
        generated["password"] = secrets.token_urlsafe(18)
        write_secret(auth_file, f"{cfg.username}:{generated['password']}\n")

    key_file = paths.secrets / "api-key.txt"
    if cfg.api_key:
        check_secret("JOI_API_KEY", cfg.api_key)
        write_secret(key_file, cfg.api_key + "\n")
    elif not key_file.exists() or not key_file.read_text(encoding="utf-8").strip():
        generated["API key"] = f"joi-{secrets.token_urlsafe(32)}"
        write_secret(key_file, generated["API key"] + "\n")
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
        say("=" * 64)
        say("Generated on this first start; no later start prints the password again:")
        if "password" in access.generated:
            say(f"  web UI sign-in   user: {cfg.username}   password: {access.generated['password']}")
        if "API key" in access.generated:
            say(f"  API key          {access.generated['API key']}")
        say(f"Kept on the volume in {access.auth_file.parent} (readable by root only).")
        say("=" * 64)
    else:
        say(
            f"Web UI sign-in for user {cfg.username!r} and the API key: as kept in {access.auth_file.parent}."
        )
    if cfg.pod_id:
        say(f"Web UI: https://{cfg.pod_id}-{UI_PORT}.proxy.runpod.net")
        say(f"API:    https://{cfg.pod_id}-{API_PORT}.proxy.runpod.net/v1  (Authorization: Bearer <key>)")
