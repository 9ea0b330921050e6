"""One profile's memory: the SQLite store, its FAISS cache and retrieval, behind one API."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .embeddings import Embedder
from .encryption import key_for
from .models import ALL_STREAMS, Memory, NewMemory, Stream
from .plans import PlanLedger
from .retrieval import Recollection, RetrievalSettings, Retriever
from .sqlite_store import SqliteMemoryStore
from .vector_index import VectorIndex

log = logging.getLogger(__name__)
STORE_FILE = "memories.sqlite3"
PAGE_SIZE = 1000  # memories read at a time when walking the whole store


def embedding_text(memory: NewMemory | Memory) -> str:
    """What a memory's vector is computed from: its own words only.

    The context (the turn it answered) is searchable lexically but kept out of the vector,
    so a short reply is not drowned by the question before it.
    """
    return memory.text


class MemoryBank:
    """Store, embed, search, edit and forget one profile's memories.

    In an encrypted data folder (see :mod:`.encryption`) the store is a SQLCipher database
    and the cache files are sealed; the folder must have been unlocked in this process.
    Vectors always come from ``embedder``; opening a store written with another model
    re-embeds it (with a progress bar) before anything else happens. The SQLite store and
    the FAISS cache are private: every read and write goes through here, so the two never
    disagree and every write holds the bank's lock.
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
        key = key_for(self.folder)  # None in a plain data folder; Locked if not unlocked
        self.encrypted = key is not None
        self._store = SqliteMemoryStore(self.folder / STORE_FILE, key=None if key is None else key.database)
        self._lock = threading.RLock()
        self._reembed_if_needed(progress)
        self._index = VectorIndex(
            self.folder,
            self._store,
            embedder.model_id,
            embedder.dim,
            file_key=None if key is None else key.files,
        )
        self._retriever = Retriever(self._store, self._index, settings or RetrievalSettings())

    @property
    def settings(self) -> RetrievalSettings:
        return self._retriever.settings

    @settings.setter
    def settings(self, value: RetrievalSettings) -> None:
        self._retriever.settings = value

    # -- lifecycle ----------------------------------------------------------------------
    def _reembed_if_needed(self, progress: bool) -> None:
        stale = self._store.count_with_other_model(self.embedder.model_id)
        if not stale:
            return
        log.info("re-embedding %d memories with %s", stale, self.embedder.model_id)
        from tqdm.auto import tqdm

        with tqdm(total=stale, desc="Re-embedding memories", disable=not progress) as bar:
            while batch := self._store.ids_with_other_model(self.embedder.model_id, limit=256):
                vectors = self.embedder.embed_passages([text for _, text, _ in batch])
                self._store.replace_vectors(
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
            self._index.save()

    def close(self) -> None:
        with self._lock:
            self.flush()
            self._store.close()

    # -- writes -------------------------------------------------------------------------
    def add(self, memories: Sequence[NewMemory], vectors: np.ndarray | None = None) -> list[int]:
        """Embed (unless vectors are given) and store memories atomically."""
        if not memories:
            return []
        if vectors is None:
            vectors = self.embedder.embed_passages([embedding_text(m) for m in memories])
        with self._lock:
            ids = self._store.insert(memories, vectors, self.embedder.model_id)
            for stream in ALL_STREAMS:
                rows = [i for i, m in enumerate(memories) if Stream(m.stream) is stream]
                if rows:
                    self._index.add(stream, [ids[r] for r in rows], vectors[rows])
        return ids

    def edit_text(self, memory_id: int, text: str) -> Memory:
        text = text.strip()
        if not text:
            raise ValueError("a memory cannot be empty; delete it instead")
        found = self.get([memory_id])
        if not found:
            raise KeyError(f"no memory {memory_id}")
        memory = found[0]
        vector = self.embedder.embed_passages([text])[0]
        with self._lock:
            self._store.update_text(memory_id, text, vector, self.embedder.model_id)
            self._index.replace(memory.stream, memory_id, vector)
            self._index.save(purge=True)  # the old vector leaves the cache files too
        return self.get([memory_id])[0]

    def delete(self, ids: Sequence[int]) -> int:
        """Forget exactly these memories (no derived reflections); returns how many went."""
        return self._erase(list(ids))

    def _erase(self, ids: list[int]) -> int:
        """Delete memories so nothing of them stays on disk: the rows (and contexts quoting
        them) purged from SQLite and its WAL, the vectors rewritten out of the FAISS cache."""
        with self._lock:
            count = self._store.forget(ids)
            self._index.remove(ids)
            self._index.save(purge=True)
        return count

    def _with_derived(self, ids: Sequence[int]) -> list[int]:
        """``ids`` and every reflection built on them, at any depth."""
        doomed, frontier = list(dict.fromkeys(ids)), list(dict.fromkeys(ids))
        seen = set(doomed)
        while frontier:
            derived = [r for m in frontier for r in self._store.derived_from(m) if r not in seen]
            derived = list(dict.fromkeys(derived))
            seen.update(derived)
            doomed.extend(derived)
            frontier = derived
        return doomed

    def forget(self, memory_id: int, *, with_derived: bool = True) -> list[int]:
        """Delete a memory and (by default) every reflection built on it, at any depth.

        Returns the ids deleted. A reflection citing a forgotten memory would keep saying
        what the person asked Joi to forget, so it goes too. The words are gone from the
        files afterwards, including other memories' contexts that quoted them.
        """
        doomed = self._with_derived([memory_id]) if with_derived else [memory_id]
        found = [m.id for m in self.get(doomed)]
        if memory_id not in found:
            raise KeyError(f"no memory {memory_id}")
        self._erase(found)
        return found

    def forget_conversation(self, conversation: str) -> list[int]:
        """Forget every memory of a conversation (all streams) and the reflections built on
        them; returns the ids deleted ([] for an unknown conversation)."""
        found = [m.id for m in self.get(self._with_derived(self._store.ids_in_conversation(conversation)))]
        if found:
            self._erase(found)
        return found

    def forget_everything(self) -> int:
        """Forget all memories, the safety plan and every per-profile marker (the person's
        name, the current conversation, follow-ups); returns the memories deleted. The store
        keeps only its schema version. (Settings live beside it: see ProfileSettings.reset.)"""
        with self._lock:
            count = self._store.forget_everything()
            self._index.rebuild()
            self._index.save(purge=True)
        return count

    def set_importance(self, scores: dict[int, int], source: str) -> None:
        self._store.set_importance(scores, source)

    def touch(self, ids: Iterable[int], when: float) -> None:
        """Mark memories as accessed at ``when`` (recency counts from the last access)."""
        self._store.touch(ids, when)

    def add_linked(
        self,
        memories: Sequence[NewMemory],
        vectors: np.ndarray,
        *,
        keys: Sequence[int],
        last_accessed: Sequence[float],
        known: dict[int, int] | None = None,
    ) -> list[tuple[int, bool]]:
        """Store memories that cite each other by caller-chosen keys, all or nothing.

        As :meth:`SqliteMemoryStore.insert_linked` (duplicates map to the stored memory),
        then the new ones into the vector cache; if that fails, the new rows go again.
        Returns (stored id, newly added) per memory.
        """
        with self._lock:
            rows = self._store.insert_linked(
                memories, vectors, self.embedder.model_id, keys=keys, last_accessed=last_accessed, known=known
            )
            added = [k for k, (_, is_new) in enumerate(rows) if is_new]
            try:
                for stream in ALL_STREAMS:
                    picked = [k for k in added if Stream(memories[k].stream) is stream]
                    if picked:
                        self._index.add(stream, [rows[k][0] for k in picked], vectors[picked])
            except BaseException:
                new_ids = [rows[k][0] for k in added]
                self._index.remove(new_ids)
                self._store.delete(new_ids)
                raise
        return rows

    def set_meta(self, key: str, value: str) -> None:
        """A small per-profile setting or marker (e.g. the current conversation)."""
        self._store.set_meta(key, value)

    @property
    def plans(self) -> PlanLedger:
        """The person's goals, commitments, limits, people, triggers and what helps."""
        return PlanLedger(self._store)

    def save_safety_plan(self, sections: dict[str, str], now: float) -> None:
        """Replace the person's safety plan (section key -> text; empty sections dropped)."""
        self._store.save_safety_plan(sections, now)

    # -- reads --------------------------------------------------------------------------
    def safety_plan(self) -> dict[str, str]:
        """The person's safety plan as stored: section key -> text."""
        return self._store.safety_plan()

    def get(self, ids: Sequence[int]) -> list[Memory]:
        return self._store.get(ids)

    def get_meta(self, key: str) -> str | None:
        return self._store.get_meta(key)

    def memories(
        self,
        stream: Stream | None = None,
        *,
        conversation: str | None = None,
        newest_first: bool = True,
        limit: int = 100,
        offset: int = 0,
        after_id: int | None = None,
    ) -> list[Memory]:
        """Stored memories by time, optionally of one stream or conversation."""
        return self._store.memories(
            stream,
            conversation=conversation,
            newest_first=newest_first,
            limit=limit,
            offset=offset,
            after_id=after_id,
        )

    def all_memories(self, page_size: int | None = None) -> Iterator[Memory]:
        """Every memory in id order, read a page of ids at a time (never all at once)."""
        page, last = page_size or PAGE_SIZE, self._store.max_id()
        for start in range(1, last + 1, page):
            yield from self._store.get(range(start, min(start + page, last + 1)))

    def count(self, stream: Stream | None = None) -> int:
        return self._store.count(stream)

    def conversations(self, limit: int = 200) -> list[tuple[str, float, float, int]]:
        """(conversation, first time, last time, dialogue lines) per conversation, latest first."""
        return self._store.conversations(limit)

    def unrated(self, limit: int = 64) -> list[Memory]:
        """Memories still waiting for an importance rating, oldest first."""
        return self._store.unrated(limit)

    def importance_since(self, after_id: int) -> tuple[int, int]:
        """(sum of importance, count) of rated non-reflection memories newer than ``after_id``."""
        return self._store.importance_since(after_id)

    def max_id(self) -> int:
        return self._store.max_id()

    def derived_from(self, memory_id: int) -> list[int]:
        """Reflections that cite ``memory_id`` as evidence (one level)."""
        return self._store.derived_from(memory_id)

    def nearest(self, stream: Stream, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(id, cosine) of the ``k`` memories of ``stream`` nearest to ``vector``."""
        return self._index.search(stream, vector, k)

    # -- health, for tests and benchmarks ------------------------------------------------
    @property
    def cache_was_loaded(self) -> bool:
        """Whether the vector cache was read from its files at open (not rebuilt from SQLite)."""
        return bool(self._index.loaded_from_cache)

    def indexed(self, stream: Stream) -> int:
        """Vectors of ``stream`` in the cache (equal to its stored memories when all is well)."""
        return self._index.count(stream)

    def vectors_from_other_models(self) -> int:
        """Memories whose vector came from another embedding model (0 after opening)."""
        return self._store.count_with_other_model(self.embedder.model_id)

    def recall(
        self,
        query: str,
        k_per_stream: dict[Stream, int],
        *,
        now: float | None = None,
        query_vector: np.ndarray | None = None,
        exclude: Sequence[int] = (),
        touch: bool = True,
        keep: Mapping[Stream, Collection[int]] | None = None,
        keep_within: int = 1,
    ) -> dict[Stream, list[Recollection]]:
        """Top-k memories of each stream for ``query`` (one query embedding for all streams).

        ``keep``: memories an earlier prompt held (the draft read ahead while the person
        typed). Each stays, after the top k, while it still ranks within k + ``keep_within``:
        two near-equal memories that swap places as a message grows word by word then leave
        the prompt as it was read, instead of changing it at every other word.
        """
        now = time.time() if now is None else now
        if query_vector is None:
            query_vector = self.embedder.embed_query(query)
        held = {Stream(s): set(ids) for s, ids in (keep or {}).items() if ids}
        wanted = {s: k + keep_within if k > 0 and Stream(s) in held else k for s, k in k_per_stream.items()}
        recalled = self._retriever.retrieve_many(wanted, query, query_vector, now, exclude=exclude)
        for stream, items in recalled.items():
            k = k_per_stream[stream]
            if len(items) > k:
                recalled[stream] = items[:k] + [r for r in items[k:] if r.memory.id in held.get(stream, ())]
        if touch:  # one write for all streams: recalling refreshes last access
            self._store.touch([r.memory.id for items in recalled.values() for r in items], now)
        return recalled
