"""Reading the next reply's prompt while the person types (issue 24's first-token lever).

The fast tests drive the real :class:`Coach`, :class:`PriorityLLM` and :class:`PromptWarmer`
on a scripted backend that also has the embedded backend's ``warm`` method (same signature
and contract: read in chunks, stop at the next chunk once cancelled, True when read whole).
The last test reads ahead on the real embedded model and counts the prompt tokens llama.cpp
evaluates for the reply.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import llama_cpp
import pytest
from joi_coach.coach import Coach, collect
from joi_coach.config import CoachSettings
from joi_coach.llm.base import CancelToken, ChatMessage, GenerationParams
from joi_coach.llm.priority import Preempted, PriorityLLM
from joi_coach.llm.warming import PromptWarmer
from joi_coach.memory.models import NewMemory, Stream
from scripted_llm import ScriptedLLM

NOW = 1_750_000_000.0
SPOKEN = "It sounds like mornings have become hard, Sam. What would make one run feel possible?"


@dataclass
class WarmingLLM(ScriptedLLM):
    """A scripted backend that can read a prompt ahead, chunk by chunk (``chunk_seconds`` each)."""

    chunk_seconds: float = 0.0
    chunks: int = 1
    warmed: list[tuple[list[ChatMessage], str]] = field(default_factory=list)
    stopped: int = 0

    def warm(self, messages: Sequence[ChatMessage], cancel: CancelToken, assistant_prefix: str = "") -> bool:
        for _ in range(self.chunks):
            if cancel.cancelled:
                self.stopped += 1
                return False
            time.sleep(self.chunk_seconds)
        self.warmed.append((list(messages), assistant_prefix))
        return True


def coach_with_memories(tmp_path, embedder, backend, **settings) -> Coach:
    chosen = replace(CoachSettings(), background=False, **settings)
    coach = Coach(
        PriorityLLM(backend, idle_before_background=0.0),
        embedder,
        tmp_path,
        settings=chosen,
        clock=lambda: NOW,
    )
    bank = coach.bank("sam")
    lines = [
        (Stream.DIALOGUE, "I used to run 5k three times a week before my daughter was born.", "Sam"),
        (Stream.DIALOGUE, "My partner says I should join a gym but gyms make me feel judged.", "Sam"),
        (Stream.EMPATHETIC, "Sam misses the runner he used to be.", "Joi"),
        (Stream.REFLECTION, "Sam's evenings are taken by his daughter; mornings are his only time.", "Joi"),
    ]
    memories = [
        NewMemory(stream, text, NOW - (9 - n) * 86_400, speaker=who, conversation="old")
        for n, (stream, text, who) in enumerate(lines)
    ]
    bank.add(memories, embedder.embed_passages([m.text for m in memories]))
    return coach


def test_the_prompt_read_for_a_draft_is_the_prompt_its_reply_sends(tmp_path, embedder):
    backend = WarmingLLM([" tired of starting over.", " one small step.", *[SPOKEN] * 4])
    coach = coach_with_memories(tmp_path, embedder, backend)
    text = "I skipped my run again this morning and I am annoyed with myself."
    before = {m.id: m.last_accessed for m in coach.bank("sam").memories(Stream.DIALOGUE, limit=50)}

    coach.prepare("sam", text, user_name="Sam", conversation="today")
    assert coach._warmer.wait_idle(timeout=10)
    [(messages, prefix)] = backend.warmed
    assert "run 5k three times a week" in messages[-3]["content"]  # the recalled memories are in it
    assert messages[-2]["content"].startswith("When you speak to Sam next")  # and the speaking guide
    after = {m.id: m.last_accessed for m in coach.bank("sam").memories(Stream.DIALOGUE, limit=50)}
    assert after == before  # reading ahead marks nothing as recalled

    collect(coach.reply("sam", text, user_name="Sam", conversation="today"))
    first_step = backend.calls[0]
    assert (first_step.messages, first_step.assistant_prefix) == (messages, prefix)
    # once the reply is stored, the dialogue so far is read ahead for the next message
    assert coach._warmer.wait_idle(timeout=10)
    messages, prefix = backend.warmed[-1]
    assert prefix == "" and [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert (
        messages[1]["content"] == text and "What would make one run feel possible?" in messages[2]["content"]
    )
    coach.close()


def test_nothing_is_read_ahead_when_the_person_turned_it_off(tmp_path, embedder):
    backend = WarmingLLM([" tired of starting over.", " one small step.", *[SPOKEN] * 4])
    coach = coach_with_memories(tmp_path, embedder, backend, read_ahead=False)
    coach.prepare("sam", "I skipped my run again", user_name="Sam")
    collect(coach.reply("sam", "I skipped my run again", user_name="Sam"))
    assert coach._warmer.wait_idle(timeout=10)
    assert backend.warmed == [] and backend.stopped == 0
    coach.close()


def test_a_draft_that_could_not_be_sent_is_not_read(tmp_path, embedder):
    backend = WarmingLLM([])
    coach = coach_with_memories(tmp_path, embedder, backend)
    assert coach.draft_prompt("sam", "\x00" * 3, "Sam", "default") is None
    assert coach.draft_prompt("sam", "x" * 100_000, "Sam", "default") is None
    coach.close()


def test_a_newer_draft_replaces_the_one_being_read_and_a_reply_stops_it():
    backend = WarmingLLM(["Sam is here.", "help.", SPOKEN], chunks=40, chunk_seconds=0.05)
    llm = PriorityLLM(backend, idle_before_background=0.0)
    warmer = PromptWarmer(llm, settle=0.0)
    draft = [{"role": "user", "content": "I skipped"}]
    warmer.offer(lambda: (draft, ""))
    time.sleep(0.3)
    warmer.offer(lambda: ([{"role": "user", "content": "I skipped my run"}], ""))
    time.sleep(0.3)
    reply = "".join(llm.stream_chat([{"role": "user", "content": "I skipped my run."}], GenerationParams()))
    assert reply == "Sam is here."
    assert warmer.wait_idle(timeout=10)
    assert backend.stopped == 2 and backend.warmed == [] and warmer.stopped == 2
    warmer.close()


def test_the_draft_being_read_reads_on_until_the_newer_one_settles():
    """The next word does not stop the reading at once: what the drafts share keeps being read."""
    backend = WarmingLLM([], chunks=60, chunk_seconds=0.05)
    llm = PriorityLLM(backend, idle_before_background=0.0)
    warmer = PromptWarmer(llm, settle=0.4)
    warmer.offer(lambda: ([{"role": "user", "content": "I skipped"}], ""))
    time.sleep(0.6)  # settled, and reading
    warmer.offer(lambda: ([{"role": "user", "content": "I skipped my run"}], ""))
    time.sleep(0.2)
    assert backend.stopped == 0  # still reading the older draft
    time.sleep(0.5)
    assert backend.stopped == 1  # stopped once the newer one settled; the newer one is read now
    warmer.drop()
    assert warmer.wait_idle(timeout=10) and backend.stopped == 2
    warmer.close()


def test_background_thinking_gives_way_to_a_warm_and_waits_for_a_pause_in_typing():
    backend = WarmingLLM(["x" * 400], chunk_size=1, delay=0.01)
    llm = PriorityLLM(backend, idle_before_background=0.5)
    time.sleep(0.6)
    failed: list[BaseException] = []

    def think() -> None:
        try:
            llm.complete_background([{"role": "user", "content": "rate"}], GenerationParams())
        except Preempted as exc:
            failed.append(exc)

    thinking = threading.Thread(target=think)
    thinking.start()
    time.sleep(0.2)  # the background call is generating
    assert llm.warm([{"role": "user", "content": "I skipped"}], typing=True)
    thinking.join(timeout=5)
    assert failed and backend.warmed  # it gave way to the warm
    started = time.monotonic()
    backend.completions.append("later")
    assert llm.complete_background([{"role": "user", "content": "rate"}], GenerationParams()) == "later"
    assert time.monotonic() - started >= 0.45  # the quiet after typing, as after a reply


@pytest.mark.llm
def test_a_draft_read_ahead_leaves_the_reply_only_the_rest_to_read(tmp_path, embedder, embedded_llm):
    coach = coach_with_memories(tmp_path, embedder, embedded_llm)
    draft = "I skipped my run again this morning and honestly I am"
    final = "I skipped my run again this morning and honestly I am annoyed with myself about it."
    coach.prepare("sam", draft, user_name="Sam")
    assert coach._warmer.wait_idle(timeout=120) and coach._warmer.warmed == 1
    ctx = embedded_llm._llama._ctx.ctx
    llama_cpp.llama_synchronize(ctx)  # the warm's reading is counted when the context syncs
    llama_cpp.llama_perf_context_reset(ctx)
    reply = coach.draft_prompt("sam", final, "Sam", "default")
    assert reply is not None
    messages, prefix = reply
    text = "".join(
        embedded_llm.stream_chat(messages, GenerationParams(max_tokens=2, temperature=0), None, prefix)
    )
    read = llama_cpp.llama_perf_context(ctx).n_p_eval
    prompt = embedded_llm.template.render(messages, add_generation_prompt=True) + prefix
    total = embedded_llm.count_tokens(prompt)
    assert text and total > 300
    assert read <= 40, f"read {read} of {total} prompt tokens"  # the end of the message and after
    coach.close()


def test_a_memory_the_draft_read_ahead_held_stays_in_the_reply_while_it_nearly_ranks(tmp_path, embedder):
    """As a message grows word by word, two near-equal memories swap places; the one the draft's
    prompt held stays beside the new one, so the prompt read ahead still matches (issue 24)."""
    backend = WarmingLLM([" tired.", " one step.", *[SPOKEN] * 10])
    coach = coach_with_memories(tmp_path, embedder, backend)
    worn = NewMemory(
        Stream.EMPATHETIC,
        "Sam is worn out by his manager's late meetings.",
        NOW - 86_400,
        speaker="Joi",
        conversation="old",
    )
    coach.bank("sam").add([worn], embedder.embed_passages([worn.text]))
    runner, message = (
        "Sam misses the runner he used to be.",
        "My manager kept me late again and I am worn out",
    )

    bank, settings = coach.bank("sam"), coach.settings_for("sam")
    _, _, strict = coach.recall(bank, settings, message, "today", NOW, touch=False)
    assert [r.memory.text for r in strict[Stream.EMPATHETIC]] == [worn.text]  # k = 1: the best only

    coach.prepare("sam", "I miss being a runner", user_name="Sam", conversation="today")
    assert coach._warmer.wait_idle(timeout=10)
    draft_messages, _ = backend.warmed[-1]
    assert runner in draft_messages[-3]["content"] and worn.text not in draft_messages[-3]["content"]
    recalled, _, _ = collect(coach.reply("sam", message, user_name="Sam", conversation="today"))
    assert recalled is not None  # the draft's, kept, and the new best:
    assert sorted(r.memory.text for r in recalled.memories[Stream.EMPATHETIC]) == sorted([runner, worn.text])
    assert runner in backend.calls[0].messages[-3]["content"]
    assert worn.text in backend.calls[0].messages[-3]["content"]
    assert coach._warmer.wait_idle(timeout=10)
    assert ("sam", "today") not in coach._drafted  # the next message starts afresh
    coach.close()


@pytest.mark.llm
def test_a_draft_read_ahead_is_saved_only_when_background_work_reads_over_it(embedded_llm):
    """Saving a state takes about 50 ms: not at each word, only before it would be lost."""
    from joi_coach.llm.priority import BackgroundToken

    draft = [
        {"role": "system", "content": "You are Joi, a warm coach."},
        {"role": "user", "content": "I skipped my run again this morning and honestly I am " * 6},
    ]
    cache = embedded_llm._llama.cache
    cache.clear()
    assert embedded_llm.warm(draft, CancelToken())
    assert cache.n_states == 0  # read, and held only in the KV cache
    read = tuple(embedded_llm._llama.input_ids[: embedded_llm._llama.n_tokens].tolist())
    rating = [{"role": "user", "content": "Rate 1 to 10: I had cereal."}]
    "".join(
        embedded_llm.stream_chat(rating, GenerationParams(max_tokens=2, temperature=0), BackgroundToken())
    )
    assert read in cache._states  # saved before the background prompt read over it
    assert embedded_llm.warm(draft, CancelToken())
    assert embedded_llm.prefill_resumed_at == len(read)  # so the draft is not read again

    cache.clear()  # a foreground prompt about something else (the crisis screen's question)
    assert embedded_llm.warm(draft, CancelToken())
    "".join(embedded_llm.stream_chat(rating, GenerationParams(max_tokens=2, temperature=0)))
    assert read in cache._states
    cache.clear()  # the reply to the draft's message goes on from it: nothing to save
    assert embedded_llm.warm(draft, CancelToken())
    sent = [draft[0], {"role": "user", "content": draft[1]["content"] + "tired."}]
    "".join(embedded_llm.stream_chat(sent, GenerationParams(max_tokens=2, temperature=0)))
    assert read not in cache._states


@pytest.mark.llm
def test_a_reply_step_is_saved_only_when_something_else_reads_over_it(embedded_llm):
    """llama-cpp-python saves every completion's state at its end (about 50 ms); for a reply's
    steps, the person would wait for it before the next step, which goes on from the KV cache."""
    from joi_coach.llm.priority import BackgroundToken

    step = [
        {"role": "system", "content": "You are Joi, a warm coach."},
        {"role": "user", "content": "I skipped my run again this morning and honestly I am " * 6},
    ]
    cache = embedded_llm._llama.cache
    cache.clear()
    "".join(embedded_llm.stream_chat(step, GenerationParams(max_tokens=3, temperature=0)))
    assert cache.n_states == 0  # not saved at its end
    "".join(embedded_llm.stream_chat(step, GenerationParams(max_tokens=3, temperature=0), None, "Sam"))
    assert cache.n_states == 0  # the next step goes on from it: still nothing to save
    held = tuple(embedded_llm._llama.input_ids[: embedded_llm._llama.n_tokens].tolist())
    rating = [{"role": "user", "content": "Rate 1 to 10: I had cereal."}]
    "".join(
        embedded_llm.stream_chat(rating, GenerationParams(max_tokens=2, temperature=0), BackgroundToken())
    )
    assert held in cache._states  # saved before background work read over it
