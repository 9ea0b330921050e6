"""Saved llama.cpp prompt states, bounded by the bytes they really hold.

A saved state lets llama.cpp skip re-reading a prompt prefix it has read before: the
persona and recent dialogue after a background prompt ran in between, or the part of a
background prompt read before a reply preempted it.

llama-cpp-python's own ``Llama.save_state`` also copies the logits buffer (up to
``n_batch`` × vocabulary floats: about 300 MB for Qwen's 151,936-token vocabulary), and its
``LlamaRAMCache`` counts only the llama.cpp part of a state against its capacity. A
"1 GB" cache of 40 MB states therefore held about 25 × 340 MB. Nothing reads those logits
back: a restored state always replays its last prompt token before sampling, and logits
are only read for ``logprobs``, which need ``logits_all`` (never set here). So:

- :class:`LeanLlama` saves states with one row of logits (kept so that restoring works
  unchanged) instead of the whole buffer;
- :class:`PromptStateCache` counts every byte a state holds, keeps at most ``max_states``,
  and drops a state that a newer one extends (its tokens are a prefix of the newer key: the
  newer state serves every prompt the older one could).

This module imports llama_cpp; import it only where the embedded backend is used.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence

import llama_cpp
from llama_cpp import Llama, LlamaState
from llama_cpp.llama_cache import BaseLlamaCache


def state_bytes(state: LlamaState) -> int:
    """What a saved state occupies in memory: llama.cpp's data plus both numpy arrays."""
    return len(state.llama_state) + int(state.scores.nbytes) + int(state.input_ids.nbytes)


class LeanLlama(Llama):
    """``Llama`` whose saved states carry one row of logits, not the whole buffer.

    Restoring one does not write the logits buffer either: llama-cpp-python's
    ``load_state`` broadcasts the saved rows over it, which makes all of its
    ``n_batch`` × vocabulary floats (~300 MB) resident for nothing.
    """

    def save_state(self) -> LlamaState:
        ctx = self._ctx.ctx
        size = int(llama_cpp.llama_state_get_size(ctx))
        buffer = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_get_data(ctx, buffer, size))
        if written > size:
            raise RuntimeError("llama.cpp wrote more state than it announced")
        data = ctypes.string_at(buffer, written)  # one compact copy
        del buffer
        last_logits = self.scores[max(0, min(self.n_tokens, len(self.scores)) - 1)][None, :].copy()
        return LlamaState(
            input_ids=self.input_ids.copy(),
            scores=last_logits,  # load_state broadcasts it over the rows it restores
            n_tokens=self.n_tokens,
            llama_state=data,
            llama_state_size=written,
            seed=self._seed,
        )

    def load_state(self, state: LlamaState) -> None:
        if self._logits_all:  # logprobs read the logits: restore them as upstream does
            super().load_state(state)
            return
        self.input_ids = state.input_ids.copy()
        self.n_tokens = state.n_tokens
        self._requires_eval = True  # the last prompt token is evaluated again before sampling
        self._seed = state.seed
        size = state.llama_state_size
        data = (ctypes.c_uint8 * size).from_buffer_copy(state.llama_state)
        if llama_cpp.llama_state_set_data(self._ctx.ctx, data, size) != size:
            raise RuntimeError("llama.cpp did not accept the saved state")


def usable_prefix(state: LlamaState, tokens: Sequence[int]) -> int:
    """How many of ``tokens`` a saved state holds: never more than it evaluated.

    ``state.input_ids`` is the whole token buffer, whose tail past ``n_tokens`` is stale.
    """
    return Llama.longest_token_prefix(state.input_ids[: state.n_tokens].tolist(), tokens)


class PromptStateCache(BaseLlamaCache):
    """Least-recently-used prompt states, within ``capacity_bytes`` real bytes.

    Follows ``BaseLlamaCache``'s contract: ``cache[tokens]`` returns the state sharing the
    longest token prefix with ``tokens`` (``KeyError`` if none shares any).
    """

    def __init__(self, capacity_bytes: int, max_states: int) -> None:
        if capacity_bytes <= 0 or max_states <= 0:
            raise ValueError("a prompt-state cache needs a positive capacity and number of states")
        super().__init__(capacity_bytes)
        self.max_states = max_states
        self._states: OrderedDict[tuple[int, ...], LlamaState] = OrderedDict()
        self._bytes = 0

    def __bool__(self) -> bool:  # llama-cpp-python tests ``if self.cache:``: empty is still on
        return True

    @property
    def cache_size(self) -> int:
        return self._bytes

    @property
    def n_states(self) -> int:
        return len(self._states)

    def _longest_prefix_key(self, key: Sequence[int]) -> tuple[int, ...] | None:
        best, best_len = None, 0
        for saved in self._states:
            shared = Llama.longest_token_prefix(saved, key)
            if shared > best_len:
                best, best_len = saved, shared
        return best

    def __getitem__(self, key: Sequence[int]) -> LlamaState:
        found = self._longest_prefix_key(tuple(key))
        if found is None:
            raise KeyError("no saved prompt state shares a prefix with these tokens")
        self._states.move_to_end(found)
        return self._states[found]

    def __contains__(self, key: Sequence[int]) -> bool:
        return self._longest_prefix_key(tuple(key)) is not None

    def __setitem__(self, key: Sequence[int], value: LlamaState) -> None:
        key = tuple(key)
        size = state_bytes(value)
        if size > self.capacity_bytes:
            return  # larger than the whole cache: keeping it would evict everything for nothing
        for saved in list(self._states):
            if saved == key or _is_prefix(saved, key):
                self._drop(saved)
        self._states[key] = value
        self._bytes += size
        while self._bytes > self.capacity_bytes or len(self._states) > self.max_states:
            self._drop(next(iter(self._states)))

    def discard(self, key: Sequence[int]) -> None:
        """Forget the state saved under exactly ``key``, if any (one no prompt will need)."""
        if tuple(key) in self._states:
            self._drop(tuple(key))

    def _drop(self, key: tuple[int, ...]) -> None:
        self._bytes -= state_bytes(self._states.pop(key))

    def clear(self) -> None:
        self._states.clear()
        self._bytes = 0


def _is_prefix(shorter: tuple[int, ...], longer: tuple[int, ...]) -> bool:
    return len(shorter) < len(longer) and longer[: len(shorter)] == shorter
