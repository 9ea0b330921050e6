"""The standalone chat tab: Joi's dialogue streaming, the inner voices apart, and what was recalled.

The tab only *watches* the person's :class:`ChatRoom`; the room answers messages in order
on its own thread. (No ``from __future__ import annotations``: gradio finds
``gr.Request`` parameters by their real annotation.)
"""

import time
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from ..chat_room import ChatRoom, ChatRooms, Exchange, RoomView, Status
from ..cognition.reply_format import labelled_thoughts
from ..cognition.text_input import InputError
from ..person_name import CALL_ME_KEY, chosen_name, clean_name
from ..persona import Character
from .compat import GRADIO_MAJOR, accepts, listen, make
from .notice import ACKNOWLEDGED_KEY, first_start_notice
from .plan_views import plans_list
from .send_order import SendOrder, message_number
from .views import as_plain_markdown, as_safe_markdown, recalled_html, thoughts_html

NOTICE = (
    "Joi is an AI **coach**, not a therapist or a doctor, and can be wrong. "
    "If you are in danger or thinking about harming yourself, contact your local emergency "
    "number or a crisis line now. Your conversations stay on this machine."
)
CHAT_ONLY_NOTICE = (
    "*This model server is used for chat only, so Joi answers in one pass: its thoughts may be "
    "thin and it cannot answer from memory in its own step (start Joi with `--api-template`).*"
)
THOUGHTS_TITLE = "💭 Joi's inner voices"
CARE_SHOWN_BEFORE = "> 🆘 *Crisis lines were shown here. They are always in the **Safety** tab.*"
STATUS_TEXT = {
    Status.QUEUED: "waiting for Joi to finish the previous message…",
    Status.ANSWERING: "Joi is thinking…",
    Status.DONE: "",
    Status.STOPPED: "stopped",
    Status.FAILED: "",
}
ProfileOf = Callable[[gr.Request], str]
# Gradio can run an event's ``js`` (and read the textbox) a moment after Enter, so a
# message typed quickly after another could be read in its place and the first lost.
# The page therefore takes each message from the box the instant Enter (or Send) is
# pressed, numbers it, and the submit event picks the oldest one taken. The requests may
# still reach the server out of order, so the server queues them by number (SendOrder).
CAPTURE_SENDS_JS = """() => {
  if (window.joiTakeMessage) return [];
  const taken = [];
  let numbered = 0;
  const takeNow = () => {
    const box = document.querySelector('#joi-input textarea');
    if (!box) return;
    numbered += 1;
    taken.push([box.value, String(numbered)]);
    box.value = '';
    box.dispatchEvent(new Event('input', { bubbles: true }));
  };
  document.addEventListener('keydown', (e) => {
    const box = e.target;
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && box && box.matches
        && box.matches('#joi-input textarea')) takeNow();
  }, true);
  document.addEventListener('click', (e) => {
    if (e.target && e.target.closest && e.target.closest('#joi-send')) takeNow();
  }, true);
  window.joiTakeMessage = (fallback) => (taken.length ? taken.shift() : [fallback, '']);
  return [];
}"""

# The submit's own step: the message taken at Enter and its number, else (no capture
# script) the box's value and no number, emptying the box the moment a message is sent, so
# whatever the person types next is never overwritten by a late server update (the server
# never writes the box back, except to return a message it refused).
TAKE_MESSAGE_JS = """(text) => {
  if (window.joiTakeMessage) return window.joiTakeMessage(text);
  const box = document.querySelector('#joi-input textarea');
  if (box) { box.value = ''; box.dispatchEvent(new Event('input', { bubbles: true })); }
  return [text, ''];
}"""


def _uses_messages() -> bool:
    return GRADIO_MAJOR >= 6 or accepts(gr.Chatbot, "type")


