"""``joi-coach``: start Joi in the browser, on the embedded CPU model or any OpenAI-compatible server.

``joi-coach encrypt`` encrypts the data folder at rest; ``joi-coach change-passphrase`` changes
its passphrase; an encrypted folder is unlocked at start (``--passphrase-file``,
``JOI_PASSPHRASE`` or a prompt). ``joi-coach backup PATH`` writes a backup of one profile
(safe while Joi runs); ``joi-coach restore PATH`` checks a backup, then puts it in place of
the profile's memories (stop Joi first).

Every flag can also come from an environment variable (shown in ``--help``), which is how a
container or a Runpod template configures it.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from ..llm.base import LLMBackend
from pathlib import Path

log = logging.getLogger("joi_coach")
SHARE_USER = "joi"
MIN_PASSWORD = 8


class ConfigError(SystemExit):
    """A configuration the app refuses to start with; the message says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(f"joi-coach: {message}")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "joi-coach"


@overload
def _env(name: str) -> str | None: ...
@overload
def _env(name: str, default: str) -> str: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value else default


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="joi-coach",
        description="Joi, a private self-improvement coach that remembers. Serves a chat and a "
        "memory tab in your browser. Nothing leaves this machine unless you use --share or --api-base.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    net = p.add_argument_group("serving")
    net.add_argument(
        "--host", default=_env("JOI_HOST", "127.0.0.1"), help="interface to listen on [JOI_HOST]"
    )
    net.add_argument("--port", type=int, default=int(_env("JOI_PORT", "7860")), help="port [JOI_PORT]")
    net.add_argument(
        "--share",
        action="store_true",
        default=_env("JOI_SHARE", "") in ("1", "true", "yes"),
        help="also publish a temporary public Gradio link; needs --auth (or gets a generated "
        "password, printed once) [JOI_SHARE=1]",
    )
    net.add_argument(
        "--auth",
        action="append",
        default=None,
        metavar="USER:PASSWORD",
        help="require sign-in; repeat for several people, each with their own memories "
        "[JOI_AUTH='alice:pw1,bob:pw2']",
    )
    net.add_argument(
        "--auth-file",
        default=_env("JOI_AUTH_FILE"),
        help="file with one USER:PASSWORD per line (# comments) [JOI_AUTH_FILE]",
    )
    llm = p.add_argument_group("language model (default: the embedded Qwen2.5-Coder-1.5B on the CPU)")
    llm.add_argument("--model", default=_env("JOI_MODEL"), help="a GGUF file to run in-process [JOI_MODEL]")
    llm.add_argument(
        "--n-ctx", type=int, default=int(_env("JOI_N_CTX", "4096")), help="context length [JOI_N_CTX]"
    )
    llm.add_argument(
        "--threads", type=int, default=None, help="CPU threads for the embedded model (default: all)"
    )
    llm.add_argument(
        "--reply-tokens",
        type=int,
        default=int(_env("JOI_REPLY_TOKENS", "350")),
        help="most tokens in one spoken reply [JOI_REPLY_TOKENS]",
    )
    llm.add_argument(
        "--api-base",
        default=_env("JOI_API_BASE"),
        help="use an OpenAI-compatible server instead, e.g. a text-generation-webui pod: "
        "https://POD-5000.proxy.runpod.net/v1 [JOI_API_BASE]",
    )
    llm.add_argument("--api-key", default=_env("JOI_API_KEY", ""), help="its API key [JOI_API_KEY]")
    llm.add_argument("--api-model", default=_env("JOI_API_MODEL", ""), help="its model name [JOI_API_MODEL]")
    mem = p.add_argument_group("memory")
    mem.add_argument(
        "--data-dir",
        type=Path,
        default=Path(_env("JOI_DATA_DIR", str(default_data_dir()))),
        help="where each person's memories live [JOI_DATA_DIR]",
    )
    mem.add_argument(
        "--embedding-model",
        default=_env("JOI_EMBEDDING_MODEL"),
        help="sentence-transformers model name or local path (default: the packaged all-MiniLM-L6-v2) "
        "[JOI_EMBEDDING_MODEL]",
    )
    care = p.add_argument_group("crisis safety")
    care.add_argument(
        "--country",
        default=_env("JOI_COUNTRY", ""),
        help="ISO country code whose crisis lines Joi shows by default, e.g. GB (each person can "
        "choose in the Safety tab; default: an international list) [JOI_COUNTRY]",
    )
    care.add_argument(
        "--crisis-lines",
        type=Path,
        default=Path(_env("JOI_CRISIS_LINES", "")) if _env("JOI_CRISIS_LINES") else None,
        help="a YAML file of crisis lines that adds to or replaces the shipped countries "
        "(format: joi_coach/safety/crisis_lines.yaml) [JOI_CRISIS_LINES]",
    )
    p.add_argument(
        "--user-name",
        default=_env("JOI_USER_NAME", "User"),
        help="how Joi addresses you when nobody signs in [JOI_USER_NAME]",
    )
    mem.add_argument(
        "--passphrase-file",
        type=Path,
        default=Path(_env("JOI_PASSPHRASE_FILE", "")) if _env("JOI_PASSPHRASE_FILE") else None,
        help="unlock an encrypted data folder with the passphrase in this file (its first line); "
        "or set JOI_PASSPHRASE; or type it when asked. Encrypt a folder with 'joi-coach encrypt' "
        "[JOI_PASSPHRASE_FILE]",
    )
    p.add_argument("--log-level", default=_env("JOI_LOG_LEVEL", "INFO"), help="logging level [JOI_LOG_LEVEL]")
    p.add_argument(
        "--debug-prompts",
        action="store_true",
        default=_env("JOI_DEBUG_PROMPTS", "") not in ("", "0", "false", "no"),
        help="log every prompt sent to the model, memories and messages included (off by default: "
        "no text of what people say reaches the logs otherwise) [JOI_DEBUG_PROMPTS]",
    )
    return p


