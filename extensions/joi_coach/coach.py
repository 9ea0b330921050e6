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
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .cognition.background import BackgroundWorker
from .cognition.importance import ImportanceRater
from .cognition.memory_answer import NOTES, Note, answer_from_memory, asks_about_the_past, notes_from
from .cognition.prompt import build_messages, key_memory
from .cognition.reflection import Reflector
from .cognition.reply_checks import sentence_count
from .cognition.spoken_guard import (
    MAX_SENTENCES,
    SpokenLineGuard,
    lines_joi_wrote,
    salvage,
    without_leading_label,
)
from .cognition.text_input import clean_message
from .cognition.voices import ParsedReply, Section, VoiceDelta, VoiceParser
from .config import CoachSettings
from .llm.base import CancelToken, GenerationParams, LLMBackend
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
SPOKEN_ATTEMPTS = 2
OWN_LINES_REMEMBERED = 30  # Joi's latest lines and thoughts per stream the spoken line must not repeat
# The thoughts are about the person, never to them: where the backend can, these are ruled out.
SECOND_PERSON = ("you", "your", "yours", "yourself")
NEAR_DUPLICATE = 0.92  # cosine above which a new reflection repeats an existing one
REFLECTION_MARK = "last_reflection_max_id"  # meta key: highest memory id already reflected on
USER_NAME = "user_name"  # meta key: how the person was last addressed (for reflections)


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"  # the thoughts' tags, as the webui renders them
GENERIC_USER_NAMES = frozenset({"user", "you", "anonymous", "local"})


def thought_steps(user: str) -> list[tuple[str, tuple[str, ...]]]:
    """(forced prefix, stop strings) for the two inner voices, generated one at a time.

    On backends that accept a forced prefix, each voice starts with its label, so small
    models can neither skip a voice nor let a thought run on. The voices also start with a
    few words that fix their point of view (the person in the third person, then Joi's own
    intention): without them the embedded 1.5B model wrote its "thoughts" as questions to
    the person and then answered them in the person's voice.
    """
    about = user if user and user.lower() not in GENERIC_USER_NAMES else "The person"
    object_ = "the person" if about == "The person" else about
    return [
        (f"{THINK_OPEN}\nEmpathetic voice: {about} is", ("\n", "Therapist voice:", THINK_CLOSE)),
        (
            f"\nTherapist voice: What would help {object_} most now is",
            ("\n", THINK_CLOSE),
        ),
    ]


def speaking_messages(
    messages: list,
    name: str,
    user: str,
    empathetic: str,
    therapeutic: str,
    retry: bool = False,
    key_memory: str = "",
    answered: bool = False,
) -> list:
    """The conversation again, with the finished thoughts as private notes before Joi speaks.

    Small models are trained to answer the last message in an ordinary assistant turn; asked
    to go on speaking after their own thoughts in the same turn, the embedded 1.5B model
    often carried on as the person, or read its thoughts out. So the spoken line is its own
    turn. Everything before the notes is the prompt the thoughts were generated from, so a
    backend's prompt cache reads only the notes again.
    """
    notes = (
        f"Your private notes on {user}'s message (never read them out or quote them):\n"
        f"- feeling: {empathetic.strip()}\n- what would help: {therapeutic.strip()}\n"
        + (f"- the most relevant thing you remember: {key_memory}\n" if key_memory else "")
        + "\n"
        f"Now reply as {name}, speaking directly to {user}: answer what {user} just said in two to four "
        f"warm, natural sentences. If {user} asks about something from an earlier conversation, answer "
        "it plainly with the facts from what you remember. Do not thank them for sharing, and do not "
        "repeat what you said before."
    )
    if answered:
        notes += (
            f" You have begun by answering {user}'s question from what they told you: go on with one or two "
            "sentences about what it means for them now."
        )
    if retry:
        notes += (
            f" Your first try repeated earlier words or slipped out of your role: say it afresh, as {name}."
        )
    return [*messages, {"role": "system", "content": notes}]


