"""The ways a reply reaches a person, for coach_eval: one interface over each path.

* :class:`CoachPath` — the standalone app's turn (``Coach.reply``) on the embedded model or an
  OpenAI-compatible server (``--api-base``; with ``--api-template`` in steps).
* :class:`WebuiPath` — text-generation-webui with Joi enabled: the extension's own hooks and
  ``custom_generate_reply``, driven through the test stand-in of the host's ``modules``
  (``tests/webui/host_standin``: the host's hook order, generation functions, stop handling
  and API split), with the host's llama.cpp loader stood in by the same GGUF in this process.
  The reply the host keeps is what is scored: its thoughts and dialogue as the host's API
  splits them, the care card as it sits in that reply.
* :func:`serve_embedded` — the embedded GGUF behind ``llama_cpp.server`` (llama-cpp-python's
  own OpenAI-compatible server) on a free local port, for ``--api-base`` on the same model.
"""

from __future__ import annotations

import copy
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from joi_coach.coach import Coach, Turn, collect
from joi_coach.cognition.voices import parse_reply
from joi_coach.config import CoachSettings
from joi_coach.llm.model_assembly import ensure_default_model

REPO = Path(__file__).resolve().parents[1]


class CoachPath:
    """A turn as the standalone app runs it."""

    def __init__(self, coach: Coach, name: str) -> None:
        self.coach, self.name = coach, name

    def profile(self, index: int, user: str) -> str:
        return f"eval-{index}"

    def turn(self, profile: str, user: str, say: str, conversation: str, now: float) -> Turn:
        _, _, done = collect(
            self.coach.reply(profile, say, user_name=user, conversation=conversation, now=now)
        )
        assert done is not None
        return done

    def close(self) -> None:
        self.coach.close()


class WebuiPath:
    """A turn as text-generation-webui runs it with Joi enabled (see the module docstring).

    Each scenario talks to its own copy of the Joi character (``Joi-<n>``: the same card) so
    that scenarios with the same person's name keep apart, as different people would.
    """

    name = "webui"

    def __init__(self, data_dir: Path, settings: CoachSettings) -> None:
        sys.path.insert(0, str(REPO / "tests" / "webui" / "host_standin"))
        sys.path.insert(0, str(REPO / "tests"))
        from joi_coach.llm.embedded import EmbeddedLLM
        from modules import extensions, shared
        from webui.conftest import StandInModel, StandInTokenizer

        self.settings = settings
        self.llm = EmbeddedLLM()  # the GGUF, read by the host's loader stood in here
        user_data = Path(data_dir) / "user_data"
        (user_data / "extensions").mkdir(parents=True)
        (user_data / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
        shared.user_data_dir = user_data
        shared.args.extensions = ["joi_coach"]
        shared.settings = {"joi_coach-always_on": True, "joi_coach-background": settings.background}
        shared.model, shared.model_name = StandInModel(self.llm._llama), "embedded"
        shared.tokenizer = StandInTokenizer(self.llm._llama)
        extensions.setup_called.clear()
        extensions.load_extensions()
        self.joi = sys.modules["user_ext_joi_coach"].joi
        self.coach: Coach = self.joi.coach  # Joi's defaults; the sampling settings are the host's (below)
        self._histories: dict[tuple[str, str], dict[str, Any]] = {}

    def profile(self, index: int, user: str) -> str:
        return f"{user} & Joi-{index}"

    def _state(self, profile: str, user: str) -> dict[str, Any]:
        from webui.conftest import chat_state

        state = chat_state("Joi", user, "chat")
        reply = self.settings.reply
        state.update(
            character_menu=profile.split(" & ", 1)[1],
            temperature=reply.temperature,
            top_p=reply.top_p,
            repetition_penalty=reply.repeat_penalty,
            seed=-1 if reply.seed is None else reply.seed,
            max_new_tokens=reply.max_tokens,
        )
        return state

    def turn(self, profile: str, user: str, say: str, conversation: str, now: float) -> Turn:
        from joi_coach.webui.turns import split_card
        from modules import chat

        self.joi.turns.clock = lambda: now
        state = self._state(profile, user)
        state["unique_id"] = conversation
        key = (profile, conversation)
        state["history"] = self._histories.get(key) or {"internal": [], "visible": [], "metadata": {}}
        started, first = time.perf_counter(), None
        history = state["history"]
        for history in chat.generate_chat_reply(say, copy.deepcopy(state)):
            if first is None and history["internal"] and history["internal"][-1][1].strip():
                first = time.perf_counter()
        ended = time.perf_counter()
        self._histories[key] = history
        kept = history["internal"][-1][1] if history["internal"] else ""
        without_card, card = split_card(kept)
        parsed = parse_reply(without_card)
        signal = self.coach.check_crisis(say)
        timings = {"total": (ended - started) * 1000}
        if first is not None:
            timings["first_token"] = (first - started) * 1000
        return Turn(-1, parsed, kept, {}, timings, crisis=signal, care=card)

    def close(self) -> None:
        from modules import shared

        self.joi.close()
        shared.model, shared.model_name, shared.tokenizer = None, "None", None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_embedded(n_ctx: int = 4096) -> Iterator[str]:
    """The embedded GGUF behind ``python -m llama_cpp.server``; yields its ``/v1`` URL."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        yield from _serve(port, n_ctx, log)


def _serve(port: int, n_ctx: int, log: Any) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(ensure_default_model(progress=False)),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(n_ctx),
            "--chat_format",
            "chatml",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(
                        "llama_cpp.server did not start: " + log.read()[-2000:].decode()
                    ) from None
                time.sleep(1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def held_settings(seed: int, temperature: float, background: bool = True) -> CoachSettings:
    """The same sampling settings on every path."""
    defaults = CoachSettings()
    return replace(
        defaults,
        background=background,
        reply=replace(defaults.reply, seed=seed, temperature=temperature),
    )
