"""A profile's live chat: messages answered strictly in order, whoever is watching.

Every message a person sends becomes an :class:`Exchange` in their room's queue. One
worker thread per room answers the queue in order, so a message sent while Joi is still
replying waits its turn instead of being dropped or interleaved. User interfaces only
*watch* a room (``watch`` yields whenever something changed); a closed browser tab never
stops an answer, and a reloaded one sees the reply still streaming.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from functools import partial

from .coach import CareShown, Coach, Recalled, TurnDone
from .cognition.text_input import clean_message
from .cognition.voices import Section, VoiceDelta
from .conversations import (
    ChatLine,
    current_conversation,
    list_conversations,
    load_transcript,
    new_conversation_id,
    set_current_conversation,
)
from .llm.base import CancelToken

log = logging.getLogger(__name__)
_tickets = itertools.count(1)


class Status(str, Enum):
    QUEUED = "queued"
    ANSWERING = "answering"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass
class Exchange:
    """One message and Joi's answer to it, as it happens."""

    text: str
    user_name: str
    conversation: str
    ticket: int = field(default_factory=lambda: next(_tickets))
    sent_at: float = field(default_factory=time.time)
    status: Status = Status.QUEUED
    empathetic: str = ""
    therapeutic: str = ""
    dialogue: str = ""
    care: str = ""  # the care card (markdown) when the message signals a crisis
    error: str = ""
    cancel: CancelToken = field(default_factory=CancelToken)

    @property
    def finished(self) -> bool:
        return self.status in (Status.DONE, Status.STOPPED, Status.FAILED)


@dataclass(frozen=True)
class RoomView:
    """A consistent copy of a room for rendering."""

    conversation: str
    history: tuple[ChatLine, ...]
    exchanges: tuple[Exchange, ...]
    recalled: Recalled | None
    version: int


