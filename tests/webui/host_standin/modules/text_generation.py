"""``generate_reply`` as the host has it.

One generation at a time under the host's lock, except where the host runs generations in
parallel: a request that carries a ``stop_event`` on ExLlamaV3, TensorRT-LLM or llama.cpp
with ``--parallel`` > 1 (by the model's class name) skips the lock. Generations are counted
in ``models.active_generation_count``, and an idle-unloaded model is loaded again first.

``_generate_reply`` picks the generation function: the first extension's
``custom_generate_reply`` if any has one (then the host does not check that a model is
loaded), else, with a model loaded, ``generate_reply_custom`` for the LlamaServer,
Exllamav3Model and TensorRTLLMModel classes and ``generate_reply_HF`` for any other; with
none, the reply is "". It calls it as ``(question, original_question, state,
stopping_strings, is_chat=is_chat)``. For a non-chat prompt the host applies every
extension's ``state`` and ``input`` hooks before, and ``output`` hooks after; for
``is_chat`` none. With stopping strings and no streaming it generates streamed on a deep
copy of the state (keeping the ``stop_event``) and gives only the final reply. Every reply
the function yields is cut at a stopping string (one still arriving is held back); the loop
stops there, at ``shared.stop_everything`` or at the request's own ``stop_event``.
``shared.model.generate_with_streaming(prompt, state)`` yields the cumulative reply.
``encode`` gives token ids through ``shared.tokenizer`` as the host's does for llama.cpp.
"""

import ast
import copy
import html
import logging
import time

import numpy as np

from modules import models, shared
from modules.extensions import apply_extensions
from modules.utils import check_model_loaded

logger = logging.getLogger("text-generation-webui")

# (prompt, is_chat, the generation state) for every generation (the host's --verbose prints them)
calls: list[tuple[str, bool, dict]] = []
PARALLEL_LOADERS = ("Exllamav3Model", "LlamaServer", "TensorRTLLMModel")
CUSTOM_LOADERS = ("LlamaServer", "Exllamav3Model", "TensorRTLLMModel")


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
    generate_func = apply_extensions("custom_generate_reply")
    if generate_func is None:
        model_is_loaded, _ = check_model_loaded()
        if not model_is_loaded:
            yield ""
            return
        if shared.model.__class__.__name__ in CUSTOM_LOADERS:
            generate_func = generate_reply_custom
        else:
            generate_func = generate_reply_HF
    original_question = question
    if not is_chat:
        state = apply_extensions("state", state)
        question = apply_extensions("input", question, state)
    stops = []
    for st in (stopping_strings, state["custom_stopping_strings"]):
        if isinstance(st, str):
            st = ast.literal_eval(f"[{st}]")
        if isinstance(st, list) and len(st) > 0:
            stops += st
    shared.stop_everything = False
    reply = ""
    is_stream = state["stream"]
    if len(stops) > 0 and not state["stream"]:
        original_logits_processor = state.get("logits_processor")
        stop_event_ref = state.pop("stop_event", None)
        state = copy.deepcopy(state)
        if stop_event_ref is not None:
            state["stop_event"] = stop_event_ref
        if original_logits_processor is not None:
            state["logits_processor"] = original_logits_processor
        state["stream"] = True
    calls.append((question, is_chat, state))
    for reply in generate_func(question, original_question, state, stopping_strings, is_chat=is_chat):
        reply, stop_found = apply_stopping_strings(reply, stops)
        if escape_html:
            reply = html.escape(reply)
        if is_stream:
            yield reply
        stop_event = state.get("stop_event")
        if stop_found or shared.stop_everything or (stop_event and stop_event.is_set()):
            break
    if not is_chat:
        reply = apply_extensions("output", reply, state)
    yield reply


def encode(prompt, add_special_tokens=True, add_bos_token=True, truncation_length=None):
    """The prompt's token ids as a (1, n) array, through ``shared.tokenizer`` (the llama.cpp
    loader's: ``encode(text, add_bos_token=...)``); no tokenizer: ValueError, as the host."""
    if shared.tokenizer is None:
        models.load_model_if_idle_unloaded()
        if shared.tokenizer is None:
            raise ValueError("No tokenizer is loaded")
    input_ids = shared.tokenizer.encode(str(prompt), add_bos_token=add_bos_token)
    input_ids = np.array(input_ids).reshape(1, len(input_ids))
    if truncation_length is not None:
        input_ids = input_ids[:, -truncation_length:]
    return input_ids


def generate_reply_HF(question, original_question, state, stopping_strings=None, is_chat=False):
    """The Transformers path, reduced to what it yields: "" first for a non-chat prompt, then
    the cumulative reply (streamed: the host always streams when there are stopping strings)."""
    try:
        if not is_chat:
            yield ""
        if not state["stream"]:
            yield shared.model.generate(question, state)
        else:
            yield from shared.model.generate_with_streaming(question, state)
    except Exception:
        logger.exception("Failed to generate reply (HF)")


def generate_reply_custom(question, original_question, state, stopping_strings=None, is_chat=False):
    """For models that do not use transformers for sampling: the state is copied (its
    ``stop_event`` taken out of the caller's and put into the copy), "" first for a non-chat
    prompt, then the model's cumulative reply. Errors are logged, not raised."""
    stop_event_ref = state.pop("stop_event", None)
    state = copy.deepcopy(state)
    if stop_event_ref is not None:
        state["stop_event"] = stop_event_ref
    try:
        if not is_chat:
            yield ""
        if not state["stream"]:
            yield shared.model.generate(question, state)
        else:
            yield from shared.model.generate_with_streaming(question, state)
    except Exception:
        logger.exception("Failed to generate reply (custom)")
