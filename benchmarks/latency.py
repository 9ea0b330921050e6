"""Joi's latency figures from one run: memory overhead, store opening, replies, generation, UI start.

    .venv/bin/python benchmarks/latency.py [--sizes 1000,10000,100000] [--turns 6] [--json PATH]
    .venv/bin/python benchmarks/latency.py --quick --skip-ui      # a smoke run (minutes)
    .venv/bin/python benchmarks/latency.py --skip-memory --skip-ui --encrypted   # at rest encrypted

Each section prints as it finishes; a Markdown table (measure | value | target | met?) for
docs/benchmarks.md comes at the end. llama.cpp on a 2-core machine is very sensitive to any
other CPU load: run it on a quiet machine. The load average is printed at start and end, and
every LLM measurement prints its *CPU share* (this process's CPU time over wall time × cores):
about 1.0 when llama.cpp had the cores to itself; well below 0.9 means the timing is not
trustworthy.

1. **Per-turn memory overhead** (1k / 10k / 100k memories): what the reply path does before
   the model runs — embed the message, retrieve every stream, build the prompt — median and
   p95 over ``--queries`` LoCoMo questions, on stores filled by ``memory_overhead.py``'s
   ``fill`` (real MiniLM vectors of LoCoMo lines with a little noise per copy). Target
   ≤ 25 ms median at 10k.
2. **Opening a 100k store**: constructing the MemoryBank with the FAISS cache files present,
   and again after deleting them (the rebuild-from-SQLite path after a crash). Target ≤ 1 s.
3. **Reply latency on the embedded model**, a scripted coaching conversation of ``--turns``
   messages. The person reads each reply (``--reading``, default 4 s), then types the next
   message word by word over ``--typing`` seconds (default 8 s; 0: pasted at once) and sends
   it right after the last word; the page offers each draft as it grows, and the app reads
   the reply's prompt ahead while the person types (:mod:`joi_coach.llm.warming`; off with
   ``--no-read-ahead``). Two modes on a freshly loaded model each (memory off first):

   - *memory on*: the real ``Coach`` (recall, storage, guided three-voice reply, reading
     ahead with ``Coach.prepare``), with importance ratings and reflection running on the
     background worker between turns (reflection threshold lowered to
     ``--reflection-threshold`` so that one is due early). The next message is sent
     **without** waiting for background work: a reply that arrives while a background
     generation holds the model waits for it to give way, and that wait is part of its time.
   - *memory off*: the same model, persona, guided three-voice generation, settings, reading
     ahead and the same number of recent chat messages (``history_messages``) — but the
     recent history is kept in a Python list, nothing is recalled, stored or thought about.

   Time to first token (TTFT) counts from the message being sent to the first token the
   model generates (the forced voice label does not count); the first spoken word, to the
   first word of Joi's spoken line on screen (what the person waits for); total, to the reply
   being complete (for memory on, stored). Each has its parts: before the model (safety,
   recall, prompt), the prompt read (to the first thought's first token), each thought, and
   the spoken line's notes read. Temperature 0 and seed 0 in both modes. Targets: first
   spoken word ≤ 5 s median; on ÷ off ≤ 1.5 for the first token and ≤ 1.15 for the whole
   reply. Also printed: the background work that ran (warms, importance, reflection;
   completed or preempted), at the end of the run and after up to ``--drain`` seconds.
4. **Generation speed**: tokens/s of generated tokens (first to last, prompt processing
   excluded) of ``EmbeddedLLM.stream_chat`` as the app calls it vs raw llama-cpp-python
   (``llama_cpp.Llama`` on the same GGUF, n_ctx, threads, seed, the same rendered prompt and
   sampling settings, ``create_completion(stream=True)``), alternating the two sides,
   median of ``--repeats``. Greedy decoding on the same prompt makes both sides generate the
   same tokens (checked and printed); the prompt asks for a long answer so that
   ``--gen-tokens`` are generated. Target ratio ≥ 0.95.
5. **Cold start to a usable UI**: ``joi-coach --host 127.0.0.1 --port PORT --data-dir DIR``
   as a subprocess; seconds from spawn until ``GET /`` returns 200, and until the
   "Joi is ready at" line appeared; first with an empty data folder, then a restart on the
   same folder. The model file is already in the OS page cache by then (this benchmark loaded
   it), so this is a cold process on a warm disk cache. Skipped if the console script is not
   installed.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from joi_coach.coach import Coach, TurnDone
from joi_coach.cognition.prompt import build_messages
from joi_coach.cognition.reply_checks import words
from joi_coach.cognition.reply_format import EMPATHETIC_LABEL, THERAPIST_LABEL
from joi_coach.cognition.reply_steps import first_step, stream_reply
from joi_coach.cognition.spoken_guard import SALUTATION_WORDS
from joi_coach.cognition.text_input import clean_message
from joi_coach.cognition.voices import Section, VoiceDelta, VoiceParser
from joi_coach.config import CoachSettings
from joi_coach.llm.base import CancelToken, ChatMessage, GenerationParams
from joi_coach.llm.embedded import TEMPLATE_STOPS, EmbeddedLLM
from joi_coach.llm.model_assembly import ensure_default_model
from joi_coach.llm.priority import PriorityLLM
from joi_coach.llm.warming import PromptWarmer
from joi_coach.memory.embeddings import Embedder
from joi_coach.memory.models import Memory, Stream
from joi_coach.persona import Character

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory_overhead import measure_sizes, percentile

USER = "Sam"
PROFILE = "bench"
MESSAGES = [
    "Hi Joi. I've been feeling stuck lately: I want to get fit again but I keep skipping my runs.",
    "I used to run 5k three times a week before my daughter was born. Now I'm lucky to go once.",
    "Honestly I think it's the mornings. By the time she's asleep in the evening I'm exhausted.",
    "My partner says I should just join a gym, but I hate gyms, they make me feel judged.",
    "Work is also rough right now, my manager keeps moving deadlines and I bring it home with me.",
    "Okay, maybe I could try running at lunch twice a week. Does that sound realistic to you?",
    "I did it! I ran at lunch on Tuesday. Only 3k, but it felt good to be out there again.",
    "What do you remember about why I stopped running in the first place?",
]
LONG_ANSWER = (
    "Could you write me a detailed twelve-week plan to get back to running 5k, week by week, "
    "with a short paragraph for each week?"
)
TARGETS = {
    "overhead_ms": 25.0,
    "open_s": 1.0,
    "ttft_ratio": 1.5,
    "total_ratio": 1.15,
    "first_spoken_s": 5.0,
    "gen_ratio": 0.95,
}


# -- helpers ------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def p95(values: Sequence[float]) -> float:
    return percentile(list(values), 95) if values else float("nan")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on this platform
        return "n/a"


def machine_info() -> dict[str, Any]:
    try:
        import llama_cpp

        llama_version = str(llama_cpp.__version__)
    except ImportError:  # pragma: no cover - depends on the install
        llama_version = "not installed"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "llama_cpp_python": llama_version,
        "platform": platform.platform(),
    }


# -- 1 and 2: memory overhead and store opening (memory_overhead.py's fill) ----------------
# -- an LLM backend that records what went through it --------------------------------------
@dataclass
class Call:
    background: bool
    kind: str
    started: float
    first_chunk: float | None = None
    ended: float | None = None
    chunks: list[str] = field(default_factory=list)
    completed: bool = False
    messages: Sequence[ChatMessage] = ()
    prefix: str = ""


def call_kind(messages: Sequence[ChatMessage], background: bool) -> str:
    if not background:
        return "reply"
    system = messages[0]["content"] if messages else ""
    if system.startswith("You rate how important"):
        return "importance"
    if system.startswith("You are the reflective mind"):
        return "reflection"
    return "other"


class CountingLLM:
    """Passes calls to the embedded backend and records each one (thread-safe)."""

    def __init__(self, backend: EmbeddedLLM) -> None:
        self.backend = backend
        self.name = backend.name
        self.supports_prefix = backend.supports_prefix
        self.calls: list[Call] = []
        self._lock = threading.Lock()

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        # Replies never pass a cancel token here; PriorityLLM passes one to background calls.
        background = cancel is not None
        call = Call(background, call_kind(messages, background), time.perf_counter())
        call.messages, call.prefix = list(messages), assistant_prefix
        with self._lock:
            self.calls.append(call)
        try:
            for chunk in self.backend.stream_chat(messages, params, cancel, assistant_prefix):
                if call.first_chunk is None:
                    call.first_chunk = time.perf_counter()
                call.chunks.append(chunk)
                yield chunk
            call.completed = not (cancel is not None and cancel.cancelled)
        finally:
            call.ended = time.perf_counter()

    def warm(self, messages: Sequence[ChatMessage], cancel: CancelToken, assistant_prefix: str = "") -> bool:
        """Reading a draft's prompt ahead (recorded as background work of kind "warm")."""
        call = Call(True, "warm", time.perf_counter(), messages=list(messages), prefix=assistant_prefix)
        with self._lock:
            self.calls.append(call)
        try:
            call.completed = self.backend.warm(messages, cancel, assistant_prefix)
            return call.completed
        finally:
            call.ended = time.perf_counter()

    def since(self, t0: float, background: bool) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.background == background and c.started >= t0]

    def background_summary(self) -> dict[str, dict[str, int]]:
        with self._lock:
            calls = [c for c in self.calls if c.background]
        summary: dict[str, dict[str, int]] = {}
        for c in calls:
            s = summary.setdefault(c.kind, {"started": 0, "completed": 0, "preempted": 0, "running": 0})
            s["started"] += 1
            if c.ended is None:
                s["running"] += 1
            elif c.completed:
                s["completed"] += 1
            else:
                s["preempted"] += 1
        return summary


