"""Per-stream retrieval: gather candidates, score them, return the top k with reasons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .models import IMPORTANCE_MAX, IMPORTANCE_MIN, NEUTRAL_IMPORTANCE, Memory, Stream
from .scoring import SECONDS_PER_HOUR, ScoreBreakdown, ScoreWeights, combine
from .sqlite_store import SqliteMemoryStore
from .vector_index import VectorIndex


@dataclass(frozen=True)
class RetrievalSettings:
    """How memories are ranked. The defaults are tuned on public recall data (docs/benchmarks.md)."""

    weights: ScoreWeights = field(default_factory=ScoreWeights)
    decay_per_hour: float = 0.995
    neutral_importance: float = NEUTRAL_IMPORTANCE
    candidate_pool: int = 100
    context_weight: float = 0.5

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


@dataclass(frozen=True)
class Recollection:
    """A recalled memory and why it was recalled."""

    memory: Memory
    score: ScoreBreakdown


class Retriever:
    """Ranks one profile's memories of a stream for a query.

    Candidates are the union of the nearest neighbours (FAISS), the best BM25 matches
    (FTS5), and the most recently accessed and most important memories; every candidate
    is then scored on all four signals. A memory outside every candidate list cannot
    outrank the candidates on the combined score when the pool is well above ``k``.
    """

    def __init__(self, store: SqliteMemoryStore, index: VectorIndex, settings: RetrievalSettings) -> None:
        self.store = store
        self.index = index
        self.settings = settings

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
        """Top k of a stream; refreshing last access is the caller's (one write for all streams)."""
        if k <= 0:
            return []
        settings = self.settings
        pool = max(settings.candidate_pool, 4 * k)
        excluded = set(exclude)
        similarity = dict(self.index.search(stream, query_vector, pool + len(excluded)))
        bm25 = dict(
            self.store.lexical_search(stream, query_text, pool + len(excluded), settings.context_weight)
        )
        candidates = set(similarity) | set(bm25)
        if settings.weights.recency > 0:
            candidates.update(self.store.most_recent(stream, pool // 4 + len(excluded)))
        if settings.weights.importance > 0:
            candidates.update(self.store.most_important(stream, pool // 4 + len(excluded)))
        candidates -= excluded
        if not candidates:
            return []
        missing = [i for i in candidates if i not in similarity]
        if missing:
            q = query_vector.astype(np.float32).ravel()
            similarity.update((i, float(v @ q)) for i, v in self.store.vectors_for(missing).items())
        memories = self.store.get(sorted(candidates))
        scores = combine(
            similarity=np.array([similarity.get(m.id, 0.0) for m in memories]),
            bm25=np.array([bm25.get(m.id, 0.0) for m in memories]),
            hours_since_access=np.array([(now - m.last_accessed) / SECONDS_PER_HOUR for m in memories]),
            importance=np.array([np.nan if m.importance is None else m.importance for m in memories]),
            weights=settings.weights,
            decay_per_hour=settings.decay_per_hour,
            neutral_importance=settings.neutral_importance,
        )
        ranked = sorted(
            (Recollection(m, s) for m, s in zip(memories, scores, strict=True)),
            key=lambda r: (-r.score.total, -r.memory.created_at, -r.memory.id),
        )[:k]
        return ranked
