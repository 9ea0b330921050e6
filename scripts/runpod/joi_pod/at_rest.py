"""Step 1b: Joi's memories encrypted at rest, with the passphrase from ``JOI_PASSPHRASE``.

With ``JOI_PASSPHRASE`` (a Runpod secret) set, Joi's data folder on the volume is encrypted
on the first start that finds it plain, by Joi's own CLI (``joi_coach.app.cli encrypt``);
every start then hands the webui the passphrase as ``JOI_PASSPHRASE_FILE``: a root-only file
in memory (``/dev/shm``), never on the volume, and never in the webui's environment or on any
command line or log line. ``JOI_NEW_PASSPHRASE`` beside it changes the passphrase
(``change-passphrase``) before the webui starts. Without a passphrase an encrypted folder
stays locked: the webui starts, and Joi waits for the passphrase in its tab.

Encrypting runs after the volume is held, so no webui has a store open.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .config import (
    KEY_FILE,
    PASSPHRASE_MIN_LENGTH,
    PASSPHRASE_VARIABLES,
    PodConfig,
    PodError,
    VolumePaths,
    say,
)

CLI_MODULE = "joi_coach.app.cli"  # run from the webui's extensions folder, as docs/runpod.md shows


@dataclass
class AtRest:
    """What this start does about encryption, and the file the webui unlocks Joi with."""

    data_dir: Path
    encrypted: bool  # the folder is encrypted (after this start's step)
    passphrase_file: Path | None = None  # the webui's JOI_PASSPHRASE_FILE, if any
    commands: list[list[str]] = field(default_factory=list)  # Joi's CLI, as run (no secret in them)


def is_encrypted(data_dir: Path) -> bool:
    """As ``joi_coach.memory.encryption.is_encrypted``: the folder holds its key file."""
    return (data_dir / KEY_FILE).is_file()


def check_passphrase(name: str, value: str) -> None:
    if len(value) < PASSPHRASE_MIN_LENGTH:
        raise PodError(f"{name} is too short: use at least {PASSPHRASE_MIN_LENGTH} characters")


def given_passphrase(cfg: PodConfig) -> tuple[str, str]:
    """The passphrase given to the container and its source's name; ("", "") if none."""
    if cfg.passphrase:
        return cfg.passphrase, "JOI_PASSPHRASE"
    if cfg.passphrase_file:
        try:
            lines = Path(cfg.passphrase_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise PodError(
                f"cannot read JOI_PASSPHRASE_FILE {cfg.passphrase_file} ({type(exc).__name__})"
            ) from None
        if not lines or not lines[0]:
            raise PodError(
                f"JOI_PASSPHRASE_FILE {cfg.passphrase_file} is empty (the passphrase is its first line)"
            )
        return lines[0], "JOI_PASSPHRASE_FILE"
    return "", ""


def private_folder(cfg: PodConfig) -> Path:
    """A root-only folder in memory for the passphrase files of this container."""
    folder = cfg.runtime_dir / "joi-pod"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def write_private(path: Path, text: str) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, (text + "\n").encode("utf-8"))
    finally:
        os.close(handle)


def cli_command(cfg: PodConfig, *args: str) -> list[str]:
    return [cfg.python, "-m", CLI_MODULE, *args]


