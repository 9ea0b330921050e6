"""Retrieval scoring maths (pure functions, fixed clocks in tests).

A memory's score is a weighted sum of four signals, each brought to [0, 1]:

* relevance: cosine similarity to the query, min-max normalised over the candidates;
* lexical: BM25 of the query's words, min-max normalised over the candidates;
* recency: ``decay_per_hour ** hours_since_last_access`` (already in [0, 1]);
* importance: ``(importance - 1) / 9``, unrated memories count as neutral;

and, when the query names a past day (:mod:`.time_hints`), a fifth: 1 for a memory made on
that day, 0 otherwise.

Relevance and lexical scores have arbitrary scales, so they are normalised per query as in
Generative Agents. Recency and importance keep their absolute scale: min-max stretching
them would let tiny age differences between months-old memories decide the ranking, which
is what buries the past under plain Generative-Agents scoring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import IMPORTANCE_MAX, IMPORTANCE_MIN

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class ScoreWeights:
    relevance: float = 1.0
    lexical: float = 1.0
    recency: float = 0.15
    importance: float = 0.15

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value < float("inf")
            ):
                raise ValueError(f"retrieval weight {name} must be a number from 0, not {value!r}")


@dataclass(frozen=True)
class ScoreBreakdown:
    """Why a memory was recalled: each signal in [0, 1], its raw value, and the total."""

    relevance: float
    lexical: float
    recency: float
    importance: float
    total: float
    similarity: float
    bm25: float
    hours_since_access: float
    named_day: float = 0.0  # 1 when made on a day the query names


@dataclass(frozen=True)
class DayMatch:
    """Which candidates were made on a day the query names (bools), and that signal's weight."""

    on_day: np.ndarray
    weight: float


def min_max(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant vector carries no ranking signal and becomes zeros."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def recency(hours_since_access: np.ndarray, decay_per_hour: float) -> np.ndarray:
    hours = np.clip(np.asarray(hours_since_access, dtype=np.float64), 0.0, None)
    return np.power(decay_per_hour, hours)


def importance_signal(importance: np.ndarray, neutral: float) -> np.ndarray:
    """Importance 1..10 (NaN for unrated → ``neutral``) mapped to [0, 1]."""
    values = np.asarray(importance, dtype=np.float64)
    values = np.where(np.isnan(values), neutral, values)
    values = np.clip(values, IMPORTANCE_MIN, IMPORTANCE_MAX)
    return (values - IMPORTANCE_MIN) / (IMPORTANCE_MAX - IMPORTANCE_MIN)


def _signals(
    similarity: np.ndarray,
    bm25: np.ndarray,
    hours_since_access: np.ndarray,
    importance: np.ndarray,
    weights: ScoreWeights,
    decay_per_hour: float,
    neutral_importance: float,
    day: DayMatch | None = None,
) -> tuple[np.ndarray, ...]:
    """(relevance, lexical, recency, importance, total, named day), one entry per candidate."""
    rel = min_max(similarity)
    lex = min_max(bm25)
    rec = recency(hours_since_access, decay_per_hour)
    imp = importance_signal(importance, neutral_importance)
    total = weights.relevance * rel + weights.lexical * lex + weights.recency * rec + weights.importance * imp
    named = np.zeros_like(total) if day is None else np.asarray(day.on_day, dtype=np.float64)
    if day is not None:
        total = total + day.weight * named
    return rel, lex, rec, imp, total, named


def combine(
    similarity: np.ndarray,
    bm25: np.ndarray,
    hours_since_access: np.ndarray,
    importance: np.ndarray,
    weights: ScoreWeights,
    decay_per_hour: float,
    neutral_importance: float,
    day: DayMatch | None = None,
) -> list[ScoreBreakdown]:
    """Score candidates; arrays are aligned, one entry per candidate memory."""
    signals = _signals(
        similarity, bm25, hours_since_access, importance, weights, decay_per_hour, neutral_importance, day
    )
    return [_breakdown(signals, similarity, bm25, hours_since_access, i) for i in range(len(signals[4]))]


def top_k(
    similarity: np.ndarray,
    bm25: np.ndarray,
    hours_since_access: np.ndarray,
    importance: np.ndarray,
    weights: ScoreWeights,
    decay_per_hour: float,
    neutral_importance: float,
    *,
    k: int,
    created_at: np.ndarray,
    ids: np.ndarray,
    day: DayMatch | None = None,
) -> list[tuple[int, ScoreBreakdown]]:
    """The ``k`` best candidates as (position, breakdown), best first: as :func:`combine`
    ranked by total, then newest, then highest id, without a breakdown for the rest."""
    signals = _signals(
        similarity, bm25, hours_since_access, importance, weights, decay_per_hour, neutral_importance, day
    )
    total = signals[4]
    order = np.lexsort(
        (-np.asarray(ids, dtype=np.float64), -np.asarray(created_at, dtype=np.float64), -total)
    )
    return [
        (int(i), _breakdown(signals, similarity, bm25, hours_since_access, int(i)))
        for i in order[: max(k, 0)]
    ]


def _breakdown(
    signals: tuple[np.ndarray, ...],
    similarity: np.ndarray,
    bm25: np.ndarray,
    hours_since_access: np.ndarray,
    i: int,
) -> ScoreBreakdown:
    rel, lex, rec, imp, total, named = signals
    return ScoreBreakdown(
        relevance=float(rel[i]),
        lexical=float(lex[i]),
        recency=float(rec[i]),
        importance=float(imp[i]),
        total=float(total[i]),
        similarity=float(similarity[i]),
        bm25=float(bm25[i]),
        hours_since_access=float(hours_since_access[i]),
        named_day=float(named[i]),
    )