def load_llm() -> CountingLLM:
    llm = CountingLLM(EmbeddedLLM())
    # page the weights in and set up the context, so the first turn is not a cold-cache outlier
    "".join(llm.backend.stream_chat([{"role": "user", "content": "Hi"}], GenerationParams(max_tokens=4)))
    return llm


def release(llm: CountingLLM) -> None:
    close = getattr(llm.backend._llama, "close", None)
    if callable(close):
        close()
    gc.collect()


# -- 3: reply latency, memory on vs off ---------------------------------------------------
def generated_tokens(llm: CountingLLM, calls: Sequence[Call]) -> int:
    return sum(llm.backend.count_tokens("".join(c.chunks)) for c in calls if c.chunks)


def prompt_tokens(llm: CountingLLM, calls: Sequence[Call]) -> int:
    """Tokens of the reply's prompt (its first step: persona, memories, history, message)."""
    if not calls:
        return 0
    first = calls[0]
    rendered = llm.backend.template.render(first.messages, add_generation_prompt=True) + first.prefix
    return llm.backend.count_tokens(rendered)


class CpuShare:
    """This process's CPU time over wall time × cores: about 1.0 while llama.cpp runs alone.

    Well below 1.0 during generation means other processes took the cores: the timings of
    that span are not trustworthy.
    """

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def share(self) -> float:
        wall = time.perf_counter() - self.wall
        return (time.process_time() - self.cpu) / (wall * (os.cpu_count() or 1)) if wall > 0 else 0.0


