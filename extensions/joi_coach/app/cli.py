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
from pathlib import Path
from typing import TYPE_CHECKING

from .data_commands import BACKUP_COMMANDS, PASSPHRASE_COMMANDS, backup_command, passphrase_command
from .options import ConfigError, add_data_dir, add_passphrase_file, env, unlock_data_dir

if TYPE_CHECKING:
    from ..llm.base import LLMBackend

log = logging.getLogger("joi_coach")
SHARE_USER = "joi"
MIN_PASSWORD = 8


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="joi-coach",
        description="Joi, a private self-improvement coach that remembers. Serves a chat and a "
        "memory tab in your browser. Nothing leaves this machine unless you use --share or --api-base.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    net = p.add_argument_group("serving")
    net.add_argument("--host", default=env("JOI_HOST", "127.0.0.1"), help="interface to listen on [JOI_HOST]")
    net.add_argument("--port", type=int, default=int(env("JOI_PORT", "7860")), help="port [JOI_PORT]")
    net.add_argument(
        "--share",
        action="store_true",
        default=env("JOI_SHARE", "") in ("1", "true", "yes"),
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
        default=env("JOI_AUTH_FILE"),
        help="file with one USER:PASSWORD per line (# comments) [JOI_AUTH_FILE]",
    )
    llm = p.add_argument_group("language model (default: the embedded Qwen2.5-Coder-1.5B on the CPU)")
    llm.add_argument("--model", default=env("JOI_MODEL"), help="a GGUF file to run in-process [JOI_MODEL]")
    llm.add_argument(
        "--n-ctx", type=int, default=int(env("JOI_N_CTX", "4096")), help="context length [JOI_N_CTX]"
    )
    llm.add_argument(
        "--threads", type=int, default=None, help="CPU threads for the embedded model (default: all)"
    )
    llm.add_argument(
        "--reply-tokens",
        type=int,
        default=int(env("JOI_REPLY_TOKENS", "350")),
        help="most tokens in one spoken reply [JOI_REPLY_TOKENS]",
    )
    llm.add_argument(
        "--api-base",
        default=env("JOI_API_BASE"),
        help="use an OpenAI-compatible server instead, e.g. a text-generation-webui pod: "
        "https://POD-5000.proxy.runpod.net/v1 [JOI_API_BASE]",
    )
    llm.add_argument("--api-key", default=env("JOI_API_KEY", ""), help="its API key [JOI_API_KEY]")
    llm.add_argument("--api-model", default=env("JOI_API_MODEL", ""), help="its model name [JOI_API_MODEL]")
    llm.add_argument(
        "--api-template",
        default=env("JOI_API_TEMPLATE", ""),
        help="the instruction template of the server's model (a name in instruction-templates/, e.g. "
        "Joi-ChatML for Qwen, or a webui template's YAML path): Joi then sends raw prompts to "
        "/completions and replies in its steps; without it, one chat pass [JOI_API_TEMPLATE]",
    )
    mem = p.add_argument_group("memory")
    add_data_dir(mem, "where each person's memories live [JOI_DATA_DIR]")
    mem.add_argument(
        "--embedding-model",
        default=env("JOI_EMBEDDING_MODEL"),
        help="sentence-transformers model name or local path (default: the packaged all-MiniLM-L6-v2) "
        "[JOI_EMBEDDING_MODEL]",
    )
    p.add_argument(
        "--clock-file",
        type=Path,
        default=None,
        help=argparse.SUPPRESS,  # for tests: a file whose number (seconds) is added to the clock
    )
    care = p.add_argument_group("crisis safety")
    care.add_argument(
        "--country",
        default=env("JOI_COUNTRY", ""),
        help="ISO country code whose crisis lines Joi shows by default, e.g. GB (each person can "
        "choose in the Safety tab; default: an international list) [JOI_COUNTRY]",
    )
    care.add_argument(
        "--crisis-lines",
        type=Path,
        default=Path(env("JOI_CRISIS_LINES", "")) if env("JOI_CRISIS_LINES") else None,
        help="a YAML file of crisis lines that adds to or replaces the shipped countries "
        "(format: joi_coach/safety/crisis_lines.yaml) [JOI_CRISIS_LINES]",
    )
    p.add_argument(
        "--user-name",
        default=env("JOI_USER_NAME", "User"),
        help="how Joi addresses you when nobody signs in [JOI_USER_NAME]",
    )
    add_passphrase_file(mem, "unlock an encrypted data folder (encrypt one with 'joi-coach encrypt')")
    p.add_argument("--log-level", default=env("JOI_LOG_LEVEL", "INFO"), help="logging level [JOI_LOG_LEVEL]")
    p.add_argument(
        "--debug-prompts",
        action="store_true",
        default=env("JOI_DEBUG_PROMPTS", "") not in ("", "0", "false", "no"),
        help="log every prompt sent to the model, memories and messages included (off by default: "
        "no text of what people say reaches the logs otherwise) [JOI_DEBUG_PROMPTS]",
    )
    return p


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
    elif env("JOI_AUTH"):
        credentials += parse_credentials(env("JOI_AUTH", "").split(","), "JOI_AUTH")
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
        from ..llm.chat_template import InstructionTemplate
        from ..llm.openai_compat import OpenAICompatibleLLM

        template = InstructionTemplate.load(args.api_template) if args.api_template else None
        llm = OpenAICompatibleLLM(
            args.api_base, model=args.api_model, api_key=args.api_key, template=template
        )
        log.info("Joi replies through %s %s", args.api_base, llm.mode)
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
    clock = shifted_clock(args.clock_file) if args.clock_file else time.time
    return Coach(
        llm, embedder, args.data_dir, settings=settings, crisis_lines=crisis_lines(args), clock=clock
    )


def shifted_clock(path: Path):
    """A clock running ahead by the seconds written in ``path`` (read at every call; 0 if unreadable).
    End-to-end tests move Joi's days forward this way without restarting the app."""

    def now() -> float:
        try:
            return time.time() + float(path.read_text(encoding="ascii").strip() or 0)
        except (OSError, ValueError):
            return time.time()

    return now


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
    if args.api_template and not args.api_base:
        raise ConfigError(
            "--api-template is the template of an --api-base server's model; give --api-base too"
        )
    if args.api_template:
        from ..assets import PersonaError
        from ..llm.chat_template import InstructionTemplate

        try:
            InstructionTemplate.load(args.api_template)
        except (PersonaError, OSError, ValueError) as exc:
            raise ConfigError(f"--api-template: {exc}") from exc
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
    coach.warm_up_in_background()  # while the page opens: the first message does not wait for it

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
