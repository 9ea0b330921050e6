"""The similarity signal: a message's sentences compared with exemplar sentences by embedding.

Short sentences are grouped into chunks of about ``CHUNK_WORDS`` words, the last
``MAX_SENTENCES_EMBEDDED`` chunks are embedded, and each is compared (cosine similarity of
normalised vectors) with the exemplars in ``crisis_exemplars``, which are embedded once per
process and model. ``nearest_crisis`` applies the decision below.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .crisis_exemplars import CRISIS_EXEMPLARS, SAFE_EXEMPLARS
from .signals import CrisisKind, CrisisSignal

if TYPE_CHECKING:
    from joi_coach.memory.embeddings import Embedder

__all__ = [
    "CHUNK_WORDS",
    "MAX_SENTENCES_EMBEDDED",
    "SIM_MARGIN",
    "SIM_MIN",
    "SIM_SURE",
    "Exemplars",
    "chunks",
    "exemplars_for",
    "nearest_crisis",
]

MAX_SENTENCES_EMBEDDED = 8  # the last sentences (or groups of short ones) compared by similarity
CHUNK_WORDS = 30  # short sentences are grouped up to about this many words before embedding

# Similarity decision, on cosine similarity of normalised MiniLM vectors: a sentence is a
# crisis when its nearest crisis exemplar is at least SIM_SURE, or at least SIM_MIN and
# SIM_MARGIN closer than its nearest non-crisis exemplar.
SIM_SURE = 0.80
SIM_MIN = 0.53
SIM_MARGIN = 0.08


@dataclass(frozen=True)
class Exemplars:
    crisis: np.ndarray  # (n, dim), normalised
    kinds: tuple[CrisisKind, ...]  # the kind of each crisis row
    safe: np.ndarray  # (m, dim), normalised


_EXEMPLAR_CACHE: dict[str, Exemplars] = {}
_EXEMPLAR_LOCK = threading.Lock()


def exemplars_for(embedder: Embedder) -> Exemplars:
    """The exemplar vectors for this embedding model, embedded once per process."""
    with _EXEMPLAR_LOCK:
        cached = _EXEMPLAR_CACHE.get(embedder.model_id)
        if cached is None:
            kinds = tuple(kind for kind, texts in CRISIS_EXEMPLARS.items() for _ in texts)
            texts = [text for group in CRISIS_EXEMPLARS.values() for text in group]
            cached = Exemplars(
                embedder.embed_passages(texts), kinds, embedder.embed_passages(list(SAFE_EXEMPLARS))
            )
            _EXEMPLAR_CACHE[embedder.model_id] = cached
        return cached


def chunks(parts: list[str]) -> list[str]:
    """The last MAX_SENTENCES_EMBEDDED sentences, short ones grouped up to CHUNK_WORDS words."""
    groups: list[str] = []
    current: list[str] = []
    for sentence in parts:
        if current and sum(len(s.split()) for s in current) + len(sentence.split()) > CHUNK_WORDS:
            groups.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        groups.append(" ".join(current))
    return groups[-MAX_SENTENCES_EMBEDDED:]


def nearest_crisis(vectors: np.ndarray, exemplars: Exemplars, guarded: bool) -> CrisisSignal | None:
    """The closest crisis exemplar over all chunks that passes the similarity decision. When a
    guard held a pattern back (a negation, a recovered past, an idiom), the margin doubles and
    no similarity counts as sure, so the embedding does not undo the guard."""
    margin = SIM_MARGIN * (2 if guarded else 1)
    crisis = vectors @ exemplars.crisis.T  # (chunks, n)
    safe = (vectors @ exemplars.safe.T).max(axis=1)
    best: CrisisSignal | None = None
    for row, nearest_safe in zip(crisis, safe, strict=True):
        index = int(row.argmax())
        similarity = float(row[index])
        sure = similarity >= SIM_SURE and not guarded
        if not sure and (similarity < SIM_MIN or similarity - float(nearest_safe) < margin):
            continue
        if best is None or similarity > best.score:
            best = CrisisSignal(exemplars.kinds[index], round(similarity, 3), f"similar:{similarity:.2f}")
    return best
