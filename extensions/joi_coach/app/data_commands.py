"""``joi-coach encrypt`` / ``change-passphrase`` (encryption at rest) and ``joi-coach backup`` /
``restore`` (one profile to a single file and back)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from .options import (
    ConfigError,
    add_data_dir,
    add_passphrase_file,
    env,
    interactive,
    passphrase_from,
    unlock_data_dir,
)

# -- encryption at rest -------------------------------------------------------------------
PASSPHRASE_COMMANDS = ("encrypt", "change-passphrase")


def build_passphrase_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="joi-coach",
        description="Encrypt a data folder at rest, or change its passphrase. Stop Joi first.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("command", choices=PASSPHRASE_COMMANDS)
    add_data_dir(p)
    add_passphrase_file(p, "the passphrase (encrypt) or the current one (change-passphrase)")
    p.add_argument(
        "--new-passphrase-file",
        type=Path,
        default=None,
        help="change-passphrase: the new passphrase, first line of the file; or JOI_NEW_PASSPHRASE; or typed",
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help="do not ask to confirm that a lost passphrase means everything is lost (it is printed anyway)",
    )
    return p


def passphrase_command(argv: list[str]) -> int:
    """``joi-coach encrypt`` and ``joi-coach change-passphrase``."""
    from ..memory import encryption

    args = build_passphrase_parser().parse_args(argv)
    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
    try:
        encryption.sqlcipher()
        if args.command == "encrypt":
            if encryption.is_encrypted(args.data_dir):
                raise ConfigError(f"{args.data_dir} is already encrypted; use 'joi-coach change-passphrase'")
            print(f"Encrypting {args.data_dir} at rest.\n\n  WARNING: {encryption.LOST_PASSPHRASE_WARNING}\n")
            if not args.yes and interactive() and input("Type YES to go on: ").strip() != "YES":
                print("Nothing was changed.")
                return 1
            passphrase = passphrase_from(
                args.passphrase_file, "JOI_PASSPHRASE", "--passphrase-file", "New passphrase: ", confirm=True
            )
            encryption.check_passphrase(passphrase)
            encryption.set_passphrase(args.data_dir, passphrase, progress=lambda line: print(" ", line))
            print(f"Done: {args.data_dir} is encrypted. Start Joi with --passphrase-file or JOI_PASSPHRASE.")
            return 0
        if not encryption.is_encrypted(args.data_dir):
            raise ConfigError(f"{args.data_dir} is not encrypted; 'joi-coach encrypt' sets a passphrase")
        old = passphrase_from(
            args.passphrase_file, "JOI_PASSPHRASE", "--passphrase-file", "Current passphrase: "
        )
        encryption.unlock(args.data_dir, old)  # checks it first (and finishes an interrupted encryption)
        print(f"\n  WARNING: {encryption.LOST_PASSPHRASE_WARNING}\n")
        new = passphrase_from(
            args.new_passphrase_file,
            "JOI_NEW_PASSPHRASE",
            "--new-passphrase-file",
            "New passphrase: ",
            confirm=True,
        )
        encryption.change_passphrase(args.data_dir, old, new)
        print("Done: the old passphrase no longer opens this folder.")
        return 0
    except encryption.WrongPassphrase as exc:
        raise ConfigError(f"{exc} ({args.data_dir}); nothing was changed") from None
    except encryption.EncryptionError as exc:
        raise ConfigError(str(exc)) from None


# -- backups -------------------------------------------------------------------------------------
BACKUP_COMMANDS = ("backup", "restore")
DEFAULT_PROFILE = "local"  # the standalone app's profile when nobody signs in


def build_backup_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="joi-coach",
        description="Back up one profile's memories and settings to a single file (safe while Joi runs), "
        "or restore a backup (checked completely before anything is replaced; stop Joi first).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("command", choices=BACKUP_COMMANDS)
    p.add_argument(
        "path",
        type=Path,
        help="backup: the file to write (or a folder to write joi-backup-<time>.zip into); restore: the backup",
    )
    p.add_argument(
        "--profile",
        default=None,
        help=f"whose memories: the signed-in user's name, or 'NAME & CHARACTER' in the webui "
        f"(backup: default '{DEFAULT_PROFILE}'; restore: default the profile named in the backup)",
    )
    add_data_dir(p)
    add_passphrase_file(p, "an encrypted data folder's passphrase (restore into a new folder: the backup's)")
    p.add_argument(
        "--embedding-model",
        default=env("JOI_EMBEDDING_MODEL"),
        help="restore: the model that rebuilds the vector cache (default: the packaged one) "
        "[JOI_EMBEDDING_MODEL]",
    )
    p.add_argument("--yes", action="store_true", help="restore: do not ask before replacing the profile")
    return p


def _profile_folder(data_dir: Path, profile: str) -> Path:
    from ..profiles import ProfileError, profile_folder_name

    try:
        return data_dir / "profiles" / profile_folder_name(profile)
    except ProfileError as exc:
        raise ConfigError(f"--profile: {exc}") from None


def backup_command(argv: list[str]) -> int:
    """``joi-coach backup PATH`` and ``joi-coach restore PATH``."""
    from ..memory import backup as backups
    from ..memory import encryption

    args = build_backup_parser().parse_args(argv)
    logging.basicConfig(level="WARNING", format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "backup":
            profile = args.profile or DEFAULT_PROFILE
            folder = _profile_folder(args.data_dir, profile)
            if encryption.is_encrypted(args.data_dir):
                typed = passphrase_from(
                    args.passphrase_file,
                    "JOI_PASSPHRASE",
                    "--passphrase-file",
                    f"Passphrase for {args.data_dir}: ",
                )
                # Joi may be running: unlock only, finish nothing
                encryption.unlock(args.data_dir, typed, finish=False)
            destination = args.path / backups.default_name() if args.path.is_dir() else args.path
            manifest = backups.backup(folder, destination, profile)
            print(f"Backed up {manifest.memories} memories of {profile!r} to {destination}.")
            if manifest.encrypted:
                print("The backup is encrypted: it opens only with this data folder's passphrase.")
            else:
                print("The backup is NOT encrypted: anyone who has the file can read it. Keep it safe.")
            return 0
        manifest = backups.read_manifest(args.path)
        profile = args.profile or manifest.profile
        folder = _profile_folder(args.data_dir, profile)
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(manifest.created_at))
        print(
            f"Backup of {manifest.profile!r} from {when}: {manifest.memories} memories"
            + (" (encrypted)" if manifest.encrypted else "")
            + f". It will replace the memories and settings of {profile!r} in {args.data_dir}."
        )
        if not args.yes and interactive() and input("Type YES to go on: ").strip() != "YES":
            print("Nothing was changed.")
            return 1
        passphrase: str | None = None
        if encryption.is_encrypted(args.data_dir):
            unlock_data_dir(args)
        elif manifest.encrypted:
            passphrase = passphrase_from(
                args.passphrase_file, "JOI_PASSPHRASE", "--passphrase-file", "The backup's passphrase: "
            )
        from ..memory.embeddings import DEFAULT_EMBEDDING_MODEL, Embedder

        embedder = Embedder(args.embedding_model or DEFAULT_EMBEDDING_MODEL)
        report = backups.restore(
            args.path,
            args.data_dir,
            profile,
            folder,
            embedder=embedder,
            passphrase=passphrase,
            progress=lambda line: print(" ", line),
        )
        print(f"Restored {report.memories} memories into {profile!r}.")
        return 0
    except backups.BackupError as exc:
        raise ConfigError(str(exc)) from None
    except encryption.WrongPassphrase as exc:
        raise ConfigError(f"{exc} ({args.data_dir}); nothing was changed") from None
    except encryption.EncryptionError as exc:
        raise ConfigError(str(exc)) from None
