"""``generate_reply`` as the host has it: one generation at a time, under the host's lock.

For a non-chat prompt (Joi's own background prompts) the host applies every extension's
``state`` and ``input`` hooks before, and ``output`` hooks after, as the real one does.
``shared.model.generate_with_streaming(prompt, state)`` yields the cumulative reply.
"""

import ast
import html

from modules import shared
from modules.extensions import apply_extensions

calls: list[tuple[str, bool]] = []  # (prompt, is_chat) for every generation (--verbose prints them)


def generate_reply(*args, **kwargs):
    shared.generation_lock.acquire()
    try:
        yield from _generate_reply(*args, **kwargs)
    finally:
        shared.generation_lock.release()


def apply_stopping_strings(reply, all_stop_strings):
    for string in all_stop_strings:
        index = reply.find(string)
        if index != -1:
            return reply[:index], True
    for string in all_stop_strings:  # a stop string that may be arriving: hold it back
        for j in range(len(string) - 1, 0, -1):
            if reply[-j:] == string[:j]:
                return reply[:-j], False
    return reply, False


def _generate_reply(question, state, stopping_strings=None, is_chat=False, escape_html=False, for_ui=False):
    if shared.model is None:
        yield ""
        return
    if not is_chat:
        state = apply_extensions("state", state)
        question = apply_extensions("input", question, state)
    stops = []
    for st in (stopping_strings, state["custom_stopping_strings"]):
        if isinstance(st, str):
            st = ast.literal_eval(f"[{st}]")
        if isinstance(st, list):
            stops += st
    shared.stop_everything = False
    calls.append((question, is_chat))
    reply = ""
    for reply in shared.model.generate_with_streaming(question, state):
        reply, stop_found = apply_stopping_strings(reply, stops)
        if escape_html:
            reply = html.escape(reply)
        if state["stream"]:
            yield reply
        if stop_found or shared.stop_everything:
            break
    if not is_chat:
        reply = apply_extensions("output", reply, state)
    yield reply