def person_types(text: str, typing: float, offer: Callable[[str], None] | None) -> None:
    """The person types ``text`` over ``typing`` seconds, word by word; the page offers each
    draft (``offer``) as it grows. The message is sent right after its last word."""
    words = text.split()
    if typing <= 0 or not words:
        return
    for n in range(1, len(words) + 1):
        time.sleep(typing / len(words))
        if offer is not None:
            offer(" ".join(words[:n]))


def reply_parts(calls: Sequence[Call], started: float) -> dict[str, float]:
    """Where a reply's wait went (ms): reading its prompt (to the first thought's first token),
    each thought, and reading the spoken line's prompt (its notes) to its first token."""
    parts: dict[str, float] = {}
    first = [c for c in calls if EMPATHETIC_LABEL in c.prefix and THERAPIST_LABEL not in c.prefix]
    second = [c for c in calls if THERAPIST_LABEL in c.prefix]
    spoken = [
        c
        for c in calls
        if c not in first and c not in second and c.started >= (second or first or [c])[-1].started
    ]
    if first and first[0].first_chunk is not None:
        parts["prompt_read_ms"] = (first[0].first_chunk - first[0].started) * 1000
    for name, group in (("thought_1_ms", first), ("thought_2_ms", second)):
        if group and group[-1].ended is not None:
            parts[name] = (group[-1].ended - group[0].started) * 1000
    if spoken and spoken[0].first_chunk is not None:
        parts["notes_read_ms"] = (spoken[0].first_chunk - spoken[0].started) * 1000
    if first:
        parts["before_model_ms"] = (first[0].started - started) * 1000
    return parts


@dataclass
class SpokenClock:
    """When the spoken line's first word appeared on screen, and when its first sentence of
    ``SALUTATION_WORDS`` words or more did (a greeting such as "Hi Sam!" is shown first but
    says little: both are reported)."""

    word_at: float | None = None
    sentence_at: float | None = None
    _said: str = ""

    def see(self, event: object) -> None:
        if not (isinstance(event, VoiceDelta) and event.section is Section.DIALOGUE and event.text.strip()):
            return
        now = time.perf_counter()
        self.word_at = self.word_at or now
        self._said += event.text
        sentences = re.split(r"(?<=[.!?…])\s+", self._said.strip())
        if self.sentence_at is None and any(len(words(s)) >= SALUTATION_WORDS for s in sentences):
            self.sentence_at = now

    def times_ms(self, started: float, fallback: float) -> dict[str, float]:
        """The two moments, in ms after ``started`` (``fallback`` for one never seen)."""
        return {
            "first_spoken_ms": ((self.word_at or fallback) - started) * 1000,
            "first_sentence_ms": ((self.sentence_at or fallback) - started) * 1000,
        }


