"""``generate_reply`` as the host has it.

One generation at a time under the host's lock, except where the host runs generations in
parallel: a request that carries a ``stop_event`` on ExLlamaV3, TensorRT-LLM or llama.cpp
with ``--parallel`` > 1 (by the model's class name) skips the lock. Generations are counted
in ``models.active_generation_count``, and an idle-unloaded model is loaded again first.
For a non-chat prompt the host applies every extension's ``state`` and ``input`` hooks
before, and ``output`` hooks after; for ``is_chat`` none. The loop stops at a stop string,
at ``shared.stop_everything`` or at the request's own ``stop_event``.
``shared.model.generate_with_streaming(prompt, state)`` yields the cumulative reply.
"""

import ast
import html
import time

from modules import models, shared
from modules.extensions import apply_extensions

# (prompt, is_chat, the generation state) for every generation (the host's --verbose prints them)
calls: list[tuple[str, bool, dict]] = []
PARALLEL_LOADERS = ("Exllamav3Model", "LlamaServer", "TensorRTLLMModel")


def generate_reply(*args, **kwargs):
    models.load_model_if_idle_unloaded()
    state = args[1] if len(args) > 1 else kwargs.get("state", {})
    loader = shared.model.__class__.__name__
    use_parallel = (
        state.get("stop_event") is not None
        and loader in PARALLEL_LOADERS
        and (loader != "LlamaServer" or shared.args.parallel > 1)
    )
    if not use_parallel:
        shared.generation_lock.acquire()
    with models._generation_count_lock:
        models.active_generation_count += 1
    try:
        yield from _generate_reply(*args, **kwargs)
    finally:
        with models._generation_count_lock:
            models.active_generation_count -= 1
        models.last_generation_time = time.time()
        if not use_parallel:
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
    calls.append((question, is_chat, state))
    reply = ""
    for reply in shared.model.generate_with_streaming(question, state):
        reply, stop_found = apply_stopping_strings(reply, stops)
        if escape_html:
            reply = html.escape(reply)
        if state["stream"]:
            yield reply
        stop_event = state.get("stop_event")
        if stop_found or shared.stop_everything or (stop_event and stop_event.is_set()):
            break
    if not is_chat:
        reply = apply_extensions("output", reply, state)
    yield reply