class ChatRoom:
    """One profile's chat: its transcript, its queue, and the thread that answers it."""

    def __init__(self, coach: Coach, profile: str) -> None:
        self.coach = coach
        self.profile = profile
        self._cond = threading.Condition()
        self._queue: list[Exchange] = []
        self._exchanges: list[Exchange] = []  # this conversation's, since it was loaded
        self._recalled: Recalled | None = None
        self._version = 0
        self._closed = False
        bank = coach.bank(profile)
        self._conversation = current_conversation(bank)
        self._history = self._load_history()
        coach.catch_up(profile)  # ratings a previous run did not get to
        self._worker = threading.Thread(target=self._answer_in_order, name="joi-chat", daemon=True)
        self._worker.start()

    # -- what the person does -----------------------------------------------------------
    def send(self, text: str, user_name: str) -> Exchange:
        """Queue a message; raises InputError (nothing queued or stored) when unusable."""
        message = clean_message(text)
        with self._cond:
            exchange = Exchange(message, user_name, self._conversation)
            self._queue.append(exchange)
            self._exchanges.append(exchange)
            self._changed()
        return exchange

    def draft(self, text: str, user_name: str) -> None:
        """The person is typing ``text``: the model reads the reply's prompt ahead (see
        :meth:`Coach.prepare`). An emptied box (a message just sent) changes nothing."""
        if text.strip():
            self.coach.prepare(self.profile, text, user_name=user_name, conversation=self._conversation)

    def stop(self) -> None:
        """Stop the reply being written now (what was said so far is kept)."""
        with self._cond:
            for exchange in self._queue[:1]:
                exchange.cancel.cancel()

    def new_conversation(self) -> str:
        return self.switch(new_conversation_id())

    def switch(self, conversation: str) -> str:
        """Continue another conversation (after the queued messages of this one are answered)."""
        with self._cond:
            self._cond.wait_for(lambda: not self._queue or self._closed)
            set_current_conversation(self.coach.bank(self.profile), conversation)
            self._conversation = conversation
            self._exchanges = []
            self._recalled = None
            self._history = self._load_history()
            self._changed()
            return conversation

    def conversations(self) -> list:
        return list_conversations(self.coach.bank(self.profile))

    def reload(self) -> None:
        """Read the transcript again after something was forgotten: finished exchanges (now
        in the store, or forgotten from it) leave the screen; a forgotten current
        conversation is replaced by the stored choice or a new one."""
        with self._cond:
            self._conversation = current_conversation(self.coach.bank(self.profile))
            self._exchanges = [e for e in self._exchanges if not e.finished]
            self._recalled = None
            self._history = self._load_history()
            self._changed()

    # -- what interfaces read -----------------------------------------------------------
    def view(self) -> RoomView:
        with self._cond:
            return RoomView(
                self._conversation,
                tuple(self._history),
                tuple(Exchange(**vars(e)) for e in self._exchanges),
                self._recalled,
                self._version,
            )

    def _changed_since(self, version: int) -> bool:
        return self._version != version or self._closed

    def watch(self, until: Exchange | None = None, min_interval: float = 0.08) -> Iterator[RoomView]:
        """Yield a view now and after every change, until ``until`` is finished (or idle)."""
        seen = -1
        while True:
            with self._cond:
                self._cond.wait_for(partial(self._changed_since, seen), timeout=30)
                seen = self._version
                done = self._closed or (until.finished if until else not self._queue)
            yield self.view()
            if done:
                return
            time.sleep(min_interval)  # coalesce bursts of tokens into one update

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue, timeout)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for exchange in self._queue:
                exchange.cancel.cancel()
            self._changed()

    # -- the worker ---------------------------------------------------------------------
    def _changed(self) -> None:
        self._version += 1
        self._cond.notify_all()

    def _load_history(self) -> list[ChatLine]:
        bank = self.coach.bank(self.profile)
        return load_transcript(bank, self._conversation, self.coach.character.name)

    def _answer_in_order(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if self._closed:
                    return
                exchange = self._queue[0]
                exchange.status = Status.ANSWERING
                self._changed()
            try:
                self._answer(exchange)
            except Exception as exc:  # the person sees why; the log gets no memory text
                log.exception("reply failed")
                with self._cond:
                    exchange.status = Status.FAILED
                    exchange.error = f"Joi could not answer ({type(exc).__name__}: {exc})"
            finally:
                with self._cond:
                    if not exchange.finished:
                        exchange.status = Status.DONE
                    self._queue.pop(0)
                    self._changed()

    def _answer(self, exchange: Exchange) -> None:
        events = self.coach.reply(
            self.profile,
            exchange.text,
            user_name=exchange.user_name,
            conversation=exchange.conversation,
            cancel=exchange.cancel,
        )
        for event in events:
            with self._cond:
                if isinstance(event, CareShown):
                    exchange.care = event.card.markdown()
                elif isinstance(event, Recalled):
                    self._recalled = event
                elif isinstance(event, VoiceDelta):
                    if event.section is Section.EMPATHETIC:
                        exchange.empathetic += event.text
                    elif event.section is Section.THERAPEUTIC:
                        exchange.therapeutic += event.text
                    else:
                        exchange.dialogue += event.text
                elif isinstance(event, TurnDone):
                    reply = event.turn.reply
                    exchange.empathetic = reply.empathetic
                    exchange.therapeutic = reply.therapeutic
                    exchange.dialogue = reply.dialogue
                    exchange.status = Status.STOPPED if event.turn.interrupted else Status.DONE
                self._changed()


class ChatRooms:
    """One room per profile, opened on first use."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self._rooms: dict[str, ChatRoom] = {}
        self._lock = threading.Lock()
        coach.on_forget(self._forgotten)

    def _forgotten(self, profile: str) -> None:
        with self._lock:
            room = self._rooms.get(profile)
        if room is not None:
            room.reload()

    def room(self, profile: str) -> ChatRoom:
        with self._lock:
            room = self._rooms.get(profile)
            if room is None:
                room = self._rooms[profile] = ChatRoom(self.coach, profile)
            return room

    def close(self) -> None:
        with self._lock:
            for room in self._rooms.values():
                room.close()
            self._rooms.clear()
