"""One profile's memory: the SQLite store, its FAISS cache and retrieval, behind one API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .embeddings import Embedder
from .models import ALL_STREAMS, Memory, NewMemory, Stream
from .retrieval import Recollection, RetrievalSettings, Retriever
from .sqlite_store import SqliteMemoryStore
from .vector_index import VectorIndex

log = logging.getLogger(__name__)
STORE_FILE = "memories.sqlite3"


def embedding_text(memory: NewMemory | Memory) -> str:
    """What a memory's vector is computed from: its own words only.

    The context (the turn it answered) is searchable lexically but kept out of the vector,
    so a short reply is not drowned by the question before it.
    """
    return memory.text


class MemoryBank:
    """Store, embed, search, edit and forget one profile's memories.

    Vectors always come from ``embedder``; opening a store written with another model
    re-embeds it (with a progress bar) before anything else happens.
    """

    def __init__(
        self,
        folder: Path,
        embedder: Embedder,
        settings: RetrievalSettings | None = None,
        *,
        progress: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self.embedder = embedder
        self.store = SqliteMemoryStore(self.folder / STORE_FILE)
        self._lock = threading.RLock()
        self._reembed_if_needed(progress)
        self.index = VectorIndex(self.folder, self.store, embedder.model_id, embedder.dim)
        self.retriever = Retriever(self.store, self.index, settings or RetrievalSettings())

    @property
    def settings(self) -> RetrievalSettings:
        return self.retriever.settings

    @settings.setter
    def settings(self, value: RetrievalSettings) -> None:
        self.retriever.settings = value

    # -- lifecycle ----------------------------------------------------------------------
    def _reembed_if_needed(self, progress: bool) -> None:
        stale = self.store.count_with_other_model(self.embedder.model_id)
        if not stale:
            return
        log.info("re-embedding %d memories with %s", stale, self.embedder.model_id)
        from tqdm.auto import tqdm

        with tqdm(total=stale, desc="Re-embedding memories", disable=not progress) as bar:
            while batch := self.store.ids_with_other_model(self.embedder.model_id, limit=256):
                vectors = self.embedder.embed_passages([text for _, text, _ in batch])
                self.store.replace_vectors(
                    [(memory_id, v) for (memory_id, _, _), v in zip(batch, vectors, strict=True)],
                    self.embedder.model_id,
                )
                bar.update(len(batch))

    def flush(self) -> None:
        """Persist the vector cache if it changed (SQLite is durable already).

        Called off the reply path (after background thinking, and on close); a cache that
        missed the last writes is rebuilt from SQLite on the next open.
        """
        with self._lock:
            self.index.save()

    def close(self) -> None:
        with self._lock:
            self.flush()
            self.store.close()

    # -- writes -------------------------------------------------------------------------
    def add(self, memories: Sequence[NewMemory], vectors: np.ndarray | None = None) -> list[int]:
        """Embed (unless vectors are given) and store memories atomically."""
        if not memories:
            return []
        if vectors is None:
            vectors = self.embedder.embed_passages([embedding_text(m) for m in memories])
        with self._lock:
            ids = self.store.insert(memories, vectors, self.embedder.model_id)
            for stream in ALL_STREAMS:
                rows = [i for i, m in enumerate(memories) if Stream(m.stream) is stream]
                if rows:
                    self.index.add(stream, [ids[r] for r in rows], vectors[rows])
        return ids

    def edit_text(self, memory_id: int, text: str) -> Memory:
        text = text.strip()
        if not text:
            raise ValueError("a memory cannot be empty; delete it instead")
        [memory] = self.get([memory_id]) or [None]
        if memory is None:
            raise KeyError(f"no memory {memory_id}")
        vector = self.embedder.embed_passages([text])[0]
        with self._lock:
            self.store.update_text(memory_id, text, vector, self.embedder.model_id)
            self.index.replace(memory.stream, memory_id, vector)
        return self.get([memory_id])[0]

    def delete(self, ids: Sequence[int]) -> int:
        with self._lock:
            count = self.store.delete(ids)
            self.index.remove(list(ids))
        return count

    def forget(self, memory_id: int, *, with_derived: bool = True) -> list[int]:
        """Delete a memory and (by default) every reflection built on it, at any depth.

        Returns the ids deleted. A reflection citing a forgotten memory would keep saying
        what the person asked Joi to forget, so it goes too.
        """
        doomed, frontier = [memory_id], [memory_id]
        while with_derived and frontier:
            derived = [r for m in frontier for r in self.store.derived_from(m) if r not in doomed]
            doomed.extend(dict.fromkeys(derived))
            frontier = derived
        found = [m.id for m in self.get(doomed)]
        if memory_id not in found:
            raise KeyError(f"no memory {memory_id}")
        self.delete(found)
        return found

    def set_importance(self, scores: dict[int, int], source: str) -> None:
        self.store.set_importance(scores, source)

    # -- reads --------------------------------------------------------------------------
    def get(self, ids: Sequence[int]) -> list[Memory]:
        return self.store.get(ids)

    def recall(
        self,
        query: str,
        k_per_stream: dict[Stream, int],
        *,
        now: float | None = None,
        query_vector: np.ndarray | None = None,
        exclude: Sequence[int] = (),
        touch: bool = True,
    ) -> dict[Stream, list[Recollection]]:
        """Top-k memories of each stream for ``query`` (one query embedding for all streams)."""
        now = time.time() if now is None else now
        if query_vector is None:
            query_vector = self.embedder.embed_query(query)
        recalled = {
            stream: self.retriever.retrieve(stream, query, query_vector, k, now, exclude=exclude)
            for stream, k in k_per_stream.items()
        }
        if touch:  # one write for all streams: recalling refreshes last access
            self.store.touch([r.memory.id for items in recalled.values() for r in items], now)
        return recalled
