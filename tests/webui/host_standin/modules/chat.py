"""The chat pipeline's hook sequence, as ``modules/chat.py``'s ``chatbot_wrapper`` runs it.

history -> state -> (stopping strings) -> chat_input -> input -> prompt (an extension's
custom_generate_chat_prompt, else the host's) -> generate_reply(is_chat=True), whose text is
HTML-escaped into the visible reply -> output, once, on the finished visible reply.

Also as the host does: past replies' ``<think>`` blocks stay out of later prompts; a prompt
ending in ``<think>`` has that tag put back in front of the reply (not on Continue); Continue
rebuilds the prompt from the stored reply without the bot prefix, and hands the output hooks
the whole reply rebuilt from the internal text; ``shared.stop_everything`` ends a chat turn.
"""

import copy
import html
from functools import partial

from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from modules import shared
from modules.extensions import apply_extensions
from modules.reasoning import THINKING_FORMATS
from modules.text_generation import generate_reply

jinja_env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
_template_cache: dict = {}

# The chat template of chat mode: "Name: message" lines, ending with "Name2:".
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'system' %}{{- message['content'] + '\\n\\n' -}}"
    "{%- elif message['role'] == 'user' %}{{- name1 + ': ' + message['content'] + '\\n' -}}"
    "{%- else %}{{- name2 + ': ' + message['content'] + '\\n' -}}{%- endif %}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt %}{{- name2 + ':' -}}{%- endif %}"
)


def get_compiled_template(template_str):
    compiled = _template_cache.get(template_str)
    if compiled is None:
        compiled = _template_cache[template_str] = jinja_env.from_string(template_str)
    return compiled


def get_stopping_strings(state):
    """Chat mode stops where the model starts a new "Name:" line; instruct at a turn marker."""
    if state["mode"] == "chat":
        return [f"\n{state['name1']}:", f"\n{state['name2']}:"]
    rendered = get_compiled_template(state["instruction_template_str"]).render(
        messages=[{"role": "user", "content": "U"}, {"role": "assistant", "content": "A"}],
        add_generation_prompt=False,
        bos_token=shared.bos_token,
        eos_token=shared.eos_token,
    )
    after_reply = rendered.split("A", 1)[1].strip()
    return [after_reply.split(">")[0] + ">"] if after_reply.startswith("<") else []


def _split_thoughts(assistant_msg):
    """A past reply as the host puts it in a prompt: a ``<think>`` block becomes
    ``reasoning_content`` (which Joi's template, like most, does not render)."""
    if "<think>" not in assistant_msg:
        return {"role": "assistant", "content": assistant_msg}
    before, after = assistant_msg.split("<think>", 1)
    if "</think>" in after:
        thinking, rest = after.split("</think>", 1)
        content = before + rest
    else:
        thinking, content = after, before
    message = {"role": "assistant", "content": content.strip()}
    if thinking.strip():
        message["reasoning_content"] = thinking.strip()
    return message


def generate_chat_prompt(user_input, state, **kwargs):
    _continue = kwargs.get("_continue", False)
    history = kwargs.get("history", state["history"])["internal"]
    instruct_render = partial(
        get_compiled_template(state["instruction_template_str"]).render,
        bos_token=shared.bos_token,
        eos_token=shared.eos_token,
    )
    if state["mode"] == "instruct":
        render, system = instruct_render, state["custom_system_message"]
    else:
        render = partial(
            get_compiled_template(state["chat_template_str"]).render,
            name1=state["name1"],
            name2=state["name2"],
        )
        system = state["context"]
    messages = [{"role": "system", "content": system}] if system.strip() else []
    for user_message, assistant_message in history:
        if user_message.strip():
            messages.append({"role": "user", "content": user_message.strip()})
        if assistant_message.strip():
            messages.append(_split_thoughts(assistant_message.strip()))
    if not _continue and user_input.strip():
        messages.append({"role": "user", "content": user_input.strip()})

    last_message = dict(messages[-1])
    placeholder = "fake assistant message replace me"
    if _continue:
        messages = copy.deepcopy(messages)
        if state["mode"] == "chat-instruct":
            messages = messages[:-1]
        else:
            messages[-1]["content"] = placeholder
            messages.append({"role": "assistant", "content": "this will get deleted"})
    add_generation_prompt = not _continue if state["mode"] != "chat-instruct" else False
    prompt = render(messages=messages, add_generation_prompt=add_generation_prompt)
    if state["mode"] == "chat-instruct":
        command = (
            state["chat-instruct_command"]
            .replace("<|character|>", state["name2"])
            .replace("<|prompt|>", prompt)
        )
        outer = [{"role": "user", "content": command}]
        if state["custom_system_message"].strip():
            outer.insert(0, {"role": "system", "content": state["custom_system_message"]})
        if _continue:
            outer.append({**last_message, "content": placeholder})
            outer.append({"role": "assistant", "content": "this will get deleted"})
        prompt = instruct_render(messages=outer, add_generation_prompt=not _continue)
    if _continue:
        prompt = prompt.split(placeholder, 1)[0]
        content = last_message.get("content", "")
        thought = last_message.get("reasoning_content", "")
        prompt += thought if not content and thought.strip() else content  # a reply cut inside its thoughts
    if state["mode"] in ("chat", "chat-instruct") and not _continue:
        prompt += apply_extensions("bot_prefix", "", state)
    return prompt