def stream_reply(
    llm: PriorityLLM,
    settings: CoachSettings,
    name: str,
    user_name: str,
    messages: list,
    cancel: CancelToken | None = None,
    said_before: Sequence[str] = (),
    key_memory: str = "",
    memory_notes: Sequence[Note] = (),
) -> Iterator[tuple[str, bool]]:
    """The reply's text as it streams: (text, generated by the model rather than forced).

    ``said_before``: Joi's earlier lines and thoughts beyond the prompt, which the spoken
    line must not repeat either. ``key_memory``: the most relevant thing the person said
    before, repeated in the notes for the spoken line (a small model uses a memory placed
    there far more often than one among the recalled notes). ``memory_notes``: for a question
    about what the person said before, their recalled words; the spoken line then opens with
    the answer a focused step finds in them (:mod:`.cognition.memory_answer`).

    With a backend that takes a forced prefix: the two thoughts, each from its label, then
    the spoken line as its own assistant turn (:func:`speaking_messages`); the stream reads
    ``<think>`` voices ``</think>`` dialogue either way. Otherwise one free generation in
    the persona's format, parsed as it comes.
    """
    base = settings.reply
    stops = tuple(dict.fromkeys((*base.stop, f"\n{user_name}:", "\nUser:")))
    params = replace(base, stop=stops)
    if not (settings.prime_format and llm.supports_prefix):
        for chunk in llm.stream_chat(messages, params, cancel):
            yield chunk, True
        return
    so_far = ""
    thoughts: list[str] = []
    with llm.foreground():
        for label, step_stops in thought_steps(user_name):
            step = replace(params, max_tokens=THOUGHT_TOKENS, stop=step_stops, avoid_words=SECOND_PERSON)
            so_far += label
            yield label, False
            thought = label.rsplit(":", 1)[1]
            for chunk in llm.stream_chat(messages, step, cancel, so_far):
                so_far += chunk
                thought += chunk
                yield chunk, True
            thoughts.append(thought)
            if cancel is not None and cancel.cancelled:
                return
        yield f"\n{THINK_CLOSE}\n", False
        question = messages[-1]["content"]

        def answer(brief: bool) -> str:
            return answer_from_memory(llm, user_name, name, memory_notes, question, cancel, brief=brief)

        yield from _speak(
            llm,
            params,
            messages,
            name,
            user_name,
            thoughts,
            stops,
            cancel,
            said_before,
            key_memory,
            answer if memory_notes else None,
        )


def _opening(answer: Callable[[bool], str], guard: SpokenLineGuard) -> str:
    """The first answer from memory the guard passes, plain then brief ("" if none)."""
    for brief in (False, True):
        candidate = answer(brief)
        if not candidate:
            return ""  # nothing found in the notes: a briefer try would find nothing either
        if guard.acceptable(candidate):
            return candidate
        log.info(
            "answer from memory not used (brief=%s): it repeats an earlier line or slips out of role", brief
        )
    return ""


def _enough(text: str) -> bool:
    """A fallback line is long enough: two paragraphs (a greeting line may be the first), or more
    sentences than the guard allows."""
    return text.strip().count("\n\n") >= 2 or sentence_count(text) > MAX_SENTENCES + 1


