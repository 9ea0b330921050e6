"""``/v1/chat/completions`` as ``modules/api/completions.py`` answers it, from a chat state.

The API always gives a request its own ``stop_event``. It reads the *internal* reply (what
the model wrote, before any output hook): streamed, every cumulative reply is split with
``extract_reasoning`` and only what is new of each part is sent, as ``reasoning_content``
and ``content`` deltas; not streamed, the finished reply is split once.
"""

import copy
import threading

from modules import chat
from modules.reasoning import extract_reasoning


def chat_completion(text, state, stream=False, continue_=False):
    """Returns the streamed chunks (a list of delta dicts) or the one message dict, and the history."""
    state = copy.deepcopy(state)
    state["stop_event"] = threading.Event()
    state["stream"] = stream  # not streamed: the host generates streamed on a copy, gives the end
    generator = chat.generate_chat_reply(text, state, _continue=continue_, loading_message=False)
    seen_reasoning, seen_content, chunks = "", "", []
    answer, history = "", state["history"]
    for history in generator:
        answer = history["internal"][-1][1] if history["internal"] else ""
        if not stream:
            continue
        reasoning, content = extract_reasoning(answer)
        if reasoning is not None:
            new_reasoning, new_content = reasoning[len(seen_reasoning) :], content[len(seen_content) :]
        else:
            new_reasoning, new_content = None, answer[len(seen_content) :]
        if (not new_content and not new_reasoning) or "\ufffd" in (new_content or "") + (new_reasoning or ""):
            continue
        chunks.append({"content": new_content or None, "reasoning_content": new_reasoning or None})
        if reasoning is not None:
            seen_reasoning, seen_content = reasoning, content
        else:
            seen_content = answer
    if stream:
        return chunks, history
    reasoning, content = extract_reasoning(answer)
    message = {
        "role": "assistant",
        "content": content,
        **({"reasoning_content": reasoning} if reasoning else {}),
    }
    return message, history
