"""Behaviour on the real embedded model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M via llama.cpp).

Slow by nature; each test checks what the engine makes of the model's actual output.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
from joi_coach.coach import Coach, collect
from joi_coach.cognition.importance import ImportanceRater
from joi_coach.cognition.voices import Section, match_label, unquote
from joi_coach.config import CoachSettings
from joi_coach.llm.base import GenerationParams
from joi_coach.llm.model_assembly import DEFAULT_MODEL_BYTES, ensure_default_model
from joi_coach.llm.priority import Preempted, PriorityLLM
from joi_coach.memory.models import Memory, NewMemory, Stream

pytestmark = pytest.mark.llm


def test_default_model_is_assembled_and_verified(embedded_llm):
    path = ensure_default_model(progress=False)
    assert path.stat().st_size == DEFAULT_MODEL_BYTES
    assert path.with_suffix(path.suffix + ".verified.json").exists()


def test_reply_streams_three_voices_and_stores_them(tmp_path, embedder, embedded_llm):
    coach = Coach(embedded_llm, embedder, tmp_path, settings=replace(CoachSettings(), background=False))
    recalled, streamed, turn = collect(
        coach.reply("sam", "I keep procrastinating on my thesis and I feel guilty about it.", user_name="Sam")
    )
    reply = turn.reply
    assert recalled is not None and set(recalled.memories) == set(Stream)
    assert reply.labelled, turn.raw
    assert reply.empathetic and reply.dialogue, turn.raw
    for section in Section:
        assert unquote(streamed[section]) == reply.get(section)
    assert not any(match_label(line) for line in reply.dialogue.splitlines())
    bank = coach.bank("sam")
    stored = {s: [m.text for m in bank.memories(s)] for s in Stream}
    assert "I keep procrastinating on my thesis and I feel guilty about it." in stored[Stream.DIALOGUE]
    assert reply.dialogue in stored[Stream.DIALOGUE]
    assert stored[Stream.EMPATHETIC] == [reply.empathetic]
    assert turn.timings_ms["first_token"] < turn.timings_ms["total"]
    coach.close()


def test_importance_separates_bereavement_from_breakfast(embedded_llm):
    rater = ImportanceRater(lambda messages, params: "".join(embedded_llm.stream_chat(messages, params)))
    notes = [
        Memory(1, Stream.DIALOGUE, "My brother died in a car accident two weeks ago.", 0.0, 0.0),
        Memory(2, Stream.DIALOGUE, "I had toast with jam for breakfast.", 0.0, 0.0),
    ]
    [(scores, source)] = rater.rate(notes)
    assert source == "llm"
    assert scores[1] >= 7 and scores[2] <= 4 and scores[1] > scores[2]


def test_what_the_person_lives_through_outranks_what_joi_said_about_it(embedded_llm):
    rater = ImportanceRater(
        lambda messages, params: "".join(embedded_llm.stream_chat(messages, params)), coach="Joi"
    )
    notes = [
        Memory(
            1, Stream.DIALOGUE, "My brother died in a car accident two weeks ago.", 0.0, 0.0, speaker="Sam"
        ),
        Memory(
            2, Stream.DIALOGUE, "That is a terrible loss, Sam. How are you sleeping?", 0.0, 0.0, speaker="Joi"
        ),
        Memory(3, Stream.EMPATHETIC, "Sam is grieving his brother and feels unmoored.", 0.0, 0.0),
    ]
    scores = {k: v for rated, _ in rater.rate(notes) for k, v in rated.items()}
    assert scores[1] > scores[2] and scores[1] > scores[3], scores


def test_a_reply_preempts_background_work_in_the_middle_of_its_prompt(embedded_llm):
    """A long background prompt is read in chunks: a reply stops it before it is read."""
    llm = PriorityLLM(embedded_llm, idle_before_background=0.0)
    notes = " ".join(f"Note {n}: the person talked about work, sleep and running." for n in range(120))
    long_prompt = [{"role": "user", "content": f"{notes}\nRate each note."}]
    outcome: dict[str, object] = {}

    def background() -> None:
        try:
            llm.complete_background(long_prompt, GenerationParams(max_tokens=20, temperature=0))
        except Preempted:
            outcome["preempted"] = True

    thread = threading.Thread(target=background)
    thread.start()
    deadline = time.monotonic() + 60
    while not llm._busy and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # well inside reading a prompt of ~2,000 tokens
    reply = "".join(
        llm.stream_chat(
            [{"role": "user", "content": "Say hello."}], GenerationParams(max_tokens=8, temperature=0)
        )
    )
    thread.join(120)
    read, total = embedded_llm.last_prefill
    assert reply.strip() and outcome == {"preempted": True}
    assert total > 1000 and read < total // 2, f"background read {read} of {total} prompt tokens first"
    # The retry resumes where it was stopped, from the saved prompt state.
    llm.complete_background(long_prompt, GenerationParams(max_tokens=2, temperature=0))
    assert embedded_llm.prefill_resumed_at >= read > 0


def test_the_same_background_prompt_twice_is_answered_twice(embedded_llm):
    """A retry of the very prompt just answered (reflection asks again) must generate again.

    The prompt was then all in the KV cache; the chunked prefill marked every token read,
    so llama.cpp sampled from stale logits and returned nothing, every time after.
    """
    llm = PriorityLLM(embedded_llm, idle_before_background=0.0)
    prompt = [{"role": "user", "content": "Write three questions about running, one per line."}]
    answers = [
        llm.complete_background(
            prompt, GenerationParams(max_tokens=24, temperature=0.3 + 0.2 * seed, seed=seed)
        )
        for seed in (0, 1, 2)
    ]
    assert all(answer.strip() for answer in answers), answers
    again = llm.complete_background(prompt, GenerationParams(max_tokens=24, temperature=0, seed=0))
    assert again == llm.complete_background(prompt, GenerationParams(max_tokens=24, temperature=0, seed=0))
    assert again.strip()


def test_background_work_waits_until_the_model_has_been_idle(embedded_llm):
    llm = PriorityLLM(embedded_llm, idle_before_background=1.5)
    "".join(
        llm.stream_chat([{"role": "user", "content": "Hi."}], GenerationParams(max_tokens=2, temperature=0))
    )
    finished = time.monotonic()
    llm.complete_background(
        [{"role": "user", "content": "Say ok."}], GenerationParams(max_tokens=2, temperature=0)
    )
    assert time.monotonic() - finished >= 1.5  # it waited for the quiet moment first


def test_conversation_remembers_rates_and_reflects(tmp_path, embedder, embedded_llm):
    """Several turns: memories in all four streams, importance filled in, a cited reflection."""
    settings = CoachSettings()
    settings = replace(settings, reflection=replace(settings.reflection, threshold=20))
    coach = Coach(embedded_llm, embedder, tmp_path, settings=settings)
    now = time.time()
    messages = [
        "My grandmother died last month and I miss her a lot.",
        "I want to start running again, three times a week.",
        "I feel guilty that I didn't visit my grandmother more often.",
    ]
    for n, message in enumerate(messages):
        collect(coach.reply("sam", message, user_name="Sam", now=now + 60 * n))
    assert coach.wait_idle(timeout=900)
    bank = coach.bank("sam")
    assert bank.unrated() == []
    reflections = bank.memories(Stream.REFLECTION)
    rated = [(m.stream.value, m.importance) for m in bank.memories(limit=1000)]
    if not reflections:  # the model's ratings vary from run to run: was one due at all?
        assert not coach.should_reflect("sam"), f"due but none stored: {rated}, {coach.background_failures}"
        reflections = coach.reflect_now("sam", user_name="Sam", now=now + 300)
    assert reflections, f"no reflection stored: {rated}, background failures {coach.background_failures}"
    known = {m.id: m for m in bank.memories(limit=1000)}
    for reflection in reflections:
        assert reflection.evidence and set(reflection.evidence) <= set(known)
        assert reflection.depth == 1 + max(known[e].depth for e in reflection.evidence)
    assert all(bank.count(s) > 0 for s in Stream)
    # A later conversation recalls what was said in this one, with the reasons (within one
    # conversation, its recent lines are in the prompt already and are not recalled again).
    later = coach.reply(
        "sam", "How should I handle missing my grandma?", conversation="later", now=now + 86_400
    )
    recalled, _, _ = collect(later)
    found = [r for items in recalled.memories.values() for r in items if "grandm" in r.memory.text.lower()]
    assert found and all(r.score.total > 0 for r in found)
    coach.close()
    # and after a restart
    restarted = Coach(embedded_llm, embedder, tmp_path, settings=replace(settings, background=False))
    again = restarted.bank("sam").recall("grandmother", {Stream.DIALOGUE: 3}, now=now + 900)
    assert any("grandmother" in r.memory.text for r in again[Stream.DIALOGUE])
    restarted.close()


def test_reflection_stores_insights_citing_real_memories(tmp_path, embedder, embedded_llm):
    coach = Coach(embedded_llm, embedder, tmp_path, settings=replace(CoachSettings(), background=False))
    bank = coach.bank("ana")
    facts = [
        "I skipped the gym again because I was too tired after work.",
        "I stayed up until 2am scrolling on my phone.",
        "I told my boss I would finish the report by Friday but I haven't started.",
        "When I do exercise in the morning I feel calmer all day.",
        "My sister says I always take on too much.",
        "I said yes to organising the office party even though I'm swamped.",
    ]
    ids = bank.add([NewMemory(Stream.DIALOGUE, f, time.time(), speaker="Ana") for f in facts])
    reflections = coach.reflect_now("ana", user_name="Ana")
    assert reflections
    for reflection in reflections:
        assert reflection.stream is Stream.REFLECTION and reflection.depth == 1
        assert set(reflection.evidence) <= set(ids)
    coach.close()


def test_two_people_at_once_are_both_answered_and_kept_apart(tmp_path, embedder, embedded_llm):
    coach = Coach(embedded_llm, embedder, tmp_path, settings=replace(CoachSettings(), background=False))
    turns: dict[str, object] = {}
    messages = {
        "ana": "I am nervous about my driving test on Monday.",
        "ben": "I keep arguing with my brother.",
    }

    def talk(profile: str) -> None:
        turns[profile] = collect(coach.reply(profile, messages[profile], user_name=profile.title()))[2]

    threads = [threading.Thread(target=talk, args=(p,)) for p in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert set(turns) == {"ana", "ben"} and all(t.reply.dialogue for t in turns.values())
    for profile, other in (("ana", "ben"), ("ben", "ana")):
        texts = " ".join(m.text for m in coach.bank(profile).memories(limit=100))
        assert messages[profile] in texts and messages[other] not in texts
    coach.close()