def _speak(
    llm: PriorityLLM,
    params: GenerationParams,
    messages: list,
    name: str,
    user_name: str,
    thoughts: list[str],
    stops: tuple[str, ...],
    cancel: CancelToken | None,
    said_before: Sequence[str] = (),
    key_memory: str = "",
    answer: Callable[[bool], str] | None = None,
) -> Iterator[tuple[str, bool]]:
    """The spoken line, released a sentence at a time through a :class:`SpokenLineGuard`.

    ``answer(brief)``: an answer from memory to open the line with, if the guard passes it
    (asked once more for a briefer one when the first repeats an earlier line, as the same
    fact asked for twice would); the model goes on from it.

    When the guard stops a sentence, the model is asked once more (another seed, a little
    warmer, told why): to go on from the sentences already shown, or, if none were, to say
    it afresh. If the second try fails at its first sentence too, the line ends there; if
    nothing at all was shown, the model's own words are shown rather than nothing.
    """
    spoken_stops = tuple(dict.fromkeys((*stops, f"\n{name}:")))
    # Anything Joi said or thought that the model can see, this reply's thoughts included: a
    # line that reads them out says nothing new (the person sees the thoughts anyway).
    earlier = [*said_before, *lines_joi_wrote(messages, user_name), *thoughts]
    guard = SpokenLineGuard(name, user_name, earlier, message=messages[-1]["content"])
    opening = _opening(answer, guard) if answer is not None else ""
    answered = bool(opening)
    if answered:
        yield guard.open_with(opening), True
    step, raw = replace(params, stop=spoken_stops), ""
    for attempt in range(SPOKEN_ATTEMPTS):
        retry = attempt > 0
        if retry:
            step = replace(step, seed=(params.seed or 0) + attempt, temperature=max(params.temperature, 0.9))
            guard.resume()
        last = attempt == SPOKEN_ATTEMPTS - 1
        empathetic, therapeutic = thoughts
        speaking = speaking_messages(
            messages,
            name,
            user_name,
            empathetic,
            therapeutic,
            retry=retry,
            key_memory=key_memory,
            answered=answered,
        )
        stream, raw = llm.stream_chat(speaking, step, cancel, guard.released), ""
        try:
            for chunk in stream:
                raw += chunk
                shown = guard.feed(chunk)
                if shown:
                    yield shown, True
                if guard.done and not (last and guard.failed_at_start and not _enough(raw)):
                    break  # (on the last try a rejected start reads on: its text is the fallback)
            else:
                shown = guard.finish()
                if shown:
                    yield shown, True
        finally:
            stream.close()
        if not guard.rejected or (cancel is not None and cancel.cancelled):
            return
        log.info("spoken line stopped (attempt %d): %s", attempt + 1, guard.rejected)
    if guard.failed_at_start:  # the good sentences of the last try, or failing that its words
        words_said = without_leading_label(raw, name, user_name)
        message = messages[-1]["content"]
        kept = salvage(words_said, name, user_name, earlier, message)
        yield kept or words_said.strip().split("\n\n")[0], True


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
        self._profiles = ProfileRegistry(Path(data_dir), embedder, self.settings.retrieval)
        self.profile_settings = ProfileSettings(self.settings, self._profiles.folder)
        self.importance = ImportanceRater(self.llm.complete_background, coach=self.character.name)
        self._worker = BackgroundWorker(self._think_after_reply)

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
        with self.turn_lock(profile):
            yield from self._turn(bank, settings, message, user_name, conversation, now, cancel)
        if settings.background:
            self.queue_thinking(profile)

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
    ) -> Iterator[Event]:
        started = time.perf_counter()
        now = time.time() if now is None else now
        history, query_vector, recalled = self.recall(bank, settings, message, conversation, now)
        timings = {"recall": (time.perf_counter() - started) * 1000}
        yield Recalled(recalled)

        last_joi = next((m.text for m in reversed(history) if m.speaker == self.character.name), "")
        user_memory_id = self.remember_message(
            bank, message, user_name, conversation, now, query_vector, context=last_joi
        )
        messages = build_messages(self.character, user_name, recalled, history, message, now)
        timings["prompt"] = (time.perf_counter() - started) * 1000

        parser, raw, finished = VoiceParser(), [], False
        try:
            said_before = self.own_recent_lines(bank)
            key = key_memory(recalled, user_name, now, self.character.name)
            notes = (
                self.memory_notes(bank, message, user_name, query_vector, now, exclude=user_memory_id)
                if settings.prime_format
                else []
            )
            for chunk, generated in self._stream_reply(
                settings, messages, user_name, cancel, said_before, key, notes
            ):
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

    # -- the pieces of a turn (also used by hosts that generate the reply themselves) ----
    def recall(
        self, bank: MemoryBank, settings: CoachSettings, message: str, conversation: str, now: float
    ) -> tuple[list[Memory], np.ndarray, dict[Stream, list[Recollection]]]:
        """(recent dialogue, the message's query vector, what it recalls beyond that dialogue)."""
        history = list(
            reversed(
                bank.memories(Stream.DIALOGUE, conversation=conversation, limit=settings.history_messages)
            )
        )
        query_vector = self.embedder.embed_query(message)
        recalled = bank.recall(
            message, settings.k, now=now, query_vector=query_vector, exclude=[m.id for m in history]
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

    def _stream_reply(
        self,
        settings: CoachSettings,
        messages: list,
        user_name: str,
        cancel: CancelToken | None,
        said_before: Sequence[str] = (),
        key: str = "",
        notes: Sequence[Note] = (),
    ) -> Iterator[tuple[str, bool]]:
        return stream_reply(
            self.llm, settings, self.character.name, user_name, messages, cancel, said_before, key, notes
        )

    def memory_notes(
        self,
        bank: MemoryBank,
        message: str,
        user_name: str,
        query_vector: np.ndarray,
        now: float,
        exclude: int,
    ) -> list[Note]:
        """For a question about what the person said before: their own words it recalls (else [])."""
        if not (asks_about_the_past(message, user_name) and self.llm.supports_prefix):
            return []
        found = bank.recall(
            message,
            {Stream.DIALOGUE: 2 * NOTES},
            now=now,
            query_vector=query_vector,
            exclude=[exclude],
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
        memory_ids = self.remember_reply(bank, reply, message, now, conversation)
        timings["total"] = (time.perf_counter() - started) * 1000
        return Turn(user_memory_id, reply, raw, memory_ids, timings, interrupted)

    # -- after the reply ----------------------------------------------------------------
    def catch_up(self, profile: str) -> None:
        """Queue background thinking for memories still unrated (e.g. after a restart)."""
        if self.settings_for(profile).background and self.bank(profile).unrated(limit=1):
            self.queue_thinking(profile)

    def _think_after_reply(self, profile: str) -> None:
        bank = self.bank(profile)
        while batch := bank.unrated(limit=self.importance.batch_size):
            for scores, source in self.importance.rate(batch):
                bank.set_importance(scores, source)
        if self.should_reflect(profile):
            self.reflect_now(profile)
        bank.flush()

    def should_reflect(self, profile: str) -> bool:
        bank = self.bank(profile)
        mark = int(bank.get_meta(REFLECTION_MARK) or 0)
        total, _ = bank.importance_since(mark)
        return total >= self.settings_for(profile).reflection.threshold

    def reflect_now(
        self, profile: str, user_name: str = "the person", now: float | None = None
    ) -> list[Memory]:
        """Reflect on recent memories now; returns the stored reflections (maybe none)."""
        bank = self.bank(profile)
        settings = self.settings_for(profile).reflection
        now = time.time() if now is None else now
        mark = bank.max_id()
        recent = list(reversed(bank.memories(limit=settings.recent_window)))

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
        bank.set_meta(REFLECTION_MARK, str(mark))
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
            nearest = bank.nearest(Stream.REFLECTION, vector, 1)
            if nearest and nearest[0][1] >= NEAR_DUPLICATE:
                continue
            if any(float(vectors[j] @ vector) >= NEAR_DUPLICATE for j in keep):
                continue
            keep.append(i)
        return [candidates[i] for i in keep], vectors[keep]

    # -- lifecycle ----------------------------------------------------------------------
    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._worker.wait_idle(timeout)

    @property
    def background_failures(self) -> int:
        """Background jobs that failed with an error since the start (each is logged)."""
        return self._worker.failures

    def stop_thinking(self, timeout: float = 60) -> bool:
        """Stop background thinking for good, cutting short a generation in flight; True once stopped."""
        self._worker.close(timeout=timeout, interrupt=self.llm.cancel_background)
        return self._worker.stopped

    def close(self) -> None:
        # Never leave the worker generating on a model that is about to go away.
        self.stop_thinking()
        self._profiles.close()


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
