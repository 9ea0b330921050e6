"""The extension's one object: builds Joi's engine on the host's model and serves the hooks.

``script.py`` (what the host loads) only forwards to :class:`JoiExtension`. A hook never
breaks the host's generation: if Joi fails, it logs why (never the person's text) and
hands the host its input back unchanged.

``custom_generate_reply`` replaces the host's generation function for *every* generation
(the host calls the first extension's that has one), so it hands each one to the function
the host would have chosen without Joi (:func:`host_generate_function`) and passes the text
through untouched, except on Joi's own chat turns (see ``WebuiTurns.reply_plan``).

An encrypted data folder (``joi-coach encrypt``) is unlocked at setup from
``JOI_PASSPHRASE_FILE`` or ``JOI_PASSPHRASE``, as the standalone app reads them, else from the
tab (:meth:`JoiExtension.unlock`). Until then Joi is *locked*: no store is opened, and every
hook hands the host its input back untouched, as if Joi were not installed.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..coach import Coach
from ..llm.priority import PriorityLLM
from ..memory import encryption
from .host_generation import HostGeneration
from .steps import reply_in_steps
from .turns import TURN_KEY, ReplyPlan, WebuiOptions, WebuiTurns, stop_strings, with_card

log = logging.getLogger("joi_coach")
T = TypeVar("T")

# The host's ``params``: its own two keys, then Joi's options with their defaults (WebuiOptions).
DEFAULT_PARAMS: dict[str, Any] = {"display_name": "Joi Coach", "is_tab": True, **asdict(WebuiOptions())}
# The loaders whose generation is the host's ``generate_reply_custom`` (by class name);
# any other loaded model goes through ``generate_reply_HF`` (modules/text_generation.py).
HOST_CUSTOM_LOADERS = ("LlamaServer", "Exllamav3Model", "TensorRTLLMModel")
# Where the passphrase of an encrypted data folder comes from at setup (as ``joi-coach`` reads them).
PASSPHRASE_FILE_ENV, PASSPHRASE_ENV = "JOI_PASSPHRASE_FILE", "JOI_PASSPHRASE"
LOCKED_LOG = (
    "Joi Coach is locked: its memories in %s are encrypted. The chat works without Joi until "
    "they are unlocked in the Joi Coach tab (or start the webui with JOI_PASSPHRASE_FILE or JOI_PASSPHRASE)"
)
UNLOCKED = "Unlocked: Joi is back in the chat, with its memories."
WRONG_PASSPHRASE = (
    "That passphrase does not open Joi's memories. Nothing was opened, and Joi stays out of the "
    "chat until the right passphrase is typed."
)


def _first(*args: Any) -> Any:
    return args[0]


def _text_pair(*args: Any) -> tuple[Any, Any]:
    return args[0], args[1]


def passthrough_on_error(
    unchanged: Callable[..., Any] = _first,
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorate a hook: on any error (or before setup), log it and give the host its input back."""

    def decorate(hook: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(hook)
        def guarded(self: JoiExtension, *args: Any, **kwargs: Any) -> T:
            if self.turns is None:
                return unchanged(*args)
            if self.locked:
                self._tell_locked()
                return unchanged(*args)
            try:
                return hook(self, *args, **kwargs)
            except Exception as exc:
                debug = log.isEnabledFor(logging.DEBUG)
                log.error("Joi Coach skipped %s: %s", hook.__name__, type(exc).__name__, exc_info=debug)
                return unchanged(*args)

        return guarded

    return decorate


def _no_model(*args: Any, **kwargs: Any) -> Iterator[str]:
    yield ""  # what the host's _generate_reply gives when no model is loaded


def host_generate_function() -> Callable[..., Iterator[str]]:
    """The generation function the host's ``_generate_reply`` would pick if Joi had no
    ``custom_generate_reply``: the next extension's (in ``--extensions`` order; the host
    calls only the first), else none while no model is loaded (``check_model_loaded``, which
    also logs why, as the host does), else the one for the loaded model's class."""
    from modules import extensions, shared, text_generation, utils

    for extension, _ in extensions.iterator():
        if isinstance(getattr(extension, "joi", None), JoiExtension):
            continue
        if hasattr(extension, "custom_generate_reply"):
            return extension.custom_generate_reply
    loaded, _ = utils.check_model_loaded()
    if not loaded:
        return _no_model
    if shared.model.__class__.__name__ in HOST_CUSTOM_LOADERS:
        return text_generation.generate_reply_custom
    return text_generation.generate_reply_HF


def steps_or_one_pass(steps: Iterator[str], one_pass: Callable[[], Iterator[str]]) -> Iterator[str]:
    """The reply in steps; if they fail before giving any text, the host's one pass instead
    (a hook never breaks the host's generation); if they fail later, the text so far stands."""
    given = False
    try:
        for reply in steps:
            given = True
            yield reply
    except Exception as exc:
        debug = log.isEnabledFor(logging.DEBUG)
        log.error("Joi Coach's reply steps failed: %s", type(exc).__name__, exc_info=debug)
        if not given:
            yield from one_pass()
    finally:
        getattr(steps, "close", lambda: None)()


def host_thinking_tags() -> tuple[str, ...]:
    """The start tags of the thinking formats the host recognises (modules/reasoning.py)."""
    from modules import reasoning

    formats = getattr(reasoning, "THINKING_FORMATS", ())
    return tuple(str(start) for start, *_ in formats if start)


def log_through_the_host() -> None:
    """Joi's log lines go where the host's own go (its ``textgen`` logger's handlers): the host
    gives the root logger no handler, so Joi's lines ("Joi Coach is ready", why a hook was
    skipped) would otherwise be lost. Never the person's words: Joi logs none."""
    try:
        from modules.logging_colors import logger as host_logger
    except ImportError:
        return
    if log.handlers or not host_logger.handlers:
        return
    for handler in host_logger.handlers:
        log.addHandler(handler)
    log.propagate = False
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)


