"""Memory on the real embedded model: saved prompt states are lean, correct and bounded.

Before the fix each saved state carried a ~300 MB copy of llama.cpp's logits that the cache
did not count, and a conversation grew by about 1.2 GB a turn (benchmarks/soak.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from joi_coach.coach import Coach, collect
from joi_coach.config import CoachSettings
from joi_coach.llm.base import GenerationParams
from joi_coach.llm.prompt_states import state_bytes

pytestmark = pytest.mark.llm

MB = 1 << 20


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def greedy(llm, prompt: str) -> str:
    params = GenerationParams(max_tokens=12, temperature=0, seed=0)
    return "".join(llm.stream_chat([{"role": "user", "content": prompt}], params))


def test_a_saved_state_holds_one_row_of_logits_and_is_counted_whole(embedded_llm):
    raw = embedded_llm._llama
    greedy(embedded_llm, "Name three vegetables. " * 130)  # a prompt longer than one batch
    saved = raw.save_state()
    assert saved.n_tokens > raw.n_batch
    assert saved.scores.shape == (1, raw.n_vocab())
    assert state_bytes(saved) < len(saved.llama_state) + 2 * MB


def test_a_restored_state_continues_exactly_like_a_fresh_read(embedded_llm):
    prompt = "In two words, what colour is the sky on a clear day? " * 20
    fresh = greedy(embedded_llm, prompt)
    greedy(embedded_llm, "Something else entirely: name a fruit.")  # the live context moves on
    cache = embedded_llm._llama.cache
    assert cache is not None and cache.n_states >= 1
    restored = greedy(embedded_llm, prompt)  # resumes from the saved state of the first call
    assert restored == fresh


def test_ten_turns_with_background_work_stay_within_bounds(tmp_path, embedder, embedded_llm):
    settings = CoachSettings()
    settings = replace(
        settings,
        reply=replace(settings.reply, max_tokens=60),
        reflection=replace(settings.reflection, threshold=40),
    )
    coach = Coach(embedded_llm, embedder, tmp_path, settings=settings)
    messages = [
        "I want to run a 10k in spring, but I keep skipping my runs.",
        "My manager keeps moving deadlines and I bring the stress home.",
        "I slept five hours again because I was on my phone until 1am.",
        "My sister wants me to help plan our dad's birthday party.",
        "I skipped the gym because I was exhausted after work.",
        "I cooked at home tonight instead of ordering food.",
        "I keep comparing myself to colleagues who seem to have it together.",
        "I said no to an extra project at work. It felt scary but right.",
        "I feel lonely in the evenings since my flatmate moved out.",
        "What do you remember about my running plans?",
    ]
    resident = []
    for message in messages:
        _, _, turn = collect(coach.reply("sam", message, user_name="Sam"))
        assert turn is not None and turn.reply.dialogue
        assert coach.wait_idle(timeout=300)  # importance ratings and reflections ran
        resident.append(resident_mb())
    cache = embedded_llm._llama.cache
    coach.close()
    assert resident[9] <= resident[2] + 300, f"resident MB after each turn: {[round(r) for r in resident]}"
    assert cache.cache_size <= cache.capacity_bytes and cache.n_states <= cache.max_states
