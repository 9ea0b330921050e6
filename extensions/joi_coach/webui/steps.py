"""A Joi chat turn's reply on the webui's own model, in the same steps as everywhere else.

``custom_generate_reply`` hands a Joi turn here: the prompt is Joi's layout (the host's
persona for the character, the host's recent chat without past thoughts or care cards,
what Joi recalled, the message), and :meth:`Coach.speak` runs the two thoughts, the answer
from memory, the guarded spoken line and the crisis frame on :class:`InlineHostGeneration`.
What comes back is what the host's generation functions give: the cumulative reply, as
``<think>`` voices ``</think>`` dialogue, without the part of it the host puts there itself
(the ``<think>`` it re-adds when the prompt ended with one, or Joi's bot prefix).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..coach import Coach
from ..cognition.prompt import compose_messages, remembered_block
from ..cognition.reply_format import THINK_OPEN
from ..cognition.text_input import InputError, clean_message
from ..cognition.voices import parse_reply
from ..llm.base import ChatMessage
from ..llm.priority import PriorityLLM
from ..memory.models import Stream
from .inline_generation import GenerateFunction, HostStop, InlineHostGeneration, params_from_state
from .turns import CHAT_MODES, GREETING_ROW, WebuiTurn, last_user_message, split_card


def replace_names(text: str, user: str, character: str) -> str:
    """The host's placeholders for the two speakers (``replace_character_names``)."""
    text = text.replace("{{user}}", user).replace("{{char}}", character)
    return text.replace("<USER>", user).replace("<BOT>", character)


def persona_of(coach: Coach, turn: WebuiTurn, state: dict[str, Any]) -> str:
    """The persona as the host would send it: the character's context in chat modes; the
    custom system message and Joi's persona in instruct mode (as ``state_modifier`` does)."""
    character = str(state.get("name2") or coach.character.name)
    if state.get("mode") in CHAT_MODES:
        return replace_names(turn.base_context, turn.user_name, character).strip()
    persona = coach.character.fill(coach.character.context, turn.user_name).strip()
    return "\n\n".join(part for part in (turn.base_system.strip(), persona) if part)


def host_history(
    state: dict[str, Any], regenerating: bool, names: tuple[str, ...], limit: int
) -> list[ChatMessage]:
    """The last ``limit`` messages of the host's chat before the one being answered: the
    person's words, and Joi's spoken lines without thoughts, care cards or a speaker label
    (an API client may send "Joi: …" back)."""
    rows = list((state.get("history") or {}).get("internal") or [])
    if regenerating and rows:
        rows = rows[:-1]  # the row whose reply is generated again
    label = (
        re.compile(r"^\s*(?:" + "|".join(re.escape(n) for n in names if n) + r")\s*:\s*") if names else None
    )
    messages: list[ChatMessage] = []
    for row in rows:
        said = str(row[0] or "").strip() if row else ""
        if said and said != GREETING_ROW:
            messages.append({"role": "user", "content": said})
        reply = str(row[1] or "") if len(row) > 1 else ""
        dialogue = parse_reply(split_card(reply)[0]).dialogue.strip()
        if label is not None:
            dialogue = label.sub("", dialogue, count=1).strip()
        if dialogue:
            messages.append({"role": "assistant", "content": dialogue})
    return messages[-limit:] if limit else []


def stored_message_id(coach: Coach, turn: WebuiTurn, message: str) -> int | None:
    """The memory of the message a regenerated reply answers (stored with its first reply)."""
    bank = coach.bank(turn.profile)
    for memory in bank.memories(Stream.DIALOGUE, conversation=turn.conversation, limit=4):
        if memory.speaker == turn.user_name and memory.text == message:
            return memory.id
    return None


def without_echo(text: str, prompt: str, turn: WebuiTurn) -> str:
    """``text`` less what the host shows of it already: the ``<think>`` it puts back when the
    prompt ended with one, or the bot prefix the prompt ended with."""
    if prompt.rstrip("\n").endswith(THINK_OPEN) and text.startswith(THINK_OPEN):
        return text[len(THINK_OPEN) :]
    if turn.prefixed and turn.prefix and text.startswith(turn.prefix):
        return text[len(turn.prefix) :]
    return text


def reply_in_steps(
    coach: Coach,
    turn: WebuiTurn,
    state: dict[str, Any],
    prompt: str,
    generate: GenerateFunction,
    now: float | None = None,
) -> Iterator[str]:
    """The cumulative reply of one Joi turn, generated in steps with ``generate`` (the host's
    inner generation function); ends early when the person stops it."""
    if turn.message is not None:
        message = turn.message
    else:
        try:
            message = clean_message(last_user_message(state))
        except InputError:
            message = ""
    if not message:
        return
    bank = coach.bank(turn.profile)
    settings = coach.settings_for(turn.profile)
    # The person's own sampling settings in the host (temperature, seed, max new tokens, and the
    # rest that the host's state carries to each step).
    settings = replace(settings, reply=params_from_state(state, settings.reply.max_tokens))
    now = time.time() if now is None else now
    character = coach.character.name
    names = tuple(n for n in (str(state.get("name2") or ""), character, turn.user_name) if n)
    history = host_history(state, turn.message is None, names, settings.history_messages)
    plans = coach.plans_in_prompt(bank, settings, turn.user_name, now)
    remembered = remembered_block(turn.recalled, turn.user_name, now, character, plans)
    messages = compose_messages(persona_of(coach, turn, state), history, remembered, message)
    backend = PriorityLLM(InlineHostGeneration(state, generate))
    exclude = turn.message_id if turn.message_id is not None else stored_message_id(coach, turn, message)
    spoken = coach.speak(
        bank,
        settings,
        messages,
        message,
        turn.user_name,
        turn.recalled,
        now,
        exclude=exclude,
        signal=turn.signal,
        follow_up=turn.follow_up,
        plan_cue=turn.plan_cue,
        cancel=HostStop(state.get("stop_event")),
        llm=backend,
    )
    text, given, generated = "", "", False
    for chunk, by_model in spoken:
        text += chunk
        generated = generated or by_model
        if not generated:
            continue  # Joi's forced words wait for the model's first: until then the host may
            # still fall back to its own generation (steps_or_one_pass)
        shown = without_echo(text, prompt, turn)
        if shown != given:
            given = shown
            yield shown