class ChatTab:
    """Builds the chat components and handlers inside the current gradio Blocks."""

    def __init__(
        self, rooms: ChatRooms, character: Character, profile_of: ProfileOf, user_name_of: ProfileOf
    ) -> None:
        self.rooms = rooms
        self.character = character
        self.profile_of = profile_of
        self.user_name_of = user_name_of
        self.messages_format = _uses_messages()
        self.send_order = SendOrder()

    def _room(self, request: gr.Request) -> ChatRoom:
        return self.rooms.room(self.profile_of(request))

    # -- rendering ----------------------------------------------------------------------
    def _turns(self, view: RoomView) -> list[tuple[str, str, str, str, str]]:
        """(user text, care card, empathetic, therapeutic, Joi's text) per turn, oldest first."""
        turns: list[tuple[str, str, str, str, str]] = []
        pending_user: str | None = None
        for line in view.history:
            if not line.from_joi:
                if pending_user is not None:
                    turns.append((pending_user, "", "", "", ""))
                pending_user = line.text
            else:
                care = CARE_SHOWN_BEFORE if line.care_shown else ""
                turns.append((pending_user or "", care, line.empathetic, line.therapeutic, line.text))
                pending_user = None
        if pending_user is not None:
            turns.append((pending_user, "", "", "", ""))
        for e in view.exchanges:
            turns.append((e.text, e.care, e.empathetic, e.therapeutic, self._joi_text(e)))
        return turns

    @staticmethod
    def _joi_text(e: Exchange) -> str:
        if e.status is Status.QUEUED:
            return "⏳ *queued: Joi will answer this next*"
        if e.status is Status.FAILED:
            return f"⚠️ {as_plain_markdown(e.error)}"
        if e.status is Status.DONE and not e.dialogue:
            return "*(Joi had no words this time: only thoughts. Try saying a little more.)*"
        text = as_safe_markdown(e.dialogue) if e.dialogue else "…"
        return text + (" *(stopped)*" if e.status is Status.STOPPED else "")

    def render_chat(self, view: RoomView) -> list[Any]:
        greeting = as_safe_markdown(self.character.greeting) if self.character.greeting else ""
        if self.messages_format:
            messages: list[dict[str, Any]] = []
            if greeting:
                messages.append({"role": "assistant", "content": greeting})
            for user, care, empathetic, therapeutic, joi in self._turns(view):
                if user:
                    messages.append({"role": "user", "content": as_plain_markdown(user)})
                if care:  # already escaped markdown (safety.response.CareCard.markdown)
                    messages.append({"role": "assistant", "content": care})
                if empathetic or therapeutic:
                    thoughts = as_plain_markdown(labelled_thoughts(empathetic, therapeutic))
                    messages.append(
                        {"role": "assistant", "content": thoughts, "metadata": {"title": THOUGHTS_TITLE}}
                    )
                if joi:
                    messages.append({"role": "assistant", "content": joi})
            return messages
        pairs: list[list[str | None]] = [[None, greeting]] if greeting else []
        for user, care, empathetic, therapeutic, joi in self._turns(view):
            thoughts = f"{care}\n\n" if care else ""
            if empathetic or therapeutic:
                thoughts += (
                    f"> *{THOUGHTS_TITLE}*  \n> {as_plain_markdown(empathetic)}  \n"
                    f"> {as_plain_markdown(therapeutic)}\n\n"
                )
            pairs.append([as_plain_markdown(user) if user else None, thoughts + joi])
        return pairs

    @staticmethod
    def render_thoughts(view: RoomView) -> str:
        if view.exchanges:
            e = view.exchanges[-1]
            current = next((x for x in view.exchanges if x.status is Status.ANSWERING), e)
            waiting = sum(1 for x in view.exchanges if x.status is Status.QUEUED)
            status = STATUS_TEXT[current.status] + (f" ({waiting} more queued)" if waiting else "")
            return thoughts_html(current.empathetic, current.therapeutic, status)
        last = next((line for line in reversed(view.history) if line.from_joi), None)
        if last is None:
            return thoughts_html("", "", "Joi's inner voices appear here while Joi replies.")
        return thoughts_html(last.empathetic, last.therapeutic)

    def _outputs(self, view: RoomView, room: ChatRoom) -> tuple[Any, str, str, Any]:
        busy = any(e.status in (Status.ANSWERING, Status.QUEUED) for e in view.exchanges)
        plans = gr.update() if busy else self.render_plans(room)  # not read again for every streamed word
        return self.render_chat(view), self.render_thoughts(view), recalled_html(view.recalled), plans

    def render_plans(self, room: ChatRoom) -> str:
        """The person's open plans, as Joi noted them (read-only; edited in the Memory tab)."""
        return plans_list(
            self.rooms.coach.bank(room.profile).plans.active(), self.rooms.coach.clock(), active_only=True
        )

    def _conversation_choices(self, room: ChatRoom, current: str) -> Any:
        infos = room.conversations()
        choices = [(info.label(), info.id) for info in infos]
        if current not in {info.id for info in infos}:
            choices.insert(0, ("new conversation", current))
        return gr.update(choices=choices, value=current)

    # -- handlers -----------------------------------------------------------------------
    def send(self, text: str, number: str, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """Queue the message (after this page's earlier ones) and stream the room until its reply."""
        room = self._room(request)
        try:
            with self.send_order.turn(getattr(request, "session_hash", None), message_number(number)):
                exchange = room.send(text or "", self.user_name_of(request))
        except InputError as exc:
            gr.Warning(f"Not sent: {exc}")
            yield (
                *self._outputs(room.view(), room),
                gr.update(value=text) if (text or "").strip() else gr.update(),
            )
            return
        yield (*self._outputs(room.view(), room), gr.update())
        for view in room.watch(until=exchange):
            mine = next((e for e in view.exchanges if e.ticket == exchange.ticket), None)
            if mine is not None and mine.status is Status.QUEUED:
                continue  # the reply before it is streaming; its watcher updates the page
            yield (*self._outputs(view, room), gr.update())

    def load(self, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        room = self._room(request)
        view = room.view()
        yield (*self._outputs(view, room), self._conversation_choices(room, view.conversation))
        for view in room.watch():  # a reply still streaming after a reload keeps streaming here
            yield (*self._outputs(view, room), gr.update())

    def notice_needed(self, request: gr.Request) -> Any:
        """Show the first-start notice until this person has closed it once."""
        bank = self.rooms.coach.bank(self.profile_of(request))
        return gr.update(visible=not bank.get_meta(ACKNOWLEDGED_KEY))

    def acknowledge(self, name: str, request: gr.Request) -> tuple[Any, Any]:
        """Close the first-start notice, keeping the name typed there (if any)."""
        bank = self.rooms.coach.bank(self.profile_of(request))
        if (name or "").strip():
            saved = self.save_name(name, request)
            if not chosen_name(bank):  # not usable: the notice stays, with the warning shown
                return gr.update(visible=True), saved
        bank.set_meta(ACKNOWLEDGED_KEY, str(int(time.time())))
        return gr.update(visible=False), gr.update(value=chosen_name(bank))

    def save_name(self, name: str, request: gr.Request) -> Any:
        """Keep the name Joi should call the person (a warning, and nothing kept, if unusable)."""
        bank = self.rooms.coach.bank(self.profile_of(request))
        try:
            cleaned = clean_name(name, self.character.name)
        except InputError as exc:
            gr.Warning(f"Name not saved: {exc}")
            return gr.update(value=chosen_name(bank))
        bank.set_meta(CALL_ME_KEY, cleaned)
        gr.Info(f"Joi will call you {cleaned}.")
        return gr.update(value=cleaned)

    def names_shown(self, request: gr.Request) -> tuple[Any, Any]:
        """The chosen name in the first-start box and the "You" box ("" when none yet)."""
        name = chosen_name(self.rooms.coach.bank(self.profile_of(request)))
        return gr.update(value=name), gr.update(value=name)

    def drafting(self, text: str, request: gr.Request) -> None:
        """The person typed: Joi's model reads the reply's prompt for the draft meanwhile."""
        self._room(request).draft(text or "", self.user_name_of(request))

    def stop(self, request: gr.Request) -> None:
        self._room(request).stop()

    def new_conversation(self, request: gr.Request) -> tuple[Any, ...]:
        room = self._room(request)
        conversation = room.new_conversation()
        return (*self._outputs(room.view(), room), self._conversation_choices(room, conversation))

    def switch(self, conversation: str, request: gr.Request) -> tuple[Any, ...]:
        room = self._room(request)
        if conversation and conversation != room.view().conversation:
            room.switch(conversation)
        view = room.view()
        return (*self._outputs(view, room), gr.update())

    # -- layout -------------------------------------------------------------------------
    def build(self) -> tuple[Callable[..., Any], list[Any]]:
        """Lay out the tab; returns (load handler, its outputs) for the app's page load."""
        with make(gr.Group, visible=False, elem_id="joi-first-start") as first_start:
            make(
                gr.Markdown,
                value=first_start_notice(self.rooms.coach.data_dir),
                elem_id="joi-first-start-text",
            )
            first_name = make(
                gr.Textbox,
                label="What should Joi call you?",
                placeholder="a first name or nickname (you can change it later)",
                max_lines=1,
                elem_id="joi-first-start-name",
            )
            understood = make(
                gr.Button, value="I understand", variant="primary", elem_id="joi-first-start-ok"
            )
        self.first_start = first_start
        notice = NOTICE if self.rooms.coach.llm.supports_prefix else f"{NOTICE} {CHAT_ONLY_NOTICE}"
        make(gr.Markdown, value=notice, elem_classes=["joi-notice"], elem_id="joi-notice")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = make(
                    gr.Chatbot,
                    value=[],
                    type="messages",
                    label=self.character.name,
                    elem_id="joi-chat",
                    height=520,
                    render_markdown=True,
                    sanitize_html=True,
                    show_copy_button=False,
                )
                with gr.Row():
                    message = make(
                        gr.Textbox,
                        placeholder="Tell Joi what's on your mind… (Enter sends, Shift+Enter for a new line)",
                        show_label=False,
                        lines=1,
                        max_lines=8,
                        scale=5,
                        elem_id="joi-input",
                        autofocus=True,
                    )
                    with gr.Column(scale=1, min_width=120):
                        send = make(gr.Button, value="Send", variant="primary", elem_id="joi-send")
                        stop = make(gr.Button, value="Stop", elem_id="joi-stop")
                        number = make(gr.Textbox, value="", visible=False, elem_id="joi-send-number")
                with gr.Row():
                    conversation = make(
                        gr.Dropdown, choices=[], label="Conversation", scale=3, elem_id="joi-conversation"
                    )
                    new = make(gr.Button, value="New conversation", scale=1, elem_id="joi-new-conversation")
            with gr.Column(scale=2):
                gr.Markdown("#### Joi's inner voices")
                thoughts = make(gr.HTML, value="", elem_id="joi-thoughts")
                with make(gr.Accordion, label="Recalled for the last message (and why)", open=False):
                    recalled = make(gr.HTML, value="", elem_id="joi-recalled")
                with make(
                    gr.Accordion, label="Plans Joi keeps with you", open=True, elem_id="joi-chat-plans-box"
                ):
                    plans = make(gr.HTML, value="", elem_id="joi-chat-plans")
                with make(gr.Accordion, label="You", open=False, elem_id="joi-you-box"):
                    you_name = make(gr.Textbox, label="Joi calls you", max_lines=1, elem_id="joi-you-name")
                    save_you = make(gr.Button, value="Save name", size="sm", elem_id="joi-you-save")
        self.name_boxes = [first_name, you_name]
        listen(understood.click, self.acknowledge, [first_name], [first_start, you_name])
        listen(save_you.click, self.save_name, [you_name], [you_name])
        listen(you_name.submit, self.save_name, [you_name], [you_name])

        shown = [chatbot, thoughts, recalled, plans]
        for trigger in (message.submit, send.click):
            listen(
                trigger,
                self.send,
                [message, number],
                [*shown, message],
                js=TAKE_MESSAGE_JS,
                concurrency_limit=None,
                trigger_mode="multiple",
                show_progress="hidden",
            )
        if self.rooms.coach.llm.can_warm:  # only a model in this process reads ahead
            listen(
                message.input,
                self.drafting,
                [message],
                None,
                queue=False,
                trigger_mode="always_last",
                show_progress="hidden",
                concurrency_limit=None,
            )
        listen(stop.click, self.stop, None, None, concurrency_limit=None)
        listen(new.click, self.new_conversation, None, [*shown, conversation])
        listen(conversation.input, self.switch, [conversation], [*shown, conversation])
        return self.load, [*shown, conversation]
