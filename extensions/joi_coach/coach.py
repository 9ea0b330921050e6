"""One coach turn, end to end, plus the after-reply thinking that keeps Joi's memory alive.

    coach = Coach(llm, embedder, data_dir)
    for event in coach.reply("alice", "I finally went for a run today"):
        ...  # Recalled, then VoiceDelta (thoughts and dialogue as they stream), then TurnDone

The reply path does only what the reply needs: embed the message once, retrieve each
stream, build the prompt, stream and parse, store the turn. How the reply is generated is
:mod:`.cognition.reply_steps`; importance ratings and reflection (:mod:`.cognition.thinking`)
run afterwards on a background worker at lower LLM priority.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from .cognition.background import BackgroundWorker
from .cognition.importance import ImportanceRater
from .cognition.memory_answer import NOTES, Note, asks_about_the_past, notes_from
from .cognition.plan_cue_rules import stated_commitment
from .cognition.plan_use import PlanCue, cheers_on, choose_cue, heard_cue, plans_block
from .cognition.prompt import build_messages, key_memory
from .cognition.reply_steps import LineFrame, first_step, stream_reply
from .cognition.review import make_review, review_due, store_review
from .cognition.text_input import InputError, clean_message
from .cognition.thinking import USER_NAME, Thinking
from .cognition.voices import ParsedReply, Section, VoiceDelta, VoiceParser
from .config import CoachSettings
from .llm.base import CancelToken, ChatMessage, LLMBackend
from .llm.priority import PriorityLLM
from .llm.warming import PromptWarmer
from .memory import backup as backups
from .memory.bank import MemoryBank
from .memory.embeddings import Embedder
from .memory.files import erase_exports
from .memory.models import Memory, NewMemory, Stream
from .memory.plans import PlanEntry
from .memory.retrieval import Recollection
from .persona import Character
from .profile_settings import ProfileSettings
from .profiles import ProfileRegistry
from .safety.detection import CONTEXT_TURNS, WARM_UP_TEXT, CrisisDetector, CrisisSignal
from .safety.language import guess_language
from .safety.llm_opinion import ask_model
from .safety.plan import SafetyPlan, load_plan
from .safety.resources import CrisisDirectory
from .safety.response import (
    CRISIS_IMPORTANCE,
    CRISIS_SOURCE,
    FOLLOW_UP_KEY,
    CareCard,
    build_card,
    crisis_closing,
    crisis_instruction,
    crisis_note,
    crisis_opening,
    crisis_thought_check,
    crisis_thought_note,
    follow_up_note,
    follow_up_record,
    gives_advice,
)

log = logging.getLogger(__name__)
# Memory ids per stream in a prompt read ahead (kept by the next recall where they still nearly rank).
HeldMemories = dict[Stream, list[int]]
OWN_LINES_REMEMBERED = 30  # Joi's latest lines and thoughts per stream the spoken line must not repeat


@dataclass(frozen=True)
class Recalled:
    """What was recalled for this turn, per stream, with score breakdowns."""

    memories: dict[Stream, list[Recollection]]


@dataclass(frozen=True)
class Turn:
    user_memory_id: int
    reply: ParsedReply
    raw: str
    memory_ids: dict[Stream, list[int]]
    timings_ms: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    crisis: CrisisSignal | None = None
    care: str = ""  # the care card shown above the reply (markdown), "" when no crisis


@dataclass(frozen=True)
class Assessment:
    """What a message asks of the reply before anything else: a crisis (its signal and care
    card), or else the check-in an earlier crisis asked for ("" for none)."""

    signal: CrisisSignal | None = None
    card: CareCard | None = None
    follow_up: str = ""
    plan_cue: PlanCue | None = None  # what the person's plans ask of the reply (no crisis)

    def instruction(self, user_name: str) -> str:
        """The model's extra instruction for this reply ("" for none)."""
        if self.signal is not None:
            return crisis_instruction(user_name, self.signal)
        cue = self.plan_cue.instruction if self.plan_cue is not None else ""
        return "\n\n".join(part for part in (self.follow_up, cue) if part)