def host_user_data_dir() -> Path:
    """The host's ``user_data`` folder (``shared.user_data_dir`` where the host has it)."""
    from modules import shared

    return Path(getattr(shared, "user_data_dir", "user_data"))


def passphrase_from_env() -> tuple[str, str] | None:
    """The passphrase given to the host's process, and where it came from (for the log):
    the first line of ``JOI_PASSPHRASE_FILE``, else ``JOI_PASSPHRASE``. ``JOI_PASSPHRASE`` is
    taken out of the environment either way, so no process the host starts (llama.cpp's
    server) inherits it."""
    value = os.environ.pop(PASSPHRASE_ENV, "")
    file = os.environ.get(PASSPHRASE_FILE_ENV, "")
    if file:
        try:
            first = Path(file).expanduser().read_text(encoding="utf-8").splitlines()[:1]
        except (OSError, UnicodeDecodeError) as exc:
            log.error("Joi Coach cannot read %s (%s)", PASSPHRASE_FILE_ENV, type(exc).__name__)
        else:
            if first and first[0]:
                return first[0], PASSPHRASE_FILE_ENV
            log.error("Joi Coach: %s is empty (the passphrase is its first line)", PASSPHRASE_FILE_ENV)
    return (value, PASSPHRASE_ENV) if value else None


def is_locked(data_dir: Path) -> bool:
    """Whether ``data_dir`` is encrypted and not unlocked in this process."""
    if not encryption.is_encrypted(data_dir):
        return False
    try:
        encryption.key_for(data_dir)
    except encryption.Locked:
        return True
    return False


@dataclass
class _Engine:
    """What one data folder needs in one process: the coach, its turns, the host bridge."""

    coach: Coach
    turns: WebuiTurns
    generation: HostGeneration | None
    locked: bool = False  # an encrypted data folder not unlocked yet: every hook passes through
    told: bool = False  # the log said so for a chat turn since it was locked
    unlocking: threading.Lock = field(default_factory=threading.Lock)


# One engine per process and data folder. The host's "Apply flags/extensions and restart"
# loads script.py again as a new module and calls setup() again; the engine package (this
# module) stays loaded, so the second setup finds the first engine here and reuses it instead
# of opening the same stores with a second coach and background worker.
_ENGINES: dict[Path, _Engine] = {}
_ENGINES_LOCK = threading.Lock()