def run_memory_off(
    character: Character,
    settings: CoachSettings,
    messages: Sequence[str],
    reading: float,
    typing: float,
) -> list[dict[str, float]]:
    llm = load_llm()
    model = PriorityLLM(llm)
    warmer = PromptWarmer(model) if settings.read_ahead else None
    guided = settings.prime_format and model.supports_prefix
    history: list[tuple[str, str]] = []
    turns = []

    def recent_lines(now: float) -> list[Memory]:
        return [
            Memory(id=i, stream=Stream.DIALOGUE, text=said, created_at=now, last_accessed=now, speaker=who)
            for i, (who, said) in enumerate(history[-settings.history_messages :], 1)
        ]

    def draft_prompt(draft: str) -> tuple[list[ChatMessage], str]:
        """The same prompt the memory-off reply will have (nothing recalled), as the app reads it."""
        prompt = build_messages(character, USER, {}, recent_lines(time.time()), draft, time.time())
        return first_step(prompt, character.name, USER, guided)

    def offer(draft: str) -> None:
        if warmer is not None:
            warmer.offer(lambda: draft_prompt(draft), typing=bool(draft))

    try:
        for n, text in enumerate(messages):
            if n:
                time.sleep(reading)
            person_types(text, typing, offer)
            if warmer is not None:
                warmer.drop()
            started, cpu = time.perf_counter(), CpuShare()
            now = time.time()
            message = clean_message(text)
            prompt = build_messages(character, USER, {}, recent_lines(now), message, now)
            parser, first, clock = VoiceParser(), None, SpokenClock()
            for chunk, generated in stream_reply(
                model, settings.reply, character.name, USER, prompt, guided=settings.prime_format
            ):
                if generated and first is None:
                    first = time.perf_counter()
                for event in parser.feed(chunk):
                    clock.see(event)
            for event in parser.finish():
                clock.see(event)
            total = time.perf_counter()
            reply = parser.result()
            history.append((USER, message))
            if reply.dialogue:
                history.append((character.name, reply.dialogue))
            offer("")
            share = cpu.share()
            replies = llm.since(started, background=False)
            turn = (
                {
                    "ttft_ms": ((first or total) - started) * 1000,
                    "total_ms": (total - started) * 1000,
                    "tokens": generated_tokens(llm, replies),
                    "prompt_tokens": prompt_tokens(llm, replies),
                    "cpu_share": share,
                }
                | clock.times_ms(started, total)
                | reply_parts(replies, started)
            )
            turns.append(turn)
            print(
                f"  off turn {n + 1}: first token {turn['ttft_ms'] / 1000:.1f} s, first spoken word "
                f"{turn['first_spoken_ms'] / 1000:.1f} s (first sentence {turn['first_sentence_ms'] / 1000:.1f} s), total {turn['total_ms'] / 1000:.1f} s, "
                f"{turn['tokens']} tokens from a {turn['prompt_tokens']}-token prompt; {describe_parts(turn)}; "
                f"CPU share {share:.2f}",
                flush=True,
            )
    finally:
        if warmer is not None:
            warmer.close()
    release(llm)
    return turns


def describe_parts(turn: dict[str, Any]) -> str:
    names = (
        ("before_model_ms", "before the model"),
        ("prompt_read_ms", "prompt read"),
        ("thought_1_ms", "thought 1"),
        ("thought_2_ms", "thought 2"),
        ("notes_read_ms", "notes read"),
    )
    return ", ".join(f"{label} {turn[key] / 1000:.1f} s" for key, label in names if key in turn)


def memory_state(coach: Coach, llm: CountingLLM) -> dict[str, Any]:
    bank = coach.bank(PROFILE)
    total = bank.count()
    return {
        "memories": total,
        "rated": total - len(bank.unrated(limit=1_000_000)),
        "reflections": bank.count(Stream.REFLECTION),
        "background_calls": llm.background_summary(),
        "worker_failures": coach.background_failures,
    }


def stop_background(coach: Coach, timeout: float = 300.0) -> None:
    """Stop the worker for good, cutting short a background generation in flight, so the
    model can be closed and the following sections have the cores."""
    if not coach.stop_thinking(timeout):
        raise RuntimeError("the background worker did not stop; its model cannot be closed safely")


