"""The extension's one object: builds Joi's engine on the host's model and serves the hooks.

``script.py`` (what the host loads) only forwards to :class:`JoiExtension`. A hook never
breaks the host's generation: if Joi fails, it logs why (never the person's text) and
hands the host its input back unchanged.

``custom_generate_reply`` replaces the host's generation function for *every* generation
(the host calls the first extension's that has one), so it hands each one to the function
the host would have chosen without Joi (:func:`host_generate_function`) and passes the text
through untouched, except on Joi's own chat turns (see ``WebuiTurns.reply_plan``).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..coach import Coach
from ..llm.priority import PriorityLLM
from .host_generation import HostGeneration
from .turns import ReplyPlan, WebuiOptions, WebuiTurns, stop_strings, with_card

log = logging.getLogger("joi_coach")
T = TypeVar("T")

# The host's ``params``: its own two keys, then Joi's options with their defaults (WebuiOptions).
DEFAULT_PARAMS: dict[str, Any] = {"display_name": "Joi Coach", "is_tab": True, **asdict(WebuiOptions())}
# The loaders whose generation is the host's ``generate_reply_custom`` (by class name);
# any other loaded model goes through ``generate_reply_HF`` (modules/text_generation.py).
HOST_CUSTOM_LOADERS = ("LlamaServer", "Exllamav3Model", "TensorRTLLMModel")


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


def host_thinking_tags() -> tuple[str, ...]:
    """The start tags of the thinking formats the host recognises (modules/reasoning.py)."""
    from modules import reasoning

    formats = getattr(reasoning, "THINKING_FORMATS", ())
    return tuple(str(start) for start, *_ in formats if start)


def host_user_data_dir() -> Path:
    """The host's ``user_data`` folder (``shared.user_data_dir`` where the host has it)."""
    from modules import shared

    return Path(getattr(shared, "user_data_dir", "user_data"))


@dataclass
class _Engine:
    """What one data folder needs in one process: the coach, its turns, the host bridge."""

    coach: Coach
    turns: WebuiTurns
    generation: HostGeneration | None


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

    def data_dir(self) -> Path:
        chosen = WebuiOptions.from_params(self.params).data_dir
        return Path(chosen or host_user_data_dir() / "joi_coach").expanduser().resolve()

    def setup(self, coach: Coach | None = None) -> None:
        """Open the memory store and embedding model (or reuse this process's); the LLM is the host's."""
        options = WebuiOptions.from_params(self.params)
        if coach is not None:
            engine = _Engine(coach, WebuiTurns(coach, options), None)
        else:
            with _ENGINES_LOCK:
                data_dir = self.data_dir()
                known = _ENGINES.get(data_dir)
                if known is None:
                    engine = _ENGINES[data_dir] = self._new_engine(data_dir, options)
                else:
                    engine = known
                    log.info("Joi Coach: the extension was loaded again; reusing this process's engine")
        engine.turns.options = options
        self.coach, self.turns, self.generation = engine.coach, engine.turns, engine.generation
        log.info("Joi Coach is ready: memories in %s", self.coach.data_dir)

    def _new_engine(self, data_dir: Path, options: WebuiOptions) -> _Engine:
        from ..memory.embeddings import DEFAULT_EMBEDDING_MODEL, Embedder

        embedder = Embedder(options.embedding_model or DEFAULT_EMBEDDING_MODEL)
        turns: list[WebuiTurns] = []  # the bridge asks the turns for the last chat state
        generation = HostGeneration(lambda: turns[0].last_chat_state() if turns else None)
        coach = Coach(PriorityLLM(generation), embedder, data_dir)
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
        changed: earlier cards left out of the prompt, and a crisis turn's card put into the
        reply (so into the host's chat history and its API's content, streamed or not)."""
        generate = host_generate_function()
        plan = self._reply_plan(question, state, stopping_strings, is_chat)
        if plan is None:
            yield from generate(question, original_question, state, stopping_strings, is_chat=is_chat)
            return
        replies = generate(plan.prompt, original_question, state, stopping_strings, is_chat=is_chat)
        yield from with_card(replies, plan)

    def _reply_plan(
        self, question: str, state: dict[str, Any], stopping_strings: Any, is_chat: bool
    ) -> ReplyPlan | None:
        if self.turns is None or not is_chat:
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
