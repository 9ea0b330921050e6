"""``joi-coach``: start Joi in the browser, on the embedded CPU model or any OpenAI-compatible server.

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
    p.add_argument("--log-level", default=_env("JOI_LOG_LEVEL", "INFO"), help="logging level [JOI_LOG_LEVEL]")
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


def crisis_lines(args: argparse.Namespace):
    """The crisis lines: the shipped list, with ``--crisis-lines`` laid over it; ConfigError if unusable."""
    from ..safety.resources import CrisisDirectory, ResourcesError

    try:
        return CrisisDirectory.load(args.crisis_lines)
    except ResourcesError as exc:
        raise ConfigError(f"--crisis-lines: {exc}") from exc


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # gradio's own health checks
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
    args.data_dir.mkdir(parents=True, exist_ok=True)

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
