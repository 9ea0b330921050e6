"""text-generation-webui extension "joi_coach": Joi, a coach with long-term memory.

Thin on purpose: every hook forwards to :class:`joi_coach.webui.extension.JoiExtension`.
Enable with ``--extensions joi_coach`` and select the "Joi" character. Settings can be
overridden in the host's settings.yaml as ``joi_coach-<name>`` (see ``params``).

The host imports this file on its own (``user_data/extensions/joi_coach/script.py`` as a
bare module, or ``extensions.joi_coach.script``), so the engine package in this folder is
registered as ``joi_coach`` first.
"""

import importlib.util
import sys
from pathlib import Path


def _engine_package() -> None:
    """Make ``import joi_coach`` mean this folder, however the host imported this file."""
    here = Path(__file__).resolve().parent
    loaded = sys.modules.get("joi_coach")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve().parent == here:
        return
    spec = importlib.util.spec_from_file_location(
        "joi_coach", here / "__init__.py", submodule_search_locations=[str(here)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the joi_coach package from {here}")
    package = importlib.util.module_from_spec(spec)
    sys.modules["joi_coach"] = package
    spec.loader.exec_module(package)


_engine_package()

from joi_coach.webui.extension import DEFAULT_PARAMS, JoiExtension  # noqa: E402

params = dict(DEFAULT_PARAMS)
joi = JoiExtension(params)


def setup():
    joi.setup()


def ui():
    from modules import shared

    from joi_coach.webui.tab import WebuiTab

    WebuiTab(joi, getattr(shared, "gradio", {})).build()


def custom_css():
    from joi_coach.ui.views import UI_CSS

    return UI_CSS


def history_modifier(history):
    return joi.history_modifier(history)


def state_modifier(state):
    return joi.state_modifier(state)


def chat_input_modifier(text, visible_text, state):
    return joi.chat_input_modifier(text, visible_text, state)


def bot_prefix_modifier(string, state):
    return joi.bot_prefix_modifier(string, state)


def output_modifier(string, state, is_chat=False):
    return joi.output_modifier(string, state, is_chat)


def custom_generate_reply(question, original_question, state, stopping_strings=None, is_chat=False):
    # Every generation of the host comes here; all but Joi's chat turns pass through untouched.
    yield from joi.custom_generate_reply(question, original_question, state, stopping_strings, is_chat)