def run_cli(cfg: PodConfig, command: list[str], secrets: tuple[str, ...]) -> int:
    """Run Joi's CLI from the webui's extensions folder; its output goes to the start's log,
    with any secret blanked (it prints none; this is a second guard)."""
    env = {key: value for key, value in os.environ.items() if key not in PASSPHRASE_VARIABLES}
    result = subprocess.run(
        command,
        cwd=cfg.textgen_dir / "extensions",
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    for line in result.stdout.splitlines():
        for secret in secrets:
            line = line.replace(secret, "<passphrase>")
        if line.strip():
            say("  " + line.strip())
    return result.returncode


def prepare_at_rest(cfg: PodConfig, paths: VolumePaths, dry_run: bool) -> AtRest:
    """Encrypt Joi's data folder if a passphrase is given and it is still plain; change the
    passphrase if a new one is given; say what the webui will find."""
    data_dir = paths.joi_data
    state = AtRest(data_dir, is_encrypted(data_dir))
    passphrase, source = given_passphrase(cfg)
    if not passphrase:
        if cfg.new_passphrase:
            raise PodError(
                "JOI_NEW_PASSPHRASE changes the passphrase: set the current one as JOI_PASSPHRASE too"
            )
        if state.encrypted:
            say(f"Joi is locked: its memories in {data_dir} are encrypted and no passphrase is set.")
            say("  The chat works without Joi until you unlock it: type the passphrase in the Joi Coach tab")
            say("  ('Unlock Joi's memories'), or set the JOI_PASSPHRASE secret and restart the pod.")
        else:
            say("Joi's memories are not encrypted at rest; set the JOI_PASSPHRASE secret to encrypt them.")
        return state
    check_passphrase(source, passphrase)
    if cfg.new_passphrase:
        check_passphrase("JOI_NEW_PASSPHRASE", cfg.new_passphrase)
        if cfg.new_passphrase == passphrase:
            raise PodError("JOI_NEW_PASSPHRASE is the same as the current passphrase")
        if not state.encrypted:
            raise PodError(
                f"JOI_NEW_PASSPHRASE changes a passphrase, but {data_dir} is not encrypted yet: "
                "set JOI_PASSPHRASE alone to encrypt it"
            )
    folder = cfg.runtime_dir / "joi-pod"
    # The person's own file (a Docker secret) is used as it is; a secret from the environment
    # goes into a root-only file in memory.
    handed = Path(cfg.passphrase_file) if source == "JOI_PASSPHRASE_FILE" else folder / "passphrase"
    secrets = tuple(value for value in (passphrase, cfg.new_passphrase) if value)
    if not state.encrypted:
        step = "encrypt Joi's memories"
        command = cli_command(
            cfg, "encrypt", "--data-dir", str(data_dir), "--passphrase-file", str(handed), "--yes"
        )
    elif cfg.new_passphrase:
        step = "change the passphrase of Joi's memories"
        command = cli_command(
            cfg,
            "change-passphrase",
            "--data-dir",
            str(data_dir),
            "--passphrase-file",
            str(handed),
            "--new-passphrase-file",
            str(folder / "new-passphrase"),
        )
    else:
        step, command = "", []
    if dry_run:
        if command:
            state.commands.append(command)
            say(f"Would {step}: " + shlex.join(command))
        else:
            say(f"Joi's memories in {data_dir} are encrypted; the webui would unlock them with {source}.")
        return state

    private_folder(cfg)
    if handed.parent == folder:
        write_private(handed, passphrase)
    if not state.encrypted:
        state.commands.append(command)
        say(f"Encrypting Joi's memories in {data_dir} with the passphrase in {source} (this start only).")
        code = run_cli(cfg, command, secrets)
        if code != 0 or not is_encrypted(data_dir):
            raise PodError(
                f"encrypting {data_dir} failed (exit {code}; see above), so nothing was started. "
                "Fix what it says, or remove JOI_PASSPHRASE to start unencrypted"
            )
        say(f"Joi's memories are encrypted at rest now. Keep the passphrase in {source} safe: without it")
        say("  they cannot be recovered by anyone.")
        state.encrypted = True
    elif cfg.new_passphrase:
        state.commands.append(command)
        new_file = folder / "new-passphrase"
        write_private(new_file, cfg.new_passphrase)
        say(f"Changing the passphrase of Joi's memories in {data_dir} to JOI_NEW_PASSPHRASE.")
        try:
            code = run_cli(cfg, command, secrets)
        finally:
            new_file.unlink(missing_ok=True)
        if code == 0:
            say("Changed. Now set JOI_PASSPHRASE to the new passphrase and remove JOI_NEW_PASSPHRASE.")
        else:
            say("The passphrase was not changed (see above). If an earlier start changed it, the new one")
            say("  already opens Joi: set JOI_PASSPHRASE to it and remove JOI_NEW_PASSPHRASE.")
        handed = folder / "passphrase"  # the webui unlocks with the new one
        write_private(handed, cfg.new_passphrase)
    else:
        say(f"Joi's memories in {data_dir} are encrypted; the webui unlocks them at start with {source}.")
    state.passphrase_file = handed
    return state
