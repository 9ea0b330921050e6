"""One coach turn, end to end, plus the after-reply thinking that keeps Joi's memory alive.

    coach = Coach(llm, embedder, data_dir)
    for event in coach.reply("alice", "I finally went for a run today"):
        ...  # Recalled, then VoiceDelta (thoughts and dialogue as they stream), then TurnDone

The reply path does only what the reply needs: embed the message once, retrieve each
stream, build the prompt, stream and parse, store the turn. Importance ratings and
reflection run afterwards on a background worker at lower LLM priority.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .cognition.background import BackgroundWorker
from .cognition.importance import ImportanceRater
from .cognition.prompt import build_messages
from .cognition.reflection import Reflector
from .cognition.text_input import clean_message
from .cognition.voices import ParsedReply, Section, VoiceDelta, VoiceParser
from .config import CoachSettings
from .llm.base import CancelToken, LLMBackend
from .llm.priority import PriorityLLM
from .memory.bank import MemoryBank
from .memory.embeddings import Embedder
from .memory.models import Memory, NewMemory, Stream
from .memory.retrieval import Recollection
from .persona import Character
from .profile_settings import ProfileSettings
from .profiles import ProfileRegistry

log = logging.getLogger(__name__)
THOUGHT_TOKENS = 120
NEAR_DUPLICATE = 0.92  # cosine above which a new reflection repeats an existing one
REFLECTION_MARK = "last_reflection_max_id"  # meta key: highest memory id already reflected on
USER_NAME = "user_name"  # meta key: how the person was last addressed (for reflections)


GENERIC_USER_NAMES = frozenset({"user", "you", "anonymous", "local"})


def guided_steps(name: str, user: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """(forced prefix, stop strings, is_dialogue) for a reply generated one section at a time.

    On backends that accept a forced prefix, each section starts with its label, so small
    models can neither skip a voice nor let a thought run on until no dialogue is left. The
    thoughts also start with a few words that fix their point of view (the person in the
    third person, then Joi's own intention): without them the embedded 1.5B model wrote its
    "thoughts" as questions to the person and then answered them in the person's voice.
    """
    about = user if user and user.lower() not in GENERIC_USER_NAMES else "The person"
    return [
        (f"Empathetic voice: {about}", ("\n", "Therapist voice:", f"{name}:"), False),
        ("\nTherapist voice: I will", ("\n", f"{name}:"), False),
        (f"\n{name}:", ("\nEmpathetic voice:",), True),
    ]


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


@dataclass(frozen=True)
class TurnDone:
    turn: Turn


Event = Recalled | VoiceDelta | TurnDone


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
    ) -> None:
        self.llm = llm if isinstance(llm, PriorityLLM) else PriorityLLM(llm)
        self.embedder = embedder
        self.character = character or Character.load()
        self.settings = settings or CoachSettings()
        self.profiles = ProfileRegistry(Path(data_dir), embedder, self.settings.retrieval)
        self.profile_settings = ProfileSettings(self.settings, self.profiles.folder)
        self.importance = ImportanceRater(self.llm.complete_background)
        self.worker = BackgroundWorker(self._think_after_reply)

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
        with self.profiles.turn_lock(profile):
            yield from self._turn(bank, settings, message, user_name, conversation, now, cancel)
        if settings.background:
            self.worker.submit(profile)

    # -- per-profile settings -----------------------------------------------------------
    def bank(self, profile: str) -> MemoryBank:
        """The profile's memory bank, ranking with the profile's own settings."""
        bank = self.profiles.bank(profile)
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
    ) -> Iterator[Event]:
        started = time.perf_counter()
        now = time.time() if now is None else now
        if bank.store.get_meta(USER_NAME) != user_name:
            bank.store.set_meta(USER_NAME, user_name)
        history = list(
            reversed(
                bank.store.list(Stream.DIALOGUE, conversation=conversation, limit=settings.history_messages)
            )
        )
        query_vector = self.embedder.embed_query(message)
        recalled = bank.recall(
            message, settings.k, now=now, query_vector=query_vector, exclude=[m.id for m in history]
        )
        timings = {"recall": (time.perf_counter() - started) * 1000}
        yield Recalled(recalled)

        user_vector = (
            query_vector
            if self.embedder.same_space_for_queries
            else self.embedder.embed_passages([message])[0]
        )
        last_joi = next((m.text for m in reversed(history) if m.speaker == self.character.name), "")
        [user_memory_id] = bank.add(
            [
                NewMemory(
                    Stream.DIALOGUE,
                    message,
                    now,
                    speaker=user_name,
                    context=last_joi,
                    conversation=conversation,
                )
            ],
            user_vector.reshape(1, -1),
        )
        messages = build_messages(self.character, user_name, recalled, history, message, now)
        timings["prompt"] = (time.perf_counter() - started) * 1000

        parser, raw, finished = VoiceParser(), [], False
        try:
            for chunk, generated in self._stream_reply(settings, messages, user_name, cancel):
                if generated and "first_token" not in timings:
                    timings["first_token"] = (time.perf_counter() - started) * 1000
                raw.append(chunk)
                yield from parser.feed(chunk)
            yield from parser.finish()
            finished = True
        finally:
            if not finished:  # consumer went away or the LLM failed: keep what was said
                parser.finish()
            turn = self._store_reply(
                bank,
                user_memory_id,
                parser.result(),
                "".join(raw),
                message,
                now,
                conversation,
                timings,
                started,
                interrupted=not finished or bool(cancel and cancel.cancelled),
            )
        yield TurnDone(turn)

    def _stream_reply(
        self, settings: CoachSettings, messages: list, user_name: str, cancel: CancelToken | None
    ) -> Iterator[tuple[str, bool]]:
        """The reply's text as it streams: (text, generated by the model rather than forced)."""
        base = settings.reply
        stops = tuple(dict.fromkeys((*base.stop, f"\n{user_name}:", "\nUser:")))
        params = replace(base, stop=stops)
        if not (settings.prime_format and self.llm.supports_prefix):
            for chunk in self.llm.stream_chat(messages, params, cancel):
                yield chunk, True
            return
        so_far = ""
        with self.llm.foreground():
            for label, step_stops, is_dialogue in guided_steps(self.character.name, user_name):
                step = replace(
                    params,
                    max_tokens=params.max_tokens if is_dialogue else THOUGHT_TOKENS,
                    stop=tuple(dict.fromkeys((*stops, *step_stops))) if is_dialogue else step_stops,
                )
                so_far += label
                yield label, False
                for chunk in self.llm.stream_chat(messages, step, cancel, so_far):
                    so_far += chunk
                    yield chunk, True
                if cancel is not None and cancel.cancelled:
                    return

    def _store_reply(
        self,
        bank: MemoryBank,
        user_memory_id: int,
        reply: ParsedReply,
        raw: str,
        message: str,
        now: float,
        conversation: str,
        timings: dict[str, float],
        started: float,
        interrupted: bool,
    ) -> Turn:
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
        timings["total"] = (time.perf_counter() - started) * 1000
        return Turn(user_memory_id, reply, raw, memory_ids, timings, interrupted)

    # -- after the reply ----------------------------------------------------------------
    def catch_up(self, profile: str) -> None:
        """Queue background thinking for memories still unrated (e.g. after a restart)."""
        if self.settings_for(profile).background and self.bank(profile).store.unrated(limit=1):
            self.worker.submit(profile)

    def _think_after_reply(self, profile: str) -> None:
        bank = self.bank(profile)
        while batch := bank.store.unrated(limit=self.importance.batch_size):
            for scores, source in self.importance.rate(batch):
                bank.set_importance(scores, source)
        if self.should_reflect(profile):
            self.reflect_now(profile)
        bank.flush()

    def should_reflect(self, profile: str) -> bool:
        bank = self.bank(profile)
        mark = int(bank.store.get_meta(REFLECTION_MARK) or 0)
        total, _ = bank.store.importance_since(mark)
        return total >= self.settings_for(profile).reflection.threshold

    def reflect_now(
        self, profile: str, user_name: str = "the person", now: float | None = None
    ) -> list[Memory]:
        """Reflect on recent memories now; returns the stored reflections (maybe none)."""
        bank = self.bank(profile)
        settings = self.settings_for(profile).reflection
        now = time.time() if now is None else now
        mark = bank.store.max_id()
        recent = list(reversed(bank.store.list(limit=settings.recent_window)))

        def recall(question: str) -> list[Memory]:
            per_stream = bank.recall(
                question,
                {s: settings.evidence_per_question for s in Stream},
                now=now,
                touch=False,
            )
            ranked = sorted((r for rs in per_stream.values() for r in rs), key=lambda r: -r.score.total)
            return [r.memory for r in ranked]

        new = Reflector(self.llm.complete_background, settings).reflect(recent, recall, user_name, now)
        fresh, vectors = self._novel_reflections(bank, new)
        ids = bank.add(fresh, vectors) if fresh else []
        bank.store.set_meta(REFLECTION_MARK, str(mark))
        log.info("reflection stored %d insights", len(ids))
        return bank.get(ids)

    def _novel_reflections(
        self, bank: MemoryBank, candidates: list[NewMemory]
    ) -> tuple[list[NewMemory], np.ndarray]:
        """Drop insights that say again what an existing (or earlier new) reflection says."""
        if not candidates:
            return [], np.zeros((0, self.embedder.dim), dtype=np.float32)
        vectors = self.embedder.embed_passages([m.text for m in candidates])
        keep: list[int] = []
        for i, vector in enumerate(vectors):
            nearest = bank.index.search(Stream.REFLECTION, vector, 1)
            if nearest and nearest[0][1] >= NEAR_DUPLICATE:
                continue
            if any(float(vectors[j] @ vector) >= NEAR_DUPLICATE for j in keep):
                continue
            keep.append(i)
        return [candidates[i] for i in keep], vectors[keep]

    # -- lifecycle ----------------------------------------------------------------------
    def wait_idle(self, timeout: float | None = None) -> bool:
        return self.worker.wait_idle(timeout)

    def close(self) -> None:
        # Never leave the worker generating on a model that is about to go away.
        self.worker.close(timeout=60, interrupt=self.llm.cancel_background)
        self.profiles.close()


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


__all__ = ["Coach", "Event", "Recalled", "Turn", "TurnDone", "VoiceDelta", "collect"]