@dataclass(frozen=True)
class CareShown:
    """The message signals a crisis: show this care card now, before the reply streams."""

    signal: CrisisSignal
    card: CareCard


@dataclass(frozen=True)
class TurnDone:
    turn: Turn


Event = CareShown | Recalled | VoiceDelta | TurnDone


class Coach:
    """Joi's engine: memory per profile, one LLM, background thinking."""

    def __init__(
        self,
        llm: LLMBackend,
        embedder: Embedder,
        data_dir: Path,
        *,
        character: Character | None = None,
        settings: CoachSettings | None = None,
        crisis_lines: CrisisDirectory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.clock = clock  # "now" for a turn given none (tests and the app's --clock-file move it)
        self.llm = llm if isinstance(llm, PriorityLLM) else PriorityLLM(llm)
        self.embedder = embedder
        self.character = character or Character.load()
        self.settings = settings or CoachSettings()
        self._profiles = ProfileRegistry(Path(data_dir), embedder, self.settings.retrieval)
        self.profile_settings = ProfileSettings(self.settings, self._profiles.folder)
        self.importance = ImportanceRater(self.llm.complete_background, coach=self.character.name)
        self.thinking = Thinking(self.llm, embedder, self.importance, self.character.name)
        self._worker = BackgroundWorker(self._think_after_reply)
        self._warmer = PromptWarmer(self.llm)
        self._drafted: dict[tuple[str, str], HeldMemories] = {}  # (profile, conversation) -> last draft's
        self.crisis_lines = crisis_lines or CrisisDirectory.load()
        self.crisis_detector = CrisisDetector(embedder if self.settings.safety.similarity else None)
        self._forget_listeners: list[Callable[[str], None]] = []
        self._plan_vectors: dict[str, np.ndarray] = {}
        self._query_vectors: dict[str, np.ndarray] = {}

    # -- the turn -----------------------------------------------------------------------
    def reply(
        self,
        profile: str,
        text: str,
        *,
        user_name: str = "User",
        conversation: str = "default",
        now: float | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[Event]:
        """Answer one message; yields events. Raises InputError before storing bad input."""
        message = clean_message(text)
        bank = self.bank(profile)
        settings = self.settings_for(profile)
        self._warmer.drop()  # the draft read ahead is this message, or older
        with self.turn_lock(profile):
            read_ahead = self._drafted.pop((profile, conversation), None)
            yield from self._turn(bank, settings, message, user_name, conversation, now, cancel, read_ahead)
        self.prepare(profile, "", user_name=user_name, conversation=conversation)
        if settings.background:
            self.queue_thinking(profile)

    def warm_up(self) -> None:
        """Run the embedding models once (recall's and the crisis screen's), so the first
        message does not pay their first-call costs (1 to 2 s on a CPU). Started on a thread by
        the app and the webui extension once they are up."""
        started = time.perf_counter()
        try:
            self.embedder.embed_query(WARM_UP_TEXT)
            self.crisis_detector.warm_up()
        except Exception as exc:  # the first message pays the cost instead, and says why if it fails
            log.warning("warming the models up failed (%s)", type(exc).__name__)
            return
        log.info("models warmed up in %.1f s", time.perf_counter() - started)

    def warm_up_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.warm_up, name="joi-warm-up", daemon=True)
        thread.start()
        return thread

    # -- reading ahead while the person types ----------------------------------------------
    def prepare(
        self, profile: str, draft: str, *, user_name: str = "User", conversation: str = "default"
    ) -> None:
        """The person is typing ``draft`` ("": Joi just replied): have the model read the
        next reply's prompt as it would be now, at low priority, so that sending it finds most
        of it read (:mod:`.llm.warming`). Only on a backend that can (the embedded model)."""
        if self.llm.can_warm and self.settings_for(profile).read_ahead:
            build = partial(self.draft_prompt, profile, draft, user_name, conversation)
            self._warmer.offer(build, typing=bool(draft.strip()))

    def draft_prompt(
        self, profile: str, draft: str, user_name: str, conversation: str
    ) -> tuple[list[ChatMessage], str] | None:
        """The reply's prompt for ``draft`` and its forced start, recalled now without marking
        anything as recalled (None for a draft that could not be sent)."""
        try:
            message = clean_message(draft) if draft.strip() else ""
        except InputError:
            return None
        bank, settings = self.bank(profile), self.settings_for(profile)
        with self.turn_lock(profile):  # after a reply being stored, never beside it
            now = self.clock()
            recalled: dict[Stream, list[Recollection]] = {}
            key = (profile, conversation)
            if not message:  # the persona and the dialogue so far: what every next prompt starts with
                history = self.recent_dialogue(bank, settings, conversation)
                self._drafted.pop(key, None)
            else:
                history, _, recalled = self.recall(
                    bank, settings, message, conversation, now, touch=False, keep=self._drafted.get(key)
                )
                self._drafted[key] = held_memories(recalled)
            messages = self.turn_messages(bank, settings, user_name, recalled, history, message, now)
        guided = settings.prime_format and self.llm.supports_prefix
        return first_step(messages, self.character.name, user_name, guided)

    def turn_messages(
        self,
        bank: MemoryBank,
        settings: CoachSettings,
        user_name: str,
        recalled: dict[Stream, list[Recollection]],
        history: list[Memory],
        message: str,
        now: float,
    ) -> list[ChatMessage]:
        """The prompt a turn sends and a draft reads ahead: persona, dialogue, memories, plans
        (none before there is a message), the message."""
        plans = self.plans_in_prompt(bank, settings, user_name, now) if message else ""
        return build_messages(self.character, user_name, recalled, history, message, now, plans)

    # -- for hosts that generate the reply themselves (the webui) -------------------------
    @property
    def data_dir(self) -> Path:
        """The folder that holds every profile's memories."""
        return self._profiles.data_dir

    def turn_lock(self, profile: str) -> threading.Lock:
        """Held while a turn of ``profile`` is stored: one turn at a time per person."""
        return self._profiles.turn_lock(profile)

    def note_host_activity(self) -> None:
        """The host is generating: background thinking waits for the quiet after it."""
        self.llm.note_foreground()

    def after_host_reply(self, profile: str) -> None:
        """A reply the host generated was stored: think about it once the host is quiet."""
        if self.settings_for(profile).background:
            self.llm.note_foreground()
            self.queue_thinking(profile)

    def queue_thinking(self, profile: str) -> None:
        """Rate and reflect on ``profile``'s new memories on the background worker."""
        self._worker.submit(profile)

    # -- per-profile settings -----------------------------------------------------------
    def bank(self, profile: str) -> MemoryBank:
        """The profile's memory bank, ranking with the profile's own settings."""
        bank = self._profiles.bank(profile)
        retrieval = self.settings_for(profile).retrieval
        if bank.settings != retrieval:
            bank.settings = retrieval
        return bank

    def settings_for(self, profile: str) -> CoachSettings:
        return self.profile_settings.get(profile)

    def update_settings(self, profile: str, changes: dict) -> CoachSettings:
        """Validate, persist and apply a profile's settings changes; raises ValueError."""
        settings = self.profile_settings.update(profile, changes)
        self.bank(profile)
        return settings

    def _turn(
        self,
        bank: MemoryBank,
        settings: CoachSettings,
        message: str,
        user_name: str,
        conversation: str,
        now: float | None,
        cancel: CancelToken | None,
        read_ahead: HeldMemories | None = None,
    ) -> Iterator[Event]:
        """One turn; ``read_ahead``: the memories of the draft's prompt read while the person typed."""
        started = time.perf_counter()
        now = self.clock() if now is None else now
        assessed = self.assess(bank, settings, message, user_name, conversation, now)
        signal, card, follow_up, cue = assessed.signal, assessed.card, assessed.follow_up, assessed.plan_cue
        timings = {"safety": (time.perf_counter() - started) * 1000}
        if signal is not None and card is not None:
            yield CareShown(signal, card)
        history, query_vector, recalled = self.recall(
            bank, settings, message, conversation, now, keep=read_ahead
        )
        timings["recall"] = (time.perf_counter() - started) * 1000
        yield Recalled(recalled)

        last_joi = next((m.text for m in reversed(history) if m.speaker == self.character.name), "")
        user_memory_id = self.remember_message(
            bank, message, user_name, conversation, now, query_vector, context=last_joi
        )
        messages = self.turn_messages(bank, settings, user_name, recalled, history, message, now)
        timings["prompt"] = (time.perf_counter() - started) * 1000

        parser, raw, finished = VoiceParser(), [], False
        try:
            spoken = self.speak(
                bank,
                settings,
                messages,
                message,
                user_name,
                recalled,
                now,
                query_vector=query_vector,
                exclude=user_memory_id,
                signal=signal,
                follow_up=follow_up,
                plan_cue=cue,
                cancel=cancel,
            )
            for chunk, generated in spoken:
                if generated and "first_token" not in timings:
                    timings["first_token"] = (time.perf_counter() - started) * 1000
                raw.append(chunk)
                yield from parser.feed(chunk)
            yield from parser.finish()
            finished = True
        finally:
            if not finished:  # consumer went away or the LLM failed: keep what was said
                parser.finish()
            reply = parser.result()
            memory_ids = self.remember_reply(bank, reply, message, now, conversation)
            if signal is not None and card is not None:
                memory_ids[Stream.THERAPEUTIC] = [
                    *memory_ids.get(Stream.THERAPEUTIC, []),
                    self.remember_crisis(bank, signal, card, user_name, conversation, now),
                ]
            elif follow_up:
                self.followed_up(bank)
            if cue is not None and finished:
                self.plans_used(bank, cue, now)
            timings["total"] = (time.perf_counter() - started) * 1000
            interrupted = not finished or bool(cancel and cancel.cancelled)
            turn = Turn(
                user_memory_id,
                reply,
                "".join(raw),
                memory_ids,
                timings,
                interrupted,
                crisis=signal,
                care=card.markdown() if card is not None else "",
            )
        yield TurnDone(turn)

    # -- the pieces of a turn (also used by hosts that generate the reply themselves) ----
    def assess(
        self,
        bank: MemoryBank,
        settings: CoachSettings,
        message: str,
        user_name: str,
        conversation: str,
        now: float,
    ) -> Assessment:
        """Does ``message`` signal a crisis (then its card), or is a check-in due after an
        earlier one (the first reply of a later conversation)? Nothing is stored.

        The message is screened with the person's last turns of this conversation; when the
        learned model is unsure, the person's own model is asked (``safety.llm_opinion``)."""
        signal, earlier = None, []
        if message:
            earlier = self.earlier_messages(bank, conversation, user_name, message)
            screening = self.crisis_detector.screen(message, earlier)
            signal = screening.signal
            if signal is None and screening.uncertain is not None and settings.safety.llm_opinion:
                signal = ask_model(self.llm, message, earlier, screening.uncertain)
        if signal is not None:
            # (not logged: a log is no place for what a person is going through)
            language = guess_language(message, earlier)
            return Assessment(signal, self.care_card(bank, settings, signal, language))
        follow_up = follow_up_note(bank.get_meta(FOLLOW_UP_KEY), user_name, now, conversation)
        cue = None
        if message and not follow_up and settings.plans:
            cue = self.plan_cue(bank, message, user_name, conversation, now)
        return Assessment(follow_up=follow_up, plan_cue=cue)

    def plan_cue(
        self, bank: MemoryBank, message: str, user_name: str, conversation: str, now: float
    ) -> PlanCue | None:
        """What the person's active plans ask of the reply to ``message`` (None: nothing)."""
        entries = bank.plans.active()
        if not entries:  # nothing noted yet: only a step the person states now is heard
            stated = stated_commitment(message)
            return heard_cue(user_name, stated) if stated else None
        recent = bank.memories(Stream.DIALOGUE, conversation=conversation, limit=8)
        first = not any(m.speaker == self.character.name for m in recent)
        return choose_cue(
            user_name,
            message,
            self.query_vector(message),
            entries,
            self.plan_vectors(entries),
            now,
            first_of_conversation=first,
            joi_lines=[
                m.text for m in bank.memories(Stream.DIALOGUE, limit=40) if m.speaker == self.character.name
            ],
        )

    def query_vector(self, message: str) -> np.ndarray:
        """The message's query embedding, made once for the plans and the recall of a turn."""
        cached = self._query_vectors.get(message)
        if cached is None:
            cached = self.embedder.embed_query(message)
            if len(self._query_vectors) >= 8:
                self._query_vectors.clear()
            self._query_vectors[message] = cached
        return cached

    def plan_vectors(self, entries: Sequence[PlanEntry]) -> np.ndarray:
        """The entries' embeddings (kept for the process: an entry's words rarely change)."""
        missing = [e.text for e in entries if e.text not in self._plan_vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_passages(missing), strict=True):
                self._plan_vectors[text] = vector
        return np.vstack([self._plan_vectors[e.text] for e in entries])

    def plans_in_prompt(self, bank: MemoryBank, settings: CoachSettings, user_name: str, now: float) -> str:
        """The compact block of active goals and commitments ("" when none, or plans are off)."""
        return plans_block(bank.plans.active(), user_name, now) if settings.plans else ""

    def plans_used(self, bank: MemoryBank, cue: PlanCue, now: float) -> None:
        """After a reply that asked about a commitment: it is not asked about again for this due time."""
        if cue.follow_up:
            for plan_id in cue.entries:
                bank.plans.mark_followed_up(plan_id, now)

    def earlier_messages(
        self, bank: MemoryBank, conversation: str, user_name: str, message: str
    ) -> list[str]:
        """The person's last few messages in this conversation before ``message``, oldest first."""
        recent = bank.memories(Stream.DIALOGUE, conversation=conversation, limit=8)
        said = [m.text for m in reversed(recent) if m.speaker == user_name]
        if said and said[-1].strip() == message.strip():  # already stored (a regenerated reply)
            said.pop()
        return said[-CONTEXT_TURNS:]

    def followed_up(self, bank: MemoryBank) -> None:
        """The check-in after an earlier crisis was asked for: it is not asked again."""
        bank.set_meta(FOLLOW_UP_KEY, "")

    def crisis_noted(self, bank: MemoryBank, conversation: str, signal: CrisisSignal) -> bool:
        """Whether Joi's note of a crisis of this kind in this conversation is kept already (the
        follow-up record says so; e.g. a reply regenerated after a restart)."""
        try:
            data = json.loads(bank.get_meta(FOLLOW_UP_KEY) or "")
        except ValueError:
            return False
        return (
            isinstance(data, dict)
            and data.get("conversation") == conversation
            and data.get("kind") == signal.kind.value
        )

    def check_crisis(self, message: str) -> CrisisSignal | None:
        """Does ``message`` signal a crisis? (patterns, plus exemplar similarity if enabled)"""
        return self.crisis_detector.check(message)

    def safety_plan(self, profile: str) -> SafetyPlan:
        return load_plan(self.bank(profile))

    def care_card(
        self, bank: MemoryBank, settings: CoachSettings, signal: CrisisSignal, language: str = ""
    ) -> CareCard:
        """The care card for ``signal``: the person's lines, own contacts and safety plan, in
        the language they chose, else the one they wrote in (``language``)."""
        try:
            plan = load_plan(bank)
        except ValueError:  # an unreadable plan never keeps the lines from showing
            log.warning("the safety plan could not be read; the card shows the crisis lines only")
            plan = SafetyPlan()
        return build_card(signal, self.crisis_lines, settings.safety, plan, language)

    def remember_crisis(
        self,
        bank: MemoryBank,
        signal: CrisisSignal,
        card: CareCard,
        user_name: str,
        conversation: str,
        now: float,
    ) -> int:
        """Keep Joi's note of the moment (high importance) and the follow-up for next time."""
        note = NewMemory(
            Stream.THERAPEUTIC,
            crisis_note(user_name, signal, now, card.shows_plan),
            now,
            speaker=self.character.name,
            conversation=conversation,
            importance=CRISIS_IMPORTANCE,
            importance_source=CRISIS_SOURCE,
        )
        [memory_id] = bank.add([note])
        bank.set_meta(FOLLOW_UP_KEY, follow_up_record(signal, now, conversation))
        return memory_id

    def recent_dialogue(self, bank: MemoryBank, settings: CoachSettings, conversation: str) -> list[Memory]:
        """The conversation's last ``history_messages`` lines, oldest first."""
        recent = bank.memories(Stream.DIALOGUE, conversation=conversation, limit=settings.history_messages)
        return list(reversed(recent))

    def recall(
        self,
        bank: MemoryBank,
        settings: CoachSettings,
        message: str,
        conversation: str,
        now: float,
        *,
        touch: bool = True,
        keep: HeldMemories | None = None,
    ) -> tuple[list[Memory], np.ndarray, dict[Stream, list[Recollection]]]:
        """(recent dialogue, the message's query vector, what it recalls beyond that dialogue);
        ``keep``: what the last draft's prompt held, kept where it still nearly ranks
        (:meth:`MemoryBank.recall`), so the prompt read ahead still matches."""
        history = self.recent_dialogue(bank, settings, conversation)
        query_vector = self.query_vector(message)
        recalled = bank.recall(
            message,
            settings.k,
            now=now,
            query_vector=query_vector,
            exclude=[m.id for m in history],
            touch=touch,
            keep=keep,
        )
        return history, query_vector, recalled

    def remember_message(
        self,
        bank: MemoryBank,
        message: str,
        user_name: str,
        conversation: str,
        now: float,
        query_vector: np.ndarray | None = None,
        context: str = "",
    ) -> int:
        """Store the person's message in the dialogue stream; returns its memory id."""
        if bank.get_meta(USER_NAME) != user_name:
            bank.set_meta(USER_NAME, user_name)
        if query_vector is None or not self.embedder.same_space_for_queries:
            vector = self.embedder.embed_passages([message])[0]
        else:
            vector = query_vector
        [memory_id] = bank.add(
            [
                NewMemory(
                    Stream.DIALOGUE,
                    message,
                    now,
                    speaker=user_name,
                    context=context,
                    conversation=conversation,
                )
            ],
            vector.reshape(1, -1),
        )
        return memory_id

    def remember_reply(
        self, bank: MemoryBank, reply: ParsedReply, message: str, now: float, conversation: str
    ) -> dict[Stream, list[int]]:
        """Store Joi's dialogue and both inner voices; returns the new ids per stream."""
        name = self.character.name
        new = [
            (Stream.DIALOGUE, reply.dialogue),
            (Stream.EMPATHETIC, reply.empathetic),
            (Stream.THERAPEUTIC, reply.therapeutic),
        ]
        memories = [
            NewMemory(stream, text, now, speaker=name, context=message, conversation=conversation)
            for stream, text in new
            if text
        ]
        ids = bank.add(memories)
        memory_ids: dict[Stream, list[int]] = {}
        for memory, memory_id in zip(memories, ids, strict=True):
            memory_ids.setdefault(memory.stream, []).append(memory_id)
        return memory_ids

    def speak(
        self,
        bank: MemoryBank,
        settings: CoachSettings,
        messages: list[ChatMessage],
        message: str,
        user_name: str,
        recalled: dict[Stream, list[Recollection]],
        now: float,
        *,
        query_vector: np.ndarray | None = None,
        exclude: int | None = None,
        signal: CrisisSignal | None = None,
        follow_up: str = "",
        plan_cue: PlanCue | None = None,
        cancel: CancelToken | None = None,
        llm: PriorityLLM | None = None,
    ) -> Iterator[tuple[str, bool]]:
        """Joi's reply to ``message`` as it streams: (text, generated by the model rather than
        forced). The one way every path speaks (this app's turn, the webui's own model, any
        server): the thoughts and the spoken line in steps where ``llm`` (default: the coach's)
        continues a text it is given, the sentence guard, the answer from memory for a
        question about the past, the crisis frame (``signal``) or a follow-up's check-in.

        ``messages``: the prompt (:func:`~.cognition.prompt.build_messages`); ``exclude``: the
        stored message itself, never its own answer from memory."""
        llm = llm or self.llm
        said_before = self.own_recent_lines(bank)
        key = key_memory(recalled, user_name, now, self.character.name)
        notes = (
            self.memory_notes(bank, message, user_name, query_vector, now, exclude=exclude, llm=llm)
            if settings.prime_format and signal is None
            else []
        )
        assessed = Assessment(signal, follow_up=follow_up, plan_cue=plan_cue if signal is None else None)
        instruction = assessed.instruction(user_name)
        frame = crisis_frame(user_name, signal) if signal is not None else plan_frame(plan_cue)
        return stream_reply(
            llm,
            settings.reply,
            self.character.name,
            user_name,
            messages,
            cancel,
            said_before,
            key,
            notes,
            instruction,
            guided=settings.prime_format,
            frame=frame,
        )

    def memory_notes(
        self,
        bank: MemoryBank,
        message: str,
        user_name: str,
        query_vector: np.ndarray | None,
        now: float,
        exclude: int | None,
        llm: PriorityLLM | None = None,
    ) -> list[Note]:
        """For a question about what the person said before: their own words it recalls (else []).
        Only where ``llm`` (default: the coach's) continues a text: the answer is such a step."""
        if not (asks_about_the_past(message, user_name) and (llm or self.llm).supports_prefix):
            return []
        if query_vector is None:
            query_vector = self.query_vector(message)
        found = bank.recall(
            message,
            {Stream.DIALOGUE: 2 * NOTES},
            now=now,
            query_vector=query_vector,
            exclude=[exclude] if exclude is not None else [],
            touch=False,
        )
        return notes_from(found[Stream.DIALOGUE], self.character.name, now, user_name)

    def own_recent_lines(self, bank: MemoryBank, limit: int = OWN_LINES_REMEMBERED) -> list[str]:
        """Joi's latest spoken lines and thoughts in this profile, across conversations."""
        lines = [
            m.text
            for m in bank.memories(Stream.DIALOGUE, limit=2 * limit)
            if m.speaker == self.character.name
        ]
        for stream in (Stream.EMPATHETIC, Stream.THERAPEUTIC):
            lines += [m.text for m in bank.memories(stream, limit=limit)]
        return lines

    # -- the person's data ---------------------------------------------------------------
    def on_forget(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(profile)`` after something of ``profile`` was forgotten, so what a
        user interface keeps on screen (a chat room's transcript) can be read again."""
        self._forget_listeners.append(listener)

    def notify_forgotten(self, profile: str) -> None:
        """Tell the listeners that memories of ``profile`` were forgotten (the memory tab calls
        this after forgetting a memory or a conversation)."""
        for listener in list(self._forget_listeners):
            try:
                listener(profile)
            except Exception:
                log.exception("a forget listener failed")

    def forget_everything(self, profile: str, *, exports: Sequence[Path] = ()) -> int:
        """Forget all of ``profile``: every memory, the safety plan, the markers (name, current
        conversation, follow-ups), the settings file, and the exports Joi wrote into ``exports``
        (folders of files written for download). Waits for a turn in progress to be stored
        first. Returns the memories deleted."""
        bank = self.bank(profile)
        with self.turn_lock(profile):
            count = bank.forget_everything()
            self.profile_settings.reset(profile)
            self.bank(profile)  # the bank ranks with the defaults again
            for folder in exports:
                erase_exports(folder)
        self.notify_forgotten(profile)
        return count

    def backup(self, profile: str, destination: Path) -> backups.Manifest:
        """Write a backup of ``profile`` (its store and settings, see :mod:`.memory.backup`) to
        the file ``destination``; safe while Joi replies. Encrypted when the store is."""
        self.bank(profile)  # a profile never used gets its (empty) store
        return backups.backup(self._profiles.folder(profile), Path(destination), profile)

    # -- after the reply ----------------------------------------------------------------
    def catch_up(self, profile: str) -> None:
        """Queue background thinking for memories still unrated (e.g. after a restart)."""
        if self.settings_for(profile).background and self.bank(profile).unrated(limit=1):
            self.queue_thinking(profile)

    def _think_after_reply(self, profile: str) -> None:
        settings = self.settings_for(profile)
        self.thinking.think(self.bank(profile), settings.reflection, plans=settings.plans)

    def should_reflect(self, profile: str) -> bool:
        return self.thinking.should_reflect(self.bank(profile), self.settings_for(profile).reflection)

    def reflect_now(
        self, profile: str, user_name: str | None = None, now: float | None = None
    ) -> list[Memory]:
        """Reflect on recent memories now; returns the stored reflections (maybe none)."""
        return self.thinking.reflect(
            self.bank(profile), self.settings_for(profile).reflection, user_name, now
        )

    def review_now(
        self, profile: str, user_name: str | None = None, now: float | None = None
    ) -> Memory | None:
        """Review the last week (done, missed, a pattern, a question) and keep it as a reflection;
        None when too little was said in it."""
        bank = self.bank(profile)
        now = self.clock() if now is None else now
        user = user_name or bank.get_meta(USER_NAME) or "the person"
        review = make_review(bank, self.llm.complete_background, user, self.character.name, now)
        return store_review(bank, review, now) if review is not None else None

    def review_offered(self, profile: str) -> bool:
        """A week with activity has passed since the last review."""
        return review_due(self.bank(profile), self.character.name, self.clock())

    # -- lifecycle ----------------------------------------------------------------------
    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._worker.wait_idle(timeout)

    @property
    def background_failures(self) -> int:
        """Background jobs that failed with an error since the start (each is logged)."""
        return self._worker.failures

    def stop_thinking(self, timeout: float = 60) -> bool:
        """Stop background thinking for good, cutting short a generation in flight; True once stopped."""
        self._warmer.close(timeout=timeout)
        self._worker.close(timeout=timeout, interrupt=self.llm.cancel_background)
        return self._worker.stopped

    def close(self) -> None:
        # Never leave the worker generating on a model that is about to go away.
        self.stop_thinking()
        self._profiles.close()


def held_memories(recalled: dict[Stream, list[Recollection]]) -> HeldMemories:
    """The memory ids of each stream in a recall, for :meth:`Coach.recall`'s ``keep``."""
    return {stream: [r.memory.id for r in items] for stream, items in recalled.items() if items}


def plan_frame(cue: PlanCue | None) -> LineFrame | None:
    """Joi's words around the model's for a reply the person's plans shape (None: none)."""
    if cue is None or not (cue.opening or cue.tension or cue.thought_note):
        return None
    return LineFrame(
        opening=cue.opening, drop=cheers_on if cue.tension else None, thought_note=cue.thought_note
    )


def crisis_frame(user_name: str, signal: CrisisSignal) -> LineFrame:
    """Joi's words around the model's in a crisis: an opening that takes the person seriously,
    at most two of the model's sentences and none that give advice, a question about safety."""
    return LineFrame(
        opening=crisis_opening(user_name, signal),
        closing=crisis_closing(signal),
        drop=gives_advice,
        max_sentences=3,
        thought_note=crisis_thought_note(user_name, signal),
        thought_check=crisis_thought_check(signal),
    )


def collect(events: Iterator[Event]) -> tuple[Recalled | None, dict[Section, str], Turn | None]:
    """Drain a reply's events: (recalled, streamed text per section, turn)."""
    recalled, streamed, turn = None, {s: "" for s in Section}, None
    for event in events:
        if isinstance(event, Recalled):
            recalled = event
        elif isinstance(event, VoiceDelta):
            streamed[event.section] += event.text
        elif isinstance(event, TurnDone):
            turn = event.turn
    return recalled, streamed, turn


__all__ = ["CareShown", "Coach", "Event", "Recalled", "Turn", "TurnDone", "VoiceDelta", "collect"]