def run_memory_on(
    embedder: Embedder,
    character: Character,
    settings: CoachSettings,
    messages: Sequence[str],
    reading: float,
    typing: float,
    drain: float,
    encrypted: bool = False,
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    llm = load_llm()
    turns = []
    with tempfile.TemporaryDirectory(prefix="joi-latency-on-") as folder:
        if encrypted:  # stores in SQLCipher, cache and settings sealed (memory/encryption.py)
            from joi_coach.memory import encryption

            encryption.set_passphrase(Path(folder), "a benchmark passphrase")
        coach = Coach(llm, embedder, Path(folder), character=character, settings=settings)
        coach.bank(PROFILE)  # open the (empty) store outside the timed turns
        coach.warm_up()  # as the app does once it is up, while the person opens the page
        try:
            for n, text in enumerate(messages):
                if n:
                    time.sleep(reading)  # the person reads; background thinking runs meanwhile
                person_types(text, typing, lambda draft: coach.prepare(PROFILE, draft, user_name=USER))
                started, cpu = time.perf_counter(), CpuShare()
                busy = any(c.ended is None and c.kind != "warm" for c in llm.since(0.0, background=True))
                done, clock = None, SpokenClock()
                for event in coach.reply(PROFILE, text, user_name=USER):
                    clock.see(event)
                    if isinstance(event, TurnDone):
                        done = event.turn
                share = cpu.share()
                if done is None:
                    raise RuntimeError("the reply ended without a TurnDone event")
                t = done.timings_ms
                replies = llm.since(started, background=False)
                waited = max(0.0, (replies[0].started - started) * 1000 - t["prompt"]) if replies else 0.0
                turn = (
                    {
                        "ttft_ms": t.get("first_token", t["total"]),
                        "total_ms": t["total"],
                        "recall_ms": t["recall"],
                        "prompt_ms": t["prompt"],
                        "waited_ms": waited,
                        "background_busy_at_start": busy,
                        "tokens": generated_tokens(llm, replies),
                        "prompt_tokens": prompt_tokens(llm, replies),
                        "cpu_share": share,
                    }
                    | clock.times_ms(started, started + t["total"] / 1000)
                    | reply_parts(replies, started)
                )
                turns.append(turn)
                state = memory_state(coach, llm)
                print(
                    f"  on  turn {n + 1}: first token {turn['ttft_ms'] / 1000:.1f} s, first spoken word "
                    f"{turn['first_spoken_ms'] / 1000:.1f} s (first sentence {turn['first_sentence_ms'] / 1000:.1f} s), total {turn['total_ms'] / 1000:.1f} s, "
                    f"{turn['tokens']} tokens from a {turn['prompt_tokens']}-token prompt; "
                    f"{describe_parts(turn)}; CPU share {share:.2f}; recall "
                    f"{turn['recall_ms']:.0f} ms; waited for background {waited / 1000:.1f} s"
                    f"{' (a background call was running)' if busy else ''}; so far "
                    f"{state['rated']}/{state['memories']} rated, {state['reflections']} reflections",
                    flush=True,
                )
            during = memory_state(coach, llm)
            started = time.perf_counter()
            idle = coach.wait_idle(timeout=drain) if drain > 0 else False
            after = memory_state(coach, llm) | {
                "drained": idle,
                "drain_s": time.perf_counter() - started,
            }
        finally:
            stop_background(coach)
            coach.close()
    release(llm)
    return turns, {"during_run": during, "after_drain": after}


def describe_background(state: dict[str, Any]) -> str:
    calls = state["background_calls"]
    parts = [
        f"{kind} {c['completed']} completed / {c['preempted']} preempted"
        + (f" / {c['running']} running" if c["running"] else "")
        for kind, c in sorted(calls.items())
    ]
    return (
        f"background LLM calls: {'; '.join(parts) or 'none'}; "
        f"{state['rated']}/{state['memories']} memories rated, {state['reflections']} reflections stored"
        + (f", {state['worker_failures']} failed jobs" if state["worker_failures"] else "")
    )


def reply_latency(embedder: Embedder, character: Character, args: argparse.Namespace) -> dict[str, Any]:
    base = CoachSettings()
    settings = replace(
        base,
        reply=replace(base.reply, temperature=0.0, seed=0),
        reflection=replace(base.reflection, threshold=args.reflection_threshold),
        plans=not args.no_plans,
        read_ahead=not args.no_read_ahead,
    )
    messages = MESSAGES[: args.turns]
    if len(messages) < args.turns:
        raise SystemExit(f"--turns must be at most {len(MESSAGES)}")
    person = f"{args.reading:g} s reading, {args.typing:g} s typing"
    ahead = "" if settings.read_ahead else ", nothing read ahead"
    print(f" memory off ({len(messages)} turns, {person}{ahead}):", flush=True)
    off = run_memory_off(character, settings, messages, args.reading, args.typing)
    print(f" memory on ({len(messages)} turns, {person}{ahead}, no waiting for background):")
    on, background = run_memory_on(
        embedder,
        character,
        settings,
        messages,
        args.reading,
        args.typing,
        args.drain,
        encrypted=args.encrypted,
    )
    result: dict[str, Any] = {
        "turns": len(messages),
        "reading_s": args.reading,
        "typing_s": args.typing,
        "read_ahead": settings.read_ahead,
        "max_tokens": settings.reply.max_tokens,
        "reflection_threshold": args.reflection_threshold,
        "plans": not args.no_plans,
        "off": off,
        "on": on,
        "background": background,
    }
    for key in (
        "ttft_ms",
        "first_spoken_ms",
        "first_sentence_ms",
        "total_ms",
        "tokens",
        "prompt_tokens",
        "before_model_ms",
        "prompt_read_ms",
        "thought_1_ms",
        "thought_2_ms",
        "notes_read_ms",
    ):
        result[f"on_{key}_median"] = median([t[key] for t in on if key in t])
        result[f"off_{key}_median"] = median([t[key] for t in off if key in t])
    result["ttft_ratio"] = result["on_ttft_ms_median"] / result["off_ttft_ms_median"]
    result["total_ratio"] = result["on_total_ms_median"] / result["off_total_ms_median"]
    result["lowest_cpu_share"] = min(t["cpu_share"] for t in on + off)
    result["on_waited_ms_median"] = median([t["waited_ms"] for t in on])
    result["on_waited_ms_max"] = max(t["waited_ms"] for t in on)
    result["on_ttft_ms_p95"] = p95([t["ttft_ms"] for t in on])
    result["off_ttft_ms_p95"] = p95([t["ttft_ms"] for t in off])
    print(
        f"  medians: first token on {result['on_ttft_ms_median'] / 1000:.2f} s vs off "
        f"{result['off_ttft_ms_median'] / 1000:.2f} s (ratio {result['ttft_ratio']:.2f}); total on "
        f"{result['on_total_ms_median'] / 1000:.2f} s vs off {result['off_total_ms_median'] / 1000:.2f} s "
        f"(ratio {result['total_ratio']:.2f}); tokens on {result['on_tokens_median']:.0f} vs off "
        f"{result['off_tokens_median']:.0f} from prompts of {result['on_prompt_tokens_median']:.0f} vs "
        f"{result['off_prompt_tokens_median']:.0f} tokens; waited for background median "
        f"{result['on_waited_ms_median'] / 1000:.2f} s, max {result['on_waited_ms_max'] / 1000:.2f} s"
    )
    print(
        f"  first spoken word: on {result['on_first_spoken_ms_median'] / 1000:.2f} s vs off "
        f"{result['off_first_spoken_ms_median'] / 1000:.2f} s; first sentence of three words or more: on "
        f"{result['on_first_sentence_ms_median'] / 1000:.2f} s vs off "
        f"{result['off_first_sentence_ms_median'] / 1000:.2f} s; medians of the parts, on: "
        + describe_parts(
            {
                k.removeprefix("on_").removesuffix("_median"): v
                for k, v in result.items()
                if k.startswith("on_")
            }
        )
        + "; off: "
        + describe_parts(
            {
                k.removeprefix("off_").removesuffix("_median"): v
                for k, v in result.items()
                if k.startswith("off_")
            }
        )
    )
    print(f"  by the end of the last reply: {describe_background(background['during_run'])}")
    after = background["after_drain"]
    drained = "idle" if after["drained"] else "still busy"
    print(f"  after draining ({after['drain_s']:.0f} s, {drained}): {describe_background(after)}")
    return result


# -- 4: generation speed, Joi's embedded backend vs raw llama-cpp-python ------------------
def generation_speed(character: Character, gen_tokens: int, repeats: int) -> dict[str, Any]:
    from llama_cpp import Llama

    params = GenerationParams(max_tokens=gen_tokens, temperature=0.0, seed=0)
    messages = build_messages(character, USER, {}, [], LONG_ANSWER, time.time())
    embedded = EmbeddedLLM()
    prompt = embedded.template.render(messages, add_generation_prompt=True)
    raw = Llama(
        model_path=str(ensure_default_model()),
        n_ctx=embedded.n_ctx,
        n_threads=max(1, os.cpu_count() or 1),  # what EmbeddedLLM uses by default
        seed=0,
        verbose=False,
    )

    def joi() -> Iterator[str]:
        yield from embedded.stream_chat(messages, params)

    def plain() -> Iterator[str]:
        for chunk in raw.create_completion(
            prompt,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repeat_penalty=params.repeat_penalty,
            stop=list(TEMPLATE_STOPS),
            seed=params.seed,
            stream=True,
        ):
            text = chunk["choices"][0].get("text", "")
            if text:
                yield text

    def timed(stream: Iterator[str]) -> dict[str, Any]:
        started, first, last, parts = time.perf_counter(), None, None, []
        cpu = CpuShare()
        for text in stream:
            last = time.perf_counter()
            first = first or last
            parts.append(text)
        out = "".join(parts)
        tokens = embedded.count_tokens(out)
        span = (last - first) if first and last else 0.0
        return {
            "text": out,
            "tokens": tokens,
            "first_token_s": (first - started) if first else float("nan"),
            "tokens_per_s": (tokens - 1) / span if span > 0 and tokens > 1 else float("nan"),
            "cpu_share": cpu.share(),
        }

    for side in (joi, plain):  # warm both contexts (prompt evaluated once, weights paged in)
        "".join(side())
    runs: dict[str, list[dict[str, Any]]] = {"embedded": [], "raw": []}
    for n in range(repeats):
        for name, side in (("embedded", joi), ("raw", plain)):
            runs[name].append(timed(side()))
            r = runs[name][-1]
            print(
                f"  {name:<8} run {n + 1}: {r['tokens']} tokens, {r['tokens_per_s']:.2f} tokens/s; "
                f"CPU share {r['cpu_share']:.2f}",
                flush=True,
            )
    same = all(a["text"] == b["text"] for a, b in zip(runs["embedded"], runs["raw"], strict=True))
    result = {
        "prompt_tokens": embedded.count_tokens(prompt),
        "max_tokens": gen_tokens,
        "repeats": repeats,
        "embedded_tokens_per_s": median([r["tokens_per_s"] for r in runs["embedded"]]),
        "raw_tokens_per_s": median([r["tokens_per_s"] for r in runs["raw"]]),
        "generated_tokens": [r["tokens"] for r in runs["embedded"] + runs["raw"]],
        "same_output": same,
        "lowest_cpu_share": min(r["cpu_share"] for r in runs["embedded"] + runs["raw"]),
    }
    result["ratio"] = result["embedded_tokens_per_s"] / result["raw_tokens_per_s"]
    print(
        f"  median: embedded {result['embedded_tokens_per_s']:.2f} tokens/s, raw "
        f"{result['raw_tokens_per_s']:.2f} tokens/s, ratio {result['ratio']:.3f}; prompt "
        f"{result['prompt_tokens']} tokens; same output on both sides: {same}"
    )
    for model in (embedded._llama, raw):
        close = getattr(model, "close", None)
        if callable(close):
            close()
    gc.collect()
    return result


# -- 5: cold start of the standalone app --------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(exe: Path, data_dir: Path, timeout: float) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    ready: list[float] = []
    tail: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip())
            del tail[:-20]
            if not ready and "Joi is ready at" in line:
                ready.append(time.perf_counter() - started)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result: dict[str, Any] = {"port": port}
    try:
        while time.perf_counter() - started < timeout:
            if proc.poll() is not None:
                result["error"] = f"exited with code {proc.returncode}"
                break
            try:
                with opener.open(url, timeout=2) as response:
                    if response.status == 200:
                        result["http_200_s"] = time.perf_counter() - started
                        break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        else:
            result["error"] = f"no HTTP 200 within {timeout:.0f} s"
        deadline = time.perf_counter() + 5  # the ready line may come just after the first 200
        while "http_200_s" in result and not ready and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    result["ready_line_s"] = ready[0] if ready else None
    if "error" in result:
        result["output_tail"] = tail
    return result