def chatbot_wrapper(text, state, regenerate=False, _continue=False, loading_message=True, for_ui=False):
    output = copy.deepcopy(state["history"])
    output = apply_extensions("history", output)
    state = apply_extensions("state", state)
    stopping_strings = get_stopping_strings(state)

    if not (regenerate or _continue):
        visible_text = html.escape(text)
        text, visible_text = apply_extensions("chat_input", text, visible_text, state)
        text = apply_extensions("input", text, state, is_chat=True)
        output["internal"].append([text, ""])
        output["visible"].append([visible_text, ""])
    else:
        text, visible_text = output["internal"][-1][0], output["visible"][-1][0]
        if _continue:
            last_reply = [output["internal"][-1][1], output["visible"][-1][1]]

    kwargs = {
        "_continue": _continue,
        "history": output
        if _continue
        else {k: (v[:-1] if k in ("internal", "visible") else v) for k, v in output.items()},
    }
    prompt = apply_extensions("custom_generate_chat_prompt", text, state, **kwargs)
    if prompt is None:
        prompt = generate_chat_prompt(text, state, **kwargs)

    # The host re-adds a thinking tag that the prompt ended with (never on Continue).
    thinking_prefix = None
    if not _continue:
        for start_tag, _, _ in THINKING_FORMATS:
            if start_tag is not None and prompt.rstrip("\n").endswith(start_tag):
                thinking_prefix = start_tag
                break
    for j, reply in enumerate(
        generate_reply(prompt, state, stopping_strings=stopping_strings, is_chat=True, for_ui=for_ui)
    ):
        if thinking_prefix:
            reply = thinking_prefix + reply
        if state["mode"] in ("chat", "chat-instruct"):
            if not _continue:
                reply = reply.lstrip()
            for name in (state["name2"], state["name1"]):
                if reply.startswith(name + ":"):
                    reply = reply[len(name + ":") :]
                    break
        visible_reply = html.escape(reply)
        if shared.stop_everything:  # a stop (anyone's) ends the chat turn here
            output["visible"][-1][1] = apply_extensions(
                "output", output["visible"][-1][1], state, is_chat=True
            )
            yield output
            return
        if _continue:
            output["internal"][-1] = [text, last_reply[0] + reply]
            output["visible"][-1] = [visible_text, last_reply[1] + visible_reply]
        elif not (j == 0 and visible_reply.strip() == ""):
            output["internal"][-1] = [text, reply.lstrip(" ")]
            output["visible"][-1] = [visible_text, visible_reply.lstrip(" ")]
        if state["stream"]:
            yield output
    if _continue:  # the output hooks see the whole reply, rebuilt from the internal text
        output["visible"][-1][1] = apply_extensions(
            "output", html.escape(output["internal"][-1][1]), state, is_chat=True
        )
    else:
        output["visible"][-1][1] = apply_extensions("output", output["visible"][-1][1], state, is_chat=True)
    yield output


def generate_chat_reply(text, state, regenerate=False, _continue=False, loading_message=True, for_ui=False):
    history = state["history"]
    if regenerate or _continue:
        text = ""
        if not history["internal"]:
            yield history
            return
    yield from chatbot_wrapper(text, state, regenerate, _continue, loading_message, for_ui)