class JoiExtension:
    """Created by script.py with the host-updated ``params``; ``setup()`` loads the engine."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.coach: Coach | None = None
        self.turns: WebuiTurns | None = None
        self.generation: HostGeneration | None = None
        self._engine: _Engine | None = None

    @property
    def locked(self) -> bool:
        """The data folder is encrypted and not unlocked yet: Joi stays out of every turn."""
        return self._engine is not None and self._engine.locked

    def data_dir(self) -> Path:
        chosen = WebuiOptions.from_params(self.params).data_dir
        return Path(chosen or host_user_data_dir() / "joi_coach").expanduser().resolve()

    def setup(self, coach: Coach | None = None) -> None:
        """Load the embedding model (or reuse this process's engine) and, once the data folder
        is unlocked where it is encrypted, serve the turns; the LLM is the host's."""
        options = WebuiOptions.from_params(self.params)
        log_through_the_host()
        given = passphrase_from_env()
        if coach is not None:
            locked = self._unlock_at_setup(Path(coach.data_dir), given)
            engine = _Engine(coach, WebuiTurns(coach, options), None, locked=locked)
        else:
            with _ENGINES_LOCK:
                data_dir = self.data_dir()
                known = _ENGINES.get(data_dir)
                if known is None:
                    locked = self._unlock_at_setup(data_dir, given)  # before any store is opened
                    engine = _ENGINES[data_dir] = self._new_engine(data_dir, options)
                    engine.locked = locked
                else:
                    engine = known
                    log.info("Joi Coach: the extension was loaded again; reusing this process's engine")
                    if engine.locked:  # a restart may bring the passphrase
                        with engine.unlocking:
                            if not self._unlock_at_setup(data_dir, given):
                                engine.turns.reload_profiles()
                                engine.locked = False
        engine.turns.options = options
        self._engine = engine
        self.coach, self.turns, self.generation = engine.coach, engine.turns, engine.generation
        if not engine.locked:
            log.info("Joi Coach is ready: memories in %s", self.coach.data_dir)

    @staticmethod
    def _unlock_at_setup(data_dir: Path, given: tuple[str, str] | None) -> bool:
        """Unlock an encrypted ``data_dir`` with the passphrase given to the process; True
        while it stays locked. Never raises: a locked Joi stays out of the chat."""
        if not encryption.is_encrypted(data_dir):
            if given is not None:
                log.warning(
                    "Joi Coach: %s is set, but %s is not encrypted ('joi-coach encrypt' encrypts it)",
                    given[1],
                    data_dir,
                )
            return False
        if not is_locked(data_dir):
            return False  # unlocked earlier in this process
        if given is None:
            log.warning(LOCKED_LOG, data_dir)
            return True
        passphrase, where = given
        try:
            encryption.unlock(data_dir, passphrase)
        except encryption.WrongPassphrase:
            log.error("Joi Coach: the passphrase in %s does not open %s", where, data_dir)
        except encryption.EncryptionError as exc:
            log.error("Joi Coach cannot unlock %s: %s", data_dir, exc)
        except Exception as exc:
            log.error("Joi Coach cannot unlock %s: %s", data_dir, type(exc).__name__)
        else:
            log.info("Joi Coach: %s unlocked (encrypted at rest)", data_dir)
            return False
        log.warning(LOCKED_LOG, data_dir)
        return True

    def unlock(self, passphrase: str) -> str:
        """Unlock the data folder from the tab; returns what the tab shows (never raises)."""
        engine = self._engine
        if engine is None:
            return "Joi Coach did not start; the server log says why."
        if not engine.locked:
            return UNLOCKED
        if not (passphrase or "").strip():
            return "Type the passphrase of Joi's memories first."
        data_dir = Path(engine.coach.data_dir)
        with engine.unlocking:
            if not engine.locked:
                return UNLOCKED
            try:
                encryption.unlock(data_dir, passphrase)
            except encryption.WrongPassphrase:
                log.warning("Joi Coach: a wrong passphrase was typed in the tab; still locked")
                return WRONG_PASSPHRASE
            except encryption.EncryptionError as exc:
                log.error("Joi Coach cannot unlock %s: %s", data_dir, exc)
                return f"Joi's memories stay locked: {exc}"
            except Exception as exc:
                log.error("Joi Coach cannot unlock %s: %s", data_dir, type(exc).__name__)
                return f"Joi's memories stay locked ({type(exc).__name__}); the server log says more."
            engine.turns.reload_profiles()
            engine.locked = False
            engine.told = False
        log.info("Joi Coach: %s unlocked from the tab; Joi is back in the chat", data_dir)
        return UNLOCKED

    def _tell_locked(self) -> None:
        """Once per locked stretch, when a chat turn starts: the log says why Joi is not in it."""
        engine = self._engine
        if engine is not None and not engine.told:
            engine.told = True
            log.warning(LOCKED_LOG, engine.coach.data_dir)

    def _new_engine(self, data_dir: Path, options: WebuiOptions) -> _Engine:
        from ..memory.embeddings import DEFAULT_EMBEDDING_MODEL, Embedder

        embedder = Embedder(options.embedding_model or DEFAULT_EMBEDDING_MODEL)
        turns: list[WebuiTurns] = []  # the bridge asks the turns for the last chat state
        generation = HostGeneration(lambda: turns[0].last_chat_state() if turns else None)
        coach = Coach(PriorityLLM(generation), embedder, data_dir)
        coach.warm_up_in_background()  # the embedding models, while the host starts
        turns.append(WebuiTurns(coach, options))
        return _Engine(coach, turns[0], generation)

    def set_always_on(self, on: bool) -> None:
        self.params["always_on"] = bool(on)
        if self.turns is not None:
            self.turns.options = WebuiOptions.from_params(self.params)

    def _ready(self) -> WebuiTurns:
        if self.turns is None:
            raise RuntimeError("Joi Coach is not set up (setup() did not run or failed)")
        return self.turns

    # -- hooks (signatures as the host calls them) ---------------------------------------
    @passthrough_on_error()
    def history_modifier(self, history: dict[str, Any]) -> dict[str, Any]:
        return self._ready().history_modifier(history)

    @passthrough_on_error()
    def state_modifier(self, state: dict[str, Any]) -> dict[str, Any]:
        return self._ready().state_modifier(state)

    @passthrough_on_error(_text_pair)
    def chat_input_modifier(self, text: str, visible_text: str, state: dict[str, Any]) -> tuple[str, str]:
        return self._ready().chat_input_modifier(text, visible_text, state)

    @passthrough_on_error()
    def bot_prefix_modifier(self, prefix: str, state: dict[str, Any]) -> str:
        return self._ready().bot_prefix_modifier(prefix, state)

    @passthrough_on_error()
    def output_modifier(self, visible: str, state: dict[str, Any], is_chat: bool = False) -> str:
        return self._ready().output_modifier(visible, state, is_chat)

    def custom_generate_reply(
        self,
        question: str,
        original_question: str,
        state: dict[str, Any],
        stopping_strings: Any = None,
        is_chat: bool = False,
    ) -> Iterator[str]:
        """The host's generation, called as the host calls it. Only Joi's chat turns are
        changed: their reply is generated in Joi's steps on the host's model (see
        :mod:`.steps`; Continue, and ``reply_steps`` off, keep the host's one pass over its
        prompt without earlier cards), and a crisis turn's card is put into the reply (so into
        the host's chat history and its API's content, streamed or not)."""
        generate = host_generate_function()
        plan = self._reply_plan(question, state, stopping_strings, is_chat)
        if plan is None:
            yield from generate(question, original_question, state, stopping_strings, is_chat=is_chat)
            return
        if plan.steps and self.coach is not None and self.turns is not None:  # (a plan: Joi's turn)
            steps = reply_in_steps(self.coach, state[TURN_KEY], state, question, generate, self.turns.clock())
            one_pass = functools.partial(
                generate, plan.prompt, original_question, state, stopping_strings, is_chat=is_chat
            )
            replies = steps_or_one_pass(steps, one_pass)
        else:
            replies = generate(plan.prompt, original_question, state, stopping_strings, is_chat=is_chat)
        yield from with_card(replies, plan)

    def _reply_plan(
        self, question: str, state: dict[str, Any], stopping_strings: Any, is_chat: bool
    ) -> ReplyPlan | None:
        if self.turns is None or self.locked or not is_chat:
            return None
        try:
            stops = stop_strings(stopping_strings, state.get("custom_stopping_strings"))
            return self.turns.reply_plan(question, state, is_chat, stops, host_thinking_tags())
        except Exception as exc:  # the host's own generation, untouched
            debug = log.isEnabledFor(logging.DEBUG)
            log.error("Joi Coach skipped custom_generate_reply: %s", type(exc).__name__, exc_info=debug)
            return None

    def close(self) -> None:
        """Stop the engine (background work first) and forget it, so a later setup opens a new one."""
        if self.coach is None:
            return
        with _ENGINES_LOCK:
            for data_dir, engine in list(_ENGINES.items()):
                if engine.coach is self.coach:
                    del _ENGINES[data_dir]
        self.coach.close()