def ui_cold_start(timeout: float) -> dict[str, Any]:
    exe = Path(sys.executable).parent / "joi-coach"
    if not exe.exists():
        print("  skipped: joi-coach not installed")
        return {"skipped": "joi-coach not installed"}
    runs = {}
    with tempfile.TemporaryDirectory(prefix="joi-latency-ui-") as folder:
        for label in ("first_start", "restart"):
            run = start_app(exe, Path(folder), timeout)
            runs[label] = run
            if "error" in run:
                print(f"  {label}: FAILED ({run['error']}); last output:")
                for line in run.get("output_tail", []):
                    print(f"    | {line}")
            else:
                ready = run["ready_line_s"]
                print(
                    f"  {label}: HTTP 200 after {run['http_200_s']:.1f} s; ready line after "
                    + (f"{ready:.1f} s" if ready is not None else "never (not seen)"),
                    flush=True,
                )
    return runs


# -- the summary table ---------------------------------------------------------------------
def table(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []

    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    by_size = {r["memories"]: r for r in results.get("memory", [])}
    for size, r in sorted(by_size.items()):
        value = f"{r['overhead_median_ms']:.1f} ms (p95 {r['overhead_p95_ms']:.1f})"
        if size == 10_000:
            rows.append(
                (
                    "turn memory overhead, 10k memories (median)",
                    value,
                    f"≤ {TARGETS['overhead_ms']:.0f} ms",
                    met(r["overhead_median_ms"] <= TARGETS["overhead_ms"]),
                )
            )
        else:
            rows.append((f"turn memory overhead, {size:,} memories (median)", value, "—", "—"))
    if "memory" in results and 10_000 not in by_size:
        rows.append(("turn memory overhead, 10k memories (median)", "not measured", "≤ 25 ms", "—"))
    big = by_size.get(100_000)
    if big:
        for key, label in (("open_cached_s", "with FAISS cache"), ("open_rebuild_s", "cache rebuilt")):
            rows.append(
                (
                    f"open a 100k store, {label}",
                    f"{big[key]:.2f} s",
                    f"≤ {TARGETS['open_s']:.0f} s",
                    met(big[key] <= TARGETS["open_s"]),
                )
            )
    elif "memory" in results:
        rows.append(("open a 100k store", "not measured", "≤ 2 s", "—"))
    reply = results.get("reply")
    if reply:
        typed = f"{reply['typing_s']:g} s typing" + ("" if reply["read_ahead"] else ", nothing read ahead")
        rows.append(
            (
                f"time to the first spoken word, memory on (median, {typed})",
                f"{reply['on_first_spoken_ms_median'] / 1000:.1f} s (off: {reply['off_first_spoken_ms_median'] / 1000:.1f} s)",
                f"≤ {TARGETS['first_spoken_s']:.0f} s",
                met(reply["on_first_spoken_ms_median"] <= TARGETS["first_spoken_s"] * 1000),
            )
        )
        rows.append(
            (
                f"time to the first spoken sentence of three words or more, memory on (median, {typed})",
                f"{reply['on_first_sentence_ms_median'] / 1000:.1f} s "
                f"(off: {reply['off_first_sentence_ms_median'] / 1000:.1f} s)",
                "— (reported)",
                "—",
            )
        )
        for key, label in (("ttft", "time to first token"), ("total", "whole reply")):
            limit = f"≤ {TARGETS[f'{key}_ratio']:.2f}"
            rows.append(
                (
                    f"{label}, memory on ÷ off (medians, {reply['turns']} turns, {typed})",
                    f"{reply[f'{key}_ratio']:.2f} ({reply[f'on_{key}_ms_median'] / 1000:.1f} s vs "
                    f"{reply[f'off_{key}_ms_median'] / 1000:.1f} s)",
                    limit,
                    met(reply[f"{key}_ratio"] <= TARGETS[f"{key}_ratio"]),
                )
            )
        during = reply["background"]["during_run"]
        calls = during["background_calls"]
        done = {kind: c["completed"] for kind, c in calls.items()}
        rows.append(
            (
                "background work during memory-on replies",
                f"{done.get('importance', 0)} importance + {done.get('reflection', 0)} reflection calls "
                f"completed, {sum(c['preempted'] for c in calls.values())} preempted; "
                f"{during['reflections']} reflections stored",
                "≥ 1 reflection",
                met(during["reflections"] >= 1),
            )
        )
    gen = results.get("generation")
    if gen:
        rows.append(
            (
                "generation speed, Joi ÷ raw llama-cpp-python",
                f"{gen['ratio']:.3f} ({gen['embedded_tokens_per_s']:.2f} vs {gen['raw_tokens_per_s']:.2f} "
                "tokens/s)",
                f"≥ {TARGETS['gen_ratio']:.2f}",
                met(gen["ratio"] >= TARGETS["gen_ratio"]),
            )
        )
    ui = results.get("ui")
    if ui and "skipped" not in ui:
        for label, run in ui.items():
            name = "cold start to UI (empty data folder)" if label == "first_start" else "restart to UI"
            value = (
                f"{run['http_200_s']:.1f} s (ready line {run['ready_line_s']:.1f} s)"
                if "http_200_s" in run and run["ready_line_s"] is not None
                else f"{run['http_200_s']:.1f} s"
                if "http_200_s" in run
                else f"failed: {run['error']}"
            )
            rows.append((name, value, "—", "—"))
    elif ui:
        rows.append(("cold start to UI", ui["skipped"], "—", "—"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared/data/recall-cases/locomo-dev.json",
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--turns", type=int, default=6, help=f"conversation turns (at most {len(MESSAGES)})")
    parser.add_argument("--reading", type=float, default=4.0, help="seconds the person reads a reply")
    parser.add_argument(
        "--typing", type=float, default=8.0, help="seconds the person then types the next message (0: pasted)"
    )
    parser.add_argument(
        "--no-read-ahead",
        action="store_true",
        help="nothing read while the person types (the lever's own share)",
    )
    parser.add_argument("--reflection-threshold", type=int, default=15)
    parser.add_argument(
        "--drain", type=float, default=300.0, help="seconds to wait for background work after the run"
    )
    parser.add_argument(
        "--no-plans", action="store_true", help="memory on without the plans ledger (its cost: run both)"
    )
    parser.add_argument("--gen-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="generation-speed runs per side")
    parser.add_argument("--ui-timeout", type=float, default=300.0)
    parser.add_argument("--skip-llm", action="store_true", help="skip sections 3 and 4")
    parser.add_argument("--skip-ui", action="store_true", help="skip section 5")
    parser.add_argument("--skip-memory", action="store_true", help="skip sections 1 and 2")
    parser.add_argument("--skip-generation", action="store_true", help="skip section 4")
    parser.add_argument("--quick", action="store_true", help="smoke run: sizes 1k,10k, 2 turns, 1 repeat")
    parser.add_argument(
        "--encrypted",
        action="store_true",
        help="section 3's memory-on run on an encrypted data folder (compare with a run without it)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        if args.sizes == parser.get_default("sizes"):
            args.sizes = "1000,10000"
        args.turns, args.repeats = 2, 1
        args.drain = min(args.drain, 120.0)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    info = machine_info()
    results: dict[str, Any] = {"machine": info, "options": {k: str(v) for k, v in vars(args).items()}}
    print(
        f"# Joi latency — {info['cpu_count']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"llama-cpp-python {info['llama_cpp_python']}; load average {load_average()}",
        flush=True,
    )
    embedder = Embedder()
    character = Character.load()
    wall = time.perf_counter()

    print("\n## 1-2. Memory overhead per turn and opening the store", flush=True)
    if args.skip_memory:
        print("  skipped (--skip-memory)")
    else:
        results["memory"] = measure_sizes(sizes, args.queries, args.cases, embedder, character)

    if args.skip_llm:
        print("\n## 3-4. Reply latency and generation speed: skipped (--skip-llm)")
    else:
        print("\n## 3. Reply latency on the embedded model, memory on vs off", flush=True)
        results["reply"] = reply_latency(embedder, character, args)
        print("\n## 4. Generation speed: Joi's embedded backend vs raw llama-cpp-python", flush=True)
        if args.skip_generation:
            print("  skipped (--skip-generation)")
        else:
            results["generation"] = generation_speed(character, args.gen_tokens, args.repeats)

    print("\n## 5. Cold start to a usable UI", flush=True)
    if args.skip_ui:
        print("  skipped (--skip-ui)")
    else:
        results["ui"] = ui_cold_start(args.ui_timeout)

    results["wall_s"] = time.perf_counter() - wall
    results["load_average_end"] = load_average()
    print(f"\nDone in {results['wall_s']:.0f} s; load average {results['load_average_end']}.\n")
    print(
        f"{info['cpu_count']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"llama-cpp-python {info['llama_cpp_python']}\n"
    )
    print("| measure | value | target | met? |")
    print("|---|---|---|---|")
    for row in table(results):
        print("| " + " | ".join(row) + " |")
    shares = [results[k]["lowest_cpu_share"] for k in ("reply", "generation") if k in results]
    if shares:
        print(
            f"\nLowest CPU share in an LLM measurement: {min(shares):.2f} (about 1.0 on a quiet "
            "machine; well below 0.9 means other processes took the cores and the LLM timings are "
            "not trustworthy)."
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\nWrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
