"""Retrieval maths with fixed clocks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from joi_coach.memory.scoring import ScoreWeights, combine, importance_signal, min_max, recency


def test_recency_is_exponential_in_hours():
    values = recency(np.array([0.0, 1.0, 24.0, -5.0]), 0.99)
    assert values[0] == 1.0
    assert values[1] == pytest.approx(0.99)
    assert values[2] == pytest.approx(0.99**24)
    assert values[3] == 1.0  # a clock skew into the future counts as now


def test_min_max_and_constant_vectors():
    assert list(min_max(np.array([2.0, 4.0, 3.0]))) == [0.0, 1.0, 0.5]
    assert list(min_max(np.array([7.0, 7.0]))) == [0.0, 0.0]
    assert min_max(np.array([])).size == 0


def test_importance_signal_maps_1_to_10_and_neutral_for_unrated():
    values = importance_signal(np.array([1, 10, np.nan, 42]), neutral=5)
    assert list(values) == [0.0, 1.0, pytest.approx(4 / 9), 1.0]


def test_combine_breakdown_adds_up_and_ranks():
    weights = ScoreWeights(relevance=1.0, lexical=0.5, recency=0.2, importance=0.3)
    scores = combine(
        similarity=np.array([0.9, 0.1]),
        bm25=np.array([0.0, 3.0]),
        hours_since_access=np.array([0.0, 48.0]),
        importance=np.array([8, np.nan]),
        weights=weights,
        decay_per_hour=0.995,
        neutral_importance=5,
    )
    first, second = scores
    for s in scores:
        expected = s.relevance + 0.5 * s.lexical + 0.2 * s.recency + 0.3 * s.importance
        assert s.total == pytest.approx(expected)
    assert first.relevance == 1.0 and second.relevance == 0.0
    assert second.lexical == 1.0 and first.lexical == 0.0
    assert second.recency == pytest.approx(0.995**48)
    assert second.hours_since_access == 48.0
    assert first.total > second.total


def test_old_but_relevant_beats_recent_but_irrelevant_at_default_weights():
    """The failure of plain Generative-Agents weights: months-old memories must not be buried."""
    scores = combine(
        similarity=np.array([0.8, 0.2]),
        bm25=np.array([5.0, 0.0]),
        hours_since_access=np.array([24 * 180, 0.5]),
        importance=np.array([np.nan, np.nan]),
        weights=ScoreWeights(),
        decay_per_hour=0.995,
        neutral_importance=5,
    )
    assert scores[0].total > scores[1].total
    assert math.isfinite(scores[0].total)
