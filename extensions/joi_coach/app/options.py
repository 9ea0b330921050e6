"""What every ``joi-coach`` command shares: the configuration error, environment defaults,
the data folder and passphrase options, and unlocking an encrypted data folder."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import overload

log = logging.getLogger("joi_coach")
Options = argparse.ArgumentParser | argparse._ArgumentGroup  # where an option can be added


class ConfigError(SystemExit):
    """A configuration the app refuses to start with; the message says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(f"joi-coach: {message}")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "joi-coach"


@overload
def env(name: str) -> str | None: ...
@overload
def env(name: str, default: str) -> str: ...
def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value else default


def add_data_dir(p: Options, help: str = "the data folder [JOI_DATA_DIR]") -> None:
    p.add_argument(
        "--data-dir", type=Path, default=Path(env("JOI_DATA_DIR", str(default_data_dir()))), help=help
    )


def add_passphrase_file(p: Options, help: str) -> None:
    """``--passphrase-file`` (default ``JOI_PASSPHRASE_FILE``); ``help`` says what it unlocks."""
    p.add_argument(
        "--passphrase-file",
        type=Path,
        default=Path(env("JOI_PASSPHRASE_FILE", "")) if env("JOI_PASSPHRASE_FILE") else None,
        help=f"{help}, first line of the file; or JOI_PASSPHRASE; or typed [JOI_PASSPHRASE_FILE]",
    )


def _read_passphrase_file(path: Path, flag: str) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {flag} {path}: {type(exc).__name__}") from exc
    if not lines or not lines[0]:
        raise ConfigError(f"{flag} {path} is empty: the passphrase is its first line")
    return lines[0]


def interactive() -> bool:
    return sys.stdin.isatty()


def _prompt(text: str) -> str:
    import getpass

    return getpass.getpass(text)


def passphrase_from(
    file: Path | None, variable: str, flag: str, prompt: str, *, confirm: bool = False
) -> str:
    """The passphrase from ``file``, else the environment variable ``variable`` (taken out of the
    environment so no child process inherits it), else typed at a terminal."""
    if file is not None:
        return _read_passphrase_file(file, flag)
    value = os.environ.pop(variable, "")
    if value:
        return value
    if not interactive():
        raise ConfigError(f"the data folder is encrypted: give {flag} FILE or set {variable}")
    first = _prompt(prompt)
    if confirm and _prompt("Type it again: ") != first:
        raise ConfigError("the two passphrases differ; nothing was changed")
    return first


def unlock_data_dir(args: argparse.Namespace) -> bool:
    """Unlock an encrypted data folder before Joi opens anything in it; True if encrypted.

    A wrong passphrase, a missing one or missing packages stop the start with a clear message.
    """
    from ..memory import encryption

    if not encryption.is_encrypted(args.data_dir):
        if args.passphrase_file is not None or os.environ.pop("JOI_PASSPHRASE", ""):
            log.warning(
                "a passphrase was given, but %s is not encrypted; 'joi-coach encrypt' encrypts it",
                args.data_dir,
            )
        return False
    passphrase = passphrase_from(
        args.passphrase_file, "JOI_PASSPHRASE", "--passphrase-file", f"Passphrase for {args.data_dir}: "
    )
    try:
        encryption.unlock(args.data_dir, passphrase)
    except encryption.WrongPassphrase as exc:
        raise ConfigError(f"{exc} ({args.data_dir}); nothing was opened") from None
    except encryption.EncryptionError as exc:
        raise ConfigError(str(exc)) from None
    log.info("data folder unlocked (encrypted at rest)")
    return True