# -- encryption at rest ---------------------------------------------------------------------------
PASSPHRASE_COMMANDS = ("encrypt", "change-passphrase")


def _read_passphrase_file(path: Path, flag: str) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {flag} {path}: {type(exc).__name__}") from exc
    if not lines or not lines[0]:
        raise ConfigError(f"{flag} {path} is empty: the passphrase is its first line")
    return lines[0]


def _interactive() -> bool:
    return sys.stdin.isatty()


def _prompt(text: str) -> str:
    import getpass

    return getpass.getpass(text)


def passphrase_from(file: Path | None, env: str, flag: str, prompt: str, *, confirm: bool = False) -> str:
    """The passphrase from ``file``, else the environment variable ``env`` (taken out of the
    environment so no child process inherits it), else typed at a terminal."""
    if file is not None:
        return _read_passphrase_file(file, flag)
    value = os.environ.pop(env, "")
    if value:
        return value
    if not _interactive():
        raise ConfigError(f"the data folder is encrypted: give {flag} FILE or set {env}")
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


def build_passphrase_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="joi-coach",
        description="Encrypt a data folder at rest, or change its passphrase. Stop Joi first.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("command", choices=PASSPHRASE_COMMANDS)
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(_env("JOI_DATA_DIR", str(default_data_dir()))),
        help="the data folder [JOI_DATA_DIR]",
    )
    p.add_argument(
        "--passphrase-file",
        type=Path,
        default=Path(_env("JOI_PASSPHRASE_FILE", "")) if _env("JOI_PASSPHRASE_FILE") else None,
        help="the passphrase (encrypt) or the current one (change-passphrase), first line of the file; "
        "or JOI_PASSPHRASE; or typed [JOI_PASSPHRASE_FILE]",
    )
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
            if not args.yes and _interactive() and input("Type YES to go on: ").strip() != "YES":
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
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path(_env("JOI_DATA_DIR", str(default_data_dir()))),
        help="the data folder [JOI_DATA_DIR]",
    )
    p.add_argument(
        "--passphrase-file",
        type=Path,
        default=Path(_env("JOI_PASSPHRASE_FILE", "")) if _env("JOI_PASSPHRASE_FILE") else None,
        help="an encrypted data folder's passphrase (restore into a new folder: the backup's), first line "
        "of the file; or JOI_PASSPHRASE; or typed [JOI_PASSPHRASE_FILE]",
    )
    p.add_argument(
        "--embedding-model",
        default=_env("JOI_EMBEDDING_MODEL"),
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
        if not args.yes and _interactive() and input("Type YES to go on: ").strip() != "YES":
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


@dataclass(frozen=True)
class AuthPlan:
    credentials: list[tuple[str, str]]
    generated_password: str | None = None


def parse_credentials(entries: list[str], source: str) -> list[tuple[str, str]]:
    """``USER:PASSWORD`` entries; raises ConfigError naming the bad one (never the password)."""
    found: list[tuple[str, str]] = []
    for number, entry in enumerate(entries, 1):
        user, sep, password = entry.strip().partition(":")
        if not sep or not user.strip() or not password:
            raise ConfigError(f"{source} entry {number} must look like USER:PASSWORD")
        found.append((user.strip(), password))
    users = [u for u, _ in found]
    if len(set(users)) != len(users):
        raise ConfigError(f"{source} names a user twice")
    return found


def plan_auth(args: argparse.Namespace) -> AuthPlan:
    """Who may sign in. A share link is never left open: without auth it gets a fresh password."""
    credentials: list[tuple[str, str]] = []
    if args.auth:
        credentials += parse_credentials(args.auth, "--auth")
    elif _env("JOI_AUTH"):
        credentials += parse_credentials(_env("JOI_AUTH", "").split(","), "JOI_AUTH")
    if args.auth_file:
        try:
            lines = Path(args.auth_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read --auth-file: {exc}") from exc
        entries = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        credentials += parse_credentials(entries, "--auth-file")
    if len({u for u, _ in credentials}) != len(credentials):
        raise ConfigError("a user appears in both --auth/JOI_AUTH and --auth-file")
    weak = [u for u, p in credentials if len(p) < MIN_PASSWORD]
    if weak and args.share:
        raise ConfigError(f"with --share every password needs {MIN_PASSWORD}+ characters (user {weak[0]})")
    for user in weak:
        log.warning("the password of %s is shorter than %d characters", user, MIN_PASSWORD)
    if args.share and not credentials:
        password = secrets.token_urlsafe(12)
        return AuthPlan([(SHARE_USER, password)], generated_password=password)
    return AuthPlan(credentials)


def build_coach(args: argparse.Namespace):
    """Load the models and open the data folder (the slow part of starting)."""
    from dataclasses import replace

    from ..coach import Coach
    from ..config import CoachSettings
    from ..memory.embeddings import DEFAULT_EMBEDDING_MODEL, Embedder

    llm: LLMBackend
    if args.api_base:
        from ..llm.openai_compat import OpenAICompatibleLLM

        llm = OpenAICompatibleLLM(args.api_base, model=args.api_model, api_key=args.api_key)
    else:
        from ..llm.embedded import EmbeddedLLM

        llm = EmbeddedLLM(args.model, n_ctx=args.n_ctx, n_threads=args.threads)
    embedder = Embedder(args.embedding_model or DEFAULT_EMBEDDING_MODEL)
    defaults = CoachSettings()
    settings = replace(
        defaults,
        reply=replace(defaults.reply, max_tokens=args.reply_tokens),
        safety=replace(defaults.safety, country=args.country),
    )
    return Coach(llm, embedder, args.data_dir, settings=settings, crisis_lines=crisis_lines(args))


def check_data_dir(folder: Path) -> None:
    """The data folder exists (or can be made) and Joi can write in it; ConfigError if not."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".joi-write-check-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"Joi cannot write its memories in the data folder {folder}: {exc.strerror or exc}. "
            "Choose another with --data-dir (JOI_DATA_DIR) or give this user write access."
        ) from None


def crisis_lines(args: argparse.Namespace):
    """The crisis lines: the shipped list, with ``--crisis-lines`` laid over it; ConfigError if unusable."""
    from ..safety.resources import CrisisDirectory, ResourcesError

    try:
        return CrisisDirectory.load(args.crisis_lines)
    except ResourcesError as exc:
        raise ConfigError(f"--crisis-lines: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in PASSPHRASE_COMMANDS:
        return passphrase_command(argv)
    if argv and argv[0] in BACKUP_COMMANDS:
        return backup_command(argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own health checks
    if args.debug_prompts:
        from ..llm.prompt_log import show_prompts

        show_prompts(True)
        log.warning("--debug-prompts: every prompt, with what people said, goes to this log")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # no telemetry, ever
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.api_base and args.model:
        raise ConfigError("use either --model (in-process) or --api-base (a server), not both")
    if not 16 <= args.reply_tokens <= 4096:
        raise ConfigError("--reply-tokens must be between 16 and 4096")
    auth = plan_auth(args)
    args.country = args.country.strip().upper()
    if args.country and not (args.country.isascii() and args.country.isalpha() and len(args.country) <= 4):
        raise ConfigError("--country must be an ISO country code such as GB or US")
    known = crisis_lines(args).countries  # a bad --crisis-lines file stops here, before the models load
    if args.country and args.country not in known:
        log.warning("--country %s has no crisis lines here; the international list is shown", args.country)
    check_data_dir(args.data_dir)
    unlock_data_dir(args)  # before the models load: a wrong passphrase stops here

    print("Starting Joi: loading the models…", flush=True)
    coach = build_coach(args)
    from .standalone import StandaloneApp

    app = StandaloneApp(coach, user_name=args.user_name)
    app.blocks.queue(default_concurrency_limit=4)
    _, local_url, share_url = app.blocks.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        auth=auth.credentials or None,
        auth_message="Sign in to talk with Joi. Each person sees only their own memories.",
        prevent_thread_lock=True,
        inbrowser=False,
        show_error=True,
        max_file_size="64mb",
        **app.launch_kwargs(),
    )
    if auth.generated_password:
        print(
            f"Share link protected: sign in as '{SHARE_USER}' with password {auth.generated_password} "
            "(shown only this once).",
            flush=True,
        )
    print(f"Joi is ready at {local_url}" + (f" and {share_url}" if share_url else ""), flush=True)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        app.blocks.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        print("Joi is closing: saving memories…", flush=True)
        app.close()
        coach.close()
        app.blocks.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
