"""Loading extensions and applying their hooks, as ``modules/extensions.py`` does."""

import importlib.util
import sys
from functools import partial
from inspect import signature

from modules import shared

state: dict = {}
available_extensions: list[str] = []
setup_called: set = set()


def apply_settings(extension, name):
    """``<name>-<param>`` keys in the host's settings override the extension's params."""
    for param in getattr(extension, "params", {}):
        key = f"{name}-{param}"
        shared.default_settings[key] = extension.params[param]
        if key in shared.settings:
            extension.params[param] = shared.settings[key]


def load_extensions():
    """User extensions load as bare modules named ``user_ext_<name>`` from user_data."""
    state.clear()
    for index, name in enumerate(shared.args.extensions):
        script = shared.user_data_dir / "extensions" / name / "script.py"
        spec = importlib.util.spec_from_file_location(f"user_ext_{name}", str(script))
        extension = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = extension
        spec.loader.exec_module(extension)
        if extension not in setup_called:
            apply_settings(extension, name)
            if hasattr(extension, "setup"):
                extension.setup()
            setup_called.add(extension)
        state[name] = [True, index, extension]


def iterator():
    for name in sorted(state, key=lambda n: state[n][1]):
        if state[name][0]:
            yield state[name][2], name


def _apply_string_extensions(function_name, text, state, is_chat=False):
    for extension, _ in iterator():
        if hasattr(extension, function_name):
            func = getattr(extension, function_name)
            names = [k for k in signature(func).parameters if k != "is_chat"]
            args = [text, state] if len(names) == 2 else [text]
            kwargs = {"is_chat": is_chat} if "is_chat" in signature(func).parameters else {}
            text = func(*args, **kwargs)
    return text


def _apply_chat_input_extensions(text, visible_text, state):
    for extension, _ in iterator():
        if hasattr(extension, "chat_input_modifier"):
            text, visible_text = extension.chat_input_modifier(text, visible_text, state)
    return text, visible_text


def _apply_custom_generate_chat_prompt(text, state, **kwargs):
    for extension, _ in iterator():
        if hasattr(extension, "custom_generate_chat_prompt"):
            return extension.custom_generate_chat_prompt(text, state, **kwargs)
    return None


def _apply_custom_generate_reply():
    """Only the first extension's ``custom_generate_reply`` is used."""
    for extension, _ in iterator():
        if hasattr(extension, "custom_generate_reply"):
            return extension.custom_generate_reply
    return None


def _apply_state_modifier_extensions(state):
    for extension, _ in iterator():
        if hasattr(extension, "state_modifier"):
            state = extension.state_modifier(state)
    return state


def _apply_history_modifier_extensions(history):
    for extension, _ in iterator():
        if hasattr(extension, "history_modifier"):
            history = extension.history_modifier(history)
    return history


EXTENSION_MAP = {
    "input": partial(_apply_string_extensions, "input_modifier"),
    "output": partial(_apply_string_extensions, "output_modifier"),
    "chat_input": _apply_chat_input_extensions,
    "state": _apply_state_modifier_extensions,
    "history": _apply_history_modifier_extensions,
    "bot_prefix": partial(_apply_string_extensions, "bot_prefix_modifier"),
    "custom_generate_chat_prompt": _apply_custom_generate_chat_prompt,
    "custom_generate_reply": _apply_custom_generate_reply,
}


def apply_extensions(typ, *args, **kwargs):
    if typ not in EXTENSION_MAP:
        raise ValueError(f"Invalid extension type {typ}")
    return EXTENSION_MAP[typ](*args, **kwargs)
