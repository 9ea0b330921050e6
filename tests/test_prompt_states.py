"""The prompt-state cache: bounded by real bytes, least recently used, prefix-aware.

The states here are real ``llama_cpp.LlamaState`` objects with small arrays; the tests on
the real model (restoring a lean state, memory over a conversation) are in
test_llm_memory.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from joi_coach.llm.prompt_states import PromptStateCache, state_bytes
from llama_cpp import LlamaState

VOCAB = 16


def state(tokens: list[int], kv_bytes: int = 1000, logit_rows: int = 1) -> LlamaState:
    return LlamaState(
        input_ids=np.array(tokens, dtype=np.intc),
        scores=np.zeros((logit_rows, VOCAB), dtype=np.single),
        n_tokens=len(tokens),
        llama_state=b"\0" * kv_bytes,
        llama_state_size=kv_bytes,
        seed=0,
    )


def test_state_bytes_counts_the_logits_and_tokens_too():
    big_logits = state([1, 2, 3], kv_bytes=1000, logit_rows=512)
    assert state_bytes(big_logits) == 1000 + 512 * VOCAB * 4 + 3 * np.dtype(np.intc).itemsize


def test_capacity_is_enforced_on_real_bytes():
    one = state_bytes(state([1], kv_bytes=1000, logit_rows=64))
    cache = PromptStateCache(capacity_bytes=2 * one + 10, max_states=10)
    for first in (1, 2, 3, 4):
        cache[[first]] = state([first], kv_bytes=1000, logit_rows=64)
    assert cache.n_states == 2 and cache.cache_size <= cache.capacity_bytes
    assert [3] in cache and [1] not in cache  # the oldest went first


def test_number_of_states_is_bounded():
    cache = PromptStateCache(capacity_bytes=1 << 30, max_states=3)
    for first in range(1, 8):
        cache[[first, 100]] = state([first, 100])
    assert cache.n_states == 3
    assert cache.cache_size == 3 * state_bytes(state([1, 100]))


def test_lookup_returns_the_longest_shared_prefix_and_refreshes_it():
    cache = PromptStateCache(capacity_bytes=1 << 30, max_states=2)
    cache[[1, 2, 3]] = state([1, 2, 3])
    cache[[1, 9]] = state([1, 9])
    assert cache[[1, 2, 7]].input_ids.tolist() == [1, 2, 3]
    cache[[5]] = state([5])  # evicts the least recently used: [1, 9], not the one just read
    assert cache[[1, 9]].input_ids.tolist() == [1, 2, 3]
    with pytest.raises(KeyError):
        cache[[8, 8]]
    assert [8] not in cache


def test_a_state_extended_by_a_newer_one_is_dropped():
    cache = PromptStateCache(capacity_bytes=1 << 30, max_states=10)
    cache[[1, 2]] = state([1, 2])
    cache[[1, 2, 3, 4]] = state([1, 2, 3, 4])  # serves every prompt [1, 2] served
    cache[[1, 5]] = state([1, 5])  # shares a prefix only: both stay
    assert cache.n_states == 2
    assert cache[[1, 2]].input_ids.tolist() == [1, 2, 3, 4]
    cache[[1, 5]] = state([1, 5], kv_bytes=7)  # the same key again replaces it
    assert cache.n_states == 2 and len(cache[[1, 5]].llama_state) == 7


def test_a_state_larger_than_the_cache_is_not_kept_and_evicts_nothing():
    cache = PromptStateCache(capacity_bytes=5000, max_states=4)
    cache[[1]] = state([1])
    cache[[2]] = state([2], kv_bytes=10_000)
    assert cache.n_states == 1 and [2, 2] not in cache


def test_an_empty_cache_still_counts_as_on():
    # llama-cpp-python looks states up and saves them only ``if self.cache:``
    assert bool(PromptStateCache(capacity_bytes=1000, max_states=1))


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError):
        PromptStateCache(capacity_bytes=0, max_states=1)
    with pytest.raises(ValueError):
        PromptStateCache(capacity_bytes=1000, max_states=0)
