"""Per-stream retrieval: gather candidates, score them, return the top k with reasons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .models import IMPORTANCE_MAX, IMPORTANCE_MIN, NEUTRAL_IMPORTANCE, Memory, Stream
from .scoring import SECONDS_PER_HOUR, DayMatch, ScoreBreakdown, ScoreWeights, top_k
from .sqlite_store import SqliteMemoryStore
from .time_hints import DaySpan, named_days
from .vector_index import VectorIndex


@dataclass(frozen=True)
class RetrievalSettings:
    """How memories are ranked. The defaults are tuned on public recall data (docs/benchmarks.md)."""

    weights: ScoreWeights = field(default_factory=ScoreWeights)
    decay_per_hour: float = 0.995
    neutral_importance: float = NEUTRAL_IMPORTANCE
    candidate_pool: int = 100
    context_weight: float = 0.5
    # A memory made on a day the query names ("on May 2nd", "yesterday") gains as much as the
    # relevance and lexical weights together: that day first, then the content orders within it. Set by that reasoning, not tuned (docs/benchmarks.md); 0 turns it off.
    named_day_weight: float = 2.0

    def __post_init__(self) -> None:
        if not isinstance(self.weights, ScoreWeights):
            raise ValueError("retrieval.weights must be a set of weights")
        if not 0 < self.decay_per_hour <= 1:
            raise ValueError("retrieval.decay_per_hour must be in (0, 1]")
        if not IMPORTANCE_MIN <= self.neutral_importance <= IMPORTANCE_MAX:
            raise ValueError(
                f"retrieval.neutral_importance must be from {IMPORTANCE_MIN} to {IMPORTANCE_MAX}"
            )
        if (
            isinstance(self.candidate_pool, bool)
            or not isinstance(self.candidate_pool, int)
            or self.candidate_pool < 1
        ):
            raise ValueError("retrieval.candidate_pool must be a whole number from 1")
        if not 0 <= self.context_weight < float("inf"):
            raise ValueError("retrieval.context_weight must be a number from 0")
        if (
            isinstance(self.named_day_weight, bool)
            or not isinstance(self.named_day_weight, (int, float))
            or not 0 <= self.named_day_weight < float("inf")
        ):
            raise ValueError("retrieval.named_day_weight must be a number from 0")


@dataclass(frozen=True)
class Recollection:
    """A recalled memory and why it was recalled."""

    memory: Memory
    score: ScoreBreakdown


class Retriever:
    """Ranks one profile's memories of a stream for a query.

    Candidates are the union of the nearest neighbours (FAISS), the best BM25 matches
    (FTS5), the most recently accessed and most important memories, and those made on a past
    day the query names (:mod:`.time_hints`); every candidate is then scored on all signals. A memory outside every candidate list cannot
    outrank the candidates on the combined score when the pool is well above ``k``.

    The lexical matches of every stream come from one FTS5 query (:meth:`retrieve_many`).
    """

    def __init__(self, store: SqliteMemoryStore, index: VectorIndex, settings: RetrievalSettings) -> None:
        self.store = store
        self.index = index
        self.settings = settings

    def _pool(self, k: int) -> int:
        return max(self.settings.candidate_pool, 4 * k)

    def lexical(self, query_text: str, limits: dict[Stream, int]) -> dict[Stream, list[tuple[int, float]]]:
        """BM25 matches per stream (stream -> limit) in one FTS5 query."""
        return self.store.lexical_search_streams(
            limits, query_text, self.settings.context_weight, stream_of=self.index.streams_of
        )

    def retrieve(
        self,
        stream: Stream,
        query_text: str,
        query_vector: np.ndarray,
        k: int,
        now: float,
        *,
        exclude: Iterable[int] = (),
    ) -> list[Recollection]:
        """Top k of one stream (for several, :meth:`retrieve_many` asks FTS5 once)."""
        return self.retrieve_many({Stream(stream): k}, query_text, query_vector, now, exclude=exclude)[
            Stream(stream)
        ]

    def retrieve_many(
        self,
        k_per_stream: dict[Stream, int],
        query_text: str,
        query_vector: np.ndarray,
        now: float,
        *,
        exclude: Iterable[int] = (),
    ) -> dict[Stream, list[Recollection]]:
        """Top k of each stream (stream -> k), with one FTS5 query for all of them."""
        excluded = set(exclude)
        wanted = {Stream(s): k for s, k in k_per_stream.items() if k > 0}
        lexical = self.lexical(query_text, {s: self._pool(k) + len(excluded) for s, k in wanted.items()})
        days = named_days(query_text, now) if self.settings.named_day_weight > 0 else []
        return {
            Stream(s): (
                self._rank(Stream(s), query_vector, k, now, excluded, lexical[Stream(s)], days)
                if Stream(s) in wanted
                else []
            )
            for s, k in k_per_stream.items()
        }

    def _rank(
        self,
        stream: Stream,
        query_vector: np.ndarray,
        k: int,
        now: float,
        excluded: set[int],
        lexical: list[tuple[int, float]],
        days: Sequence[DaySpan] = (),
    ) -> list[Recollection]:
        """Gather a stream's candidates, score them, and read the top k's memories."""
        settings = self.settings
        pool = self._pool(k)
        similarity = dict(self.index.search(stream, query_vector, pool + len(excluded)))
        bm25 = dict(lexical)
        candidates = set(similarity) | set(bm25)
        if settings.weights.recency > 0:
            candidates.update(self.store.most_recent(stream, pool // 4 + len(excluded)))
        if settings.weights.importance > 0:
            candidates.update(self.store.most_important(stream, pool // 4 + len(excluded)))
        for start, end in days:
            candidates.update(self.store.created_between(stream, start, end, pool + len(excluded)))
        candidates -= excluded
        if not candidates:
            return []
        missing = [i for i in candidates if i not in similarity]
        if missing:  # recent, important or lexical matches beyond the nearest: cosine from the cache
            similarity.update(self.index.similarities(stream, missing, query_vector))
            unindexed = [i for i in missing if i not in similarity]
            if unindexed:
                q = query_vector.astype(np.float32).ravel()
                similarity.update((i, float(v @ q)) for i, v in self.store.vectors_for(unindexed).items())
        fields = self.store.ranking_fields(sorted(candidates))
        ids = list(fields)
        created, accessed, importance = (
            np.array([fields[i][0] for i in ids], dtype=np.float64),
            np.array([fields[i][1] for i in ids], dtype=np.float64),
            np.array([np.nan if fields[i][2] is None else fields[i][2] for i in ids], dtype=np.float64),
        )
        best = top_k(
            similarity=np.array([similarity.get(i, 0.0) for i in ids]),
            bm25=np.array([bm25.get(i, 0.0) for i in ids]),
            hours_since_access=(now - accessed) / SECONDS_PER_HOUR,
            importance=importance,
            weights=settings.weights,
            decay_per_hour=settings.decay_per_hour,
            neutral_importance=settings.neutral_importance,
            k=k,
            created_at=created,
            ids=np.array(ids, dtype=np.int64),
            day=DayMatch(on_named_day(created, days), settings.named_day_weight) if days else None,
        )
        memories = {m.id: m for m in self.store.get([ids[i] for i, _ in best])}
        return [Recollection(memories[ids[i]], score) for i, score in best if ids[i] in memories]


def on_named_day(created_at: np.ndarray, days: Sequence[DaySpan]) -> np.ndarray:
    """For each creation time, whether it falls on one of ``days``."""
    on_day = np.zeros(len(created_at), dtype=bool)
    for start, end in days:
        on_day |= (created_at >= start) & (created_at < end)
    return on_day
