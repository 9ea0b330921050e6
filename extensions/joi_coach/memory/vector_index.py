"""The FAISS cache of one profile's vectors: one exact inner-product index per stream.

SQLite holds the vectors; this cache is rebuilt from it whenever the saved files are
missing, unreadable, stale (the store's generation moved on) or built with another
embedding model. Files are written with FAISS's own format plus a JSON manifest, never
pickle, and replaced atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

from .encryption import is_sealed, seal, unseal
from .files import overwrite
from .models import ALL_STREAMS, Stream
from .sqlite_store import SqliteMemoryStore

log = logging.getLogger(__name__)
MANIFEST = "vectors.json"


def _new_index(dim: int) -> faiss.IndexIDMap2:
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _deserialize(blob: bytes) -> faiss.Index:
    """An index from FAISS's own format, read straight from ``blob`` a MiB at a time
    (``faiss.deserialize_index`` first copies all of it into a zero-filled buffer: twice
    the time for a 100k-memory cache)."""
    view = memoryview(blob)
    position = 0

    def read(size: int) -> bytes:
        nonlocal position
        chunk = view[position : position + size]
        position += len(chunk)
        return bytes(chunk)

    reader = faiss.PyCallbackIOReader(read, 1 << 20)  # type: ignore[attr-defined]  # not in the stubs
    return faiss.read_index(reader)


def _one_thread() -> None:
    """One query at a time is searched on one thread: OpenMP threads cost more than they
    save there (on 2 busy cores a flat search of 5k vectors took 12 ms, 0.2 ms on one).
    OpenMP keeps the setting per calling thread, so every search sets it."""
    faiss.omp_set_num_threads(1)


class VectorIndex:
    """Per-stream exact cosine search over normalised vectors, kept in step with SQLite."""

    def __init__(
        self,
        folder: Path,
        store: SqliteMemoryStore,
        model_id: str,
        dim: int,
        *,
        file_key: bytes | None = None,
    ) -> None:
        """``file_key``: the cache files are sealed with it (AES-GCM) in an encrypted folder."""
        self.folder = Path(folder)
        self._file_key = file_key
        self.store = store
        self.model_id = model_id
        self.dim = dim
        self._lock = threading.RLock()
        self._indexes: dict[Stream, faiss.IndexIDMap2] = {}
        # memory id -> its stream's place in ALL_STREAMS (-1: not in the cache)
        self._stream_codes = np.full(0, -1, dtype=np.int8)
        self._saved_generation = -1
        self.loaded_from_cache = self._load()
        if not self.loaded_from_cache:
            self.rebuild()

    # -- persistence --------------------------------------------------------------------
    def _path(self, stream: Stream) -> Path:
        return self.folder / f"vectors-{stream.value}.faiss"

    def _load(self) -> bool:
        """Reads the saved cache if it matches the store exactly; False means rebuild."""
        try:
            manifest = json.loads(self._read(self.folder / MANIFEST).decode("utf-8"))
            if (
                manifest.get("model_id") != self.model_id
                or manifest.get("dim") != self.dim
                or manifest.get("generation") != self.store.generation()
            ):
                return False
            indexes = {}
            for stream in ALL_STREAMS:
                blob = self._read(self._path(stream))
                if hashlib.sha256(blob).hexdigest() != manifest["sha256"][stream.value]:
                    log.info("vector cache in %s changed on disk; rebuilding", self.folder)
                    return False
                index = _deserialize(blob)
                if (
                    not isinstance(index, faiss.IndexIDMap2)
                    or index.d != self.dim
                    or index.ntotal != manifest["counts"][stream.value]
                ):
                    return False
                indexes[stream] = index
        except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
            log.info("vector cache in %s not usable (%s); rebuilding", self.folder, type(exc).__name__)
            return False
        self._indexes = indexes
        self._map_streams()
        self._saved_generation = manifest["generation"]
        return True

    def _map_streams(self) -> None:
        """Which stream each cached id is in, from the indexes' own id lists."""
        per_stream = {s: faiss.vector_to_array(i.id_map) for s, i in self._indexes.items()}
        top = max((int(ids.max()) for ids in per_stream.values() if ids.size), default=-1)
        codes = np.full(top + 1, -1, dtype=np.int8)
        for stream, ids in per_stream.items():
            codes[ids] = ALL_STREAMS.index(stream)
        self._stream_codes = codes

    def _set_codes(self, ids: np.ndarray, code: int) -> None:
        if ids.size and int(ids.max()) >= self._stream_codes.size:
            grown = np.full(max(int(ids.max()) + 1, 2 * self._stream_codes.size), -1, dtype=np.int8)
            grown[: self._stream_codes.size] = self._stream_codes
            self._stream_codes = grown
        self._stream_codes[ids] = code

    def _read(self, path: Path) -> bytes:
        """A cache file's bytes; in an encrypted folder only a sealed file is accepted."""
        blob = path.read_bytes()
        if self._file_key is None:
            if is_sealed(blob):
                raise ValueError("an encrypted cache in a plain folder")
            return blob
        return unseal(blob, self._file_key, path.name)

    def rebuild(self) -> None:
        """Refill every stream's index from the vectors in SQLite."""
        with self._lock:
            indexes: dict[Stream, faiss.IndexIDMap2] = {
                stream: _new_index(self.dim) for stream in ALL_STREAMS
            }
            for ids, vectors, streams in self.store.iter_vectors():
                if vectors.shape[1] != self.dim:
                    raise ValueError("stored vectors do not match the embedding model; re-embed first")
                streams_array = np.asarray(streams)
                for stream in ALL_STREAMS:
                    mask = streams_array == stream.value
                    if mask.any():
                        indexes[stream].add_with_ids(vectors[mask], ids[mask])
            self._indexes = indexes
            self._map_streams()
            self._saved_generation = -1

    def save(self, *, purge: bool = False) -> None:
        """Write the cache (if it changed since the last save): index files, then manifest.

        With ``purge`` (after a forget) each replaced file is first overwritten with zeros,
        so the vectors that were removed do not stay in the folder's free blocks.
        """
        with self._lock:
            generation = self.store.generation()
            if generation == self._saved_generation:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            digests = {}
            for stream, index in self._indexes.items():
                tmp = self._path(stream).with_suffix(".faiss.tmp")
                data = faiss.serialize_index(index).tobytes()  # FAISS's own file format
                digests[stream.value] = hashlib.sha256(data).hexdigest()
                if self._file_key is None:
                    tmp.write_bytes(data)
                else:
                    tmp.write_bytes(seal(data, self._file_key, self._path(stream).name))
                if purge:
                    overwrite(self._path(stream))
                os.replace(tmp, self._path(stream))
            manifest = {
                "model_id": self.model_id,
                "dim": self.dim,
                "generation": generation,
                "counts": {s.value: int(i.ntotal) for s, i in self._indexes.items()},
                "sha256": digests,  # a file changed on disk is never trusted: rebuilt instead
            }
            tmp = self.folder / (MANIFEST + ".tmp")
            text = json.dumps(manifest).encode("utf-8")
            tmp.write_bytes(text if self._file_key is None else seal(text, self._file_key, MANIFEST))
            os.replace(tmp, self.folder / MANIFEST)
            self._saved_generation = generation

    # -- changes ------------------------------------------------------------------------
    def add(self, stream: Stream, ids: list[int], vectors: np.ndarray) -> None:
        id_array = np.asarray(ids, dtype=np.int64)
        with self._lock:
            self._indexes[Stream(stream)].add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), id_array
            )
            self._set_codes(id_array, ALL_STREAMS.index(Stream(stream)))

    def remove(self, ids: list[int]) -> None:
        id_array = np.asarray(ids, dtype=np.int64)
        selector = faiss.IDSelectorBatch(id_array)
        with self._lock:
            for index in self._indexes.values():
                index.remove_ids(selector)
            known = id_array[(id_array >= 0) & (id_array < self._stream_codes.size)]
            self._stream_codes[known] = -1

    def replace(self, stream: Stream, memory_id: int, vector: np.ndarray) -> None:
        self.remove([memory_id])
        self.add(stream, [memory_id], vector.reshape(1, -1))

    # -- search -------------------------------------------------------------------------
    def count(self, stream: Stream) -> int:
        return int(self._indexes[Stream(stream)].ntotal)

    def search(self, stream: Stream, query: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """(id, cosine similarity) of the ``limit`` nearest memories of a stream."""
        with self._lock:
            index = self._indexes[Stream(stream)]
            if index.ntotal == 0 or limit <= 0:
                return []
            _one_thread()
            sims, ids = index.search(query.reshape(1, -1).astype(np.float32), min(limit, index.ntotal))
        return [(int(i), float(s)) for i, s in zip(ids[0].tolist(), sims[0].tolist(), strict=True) if i >= 0]

    def streams_of(self, ids: np.ndarray) -> np.ndarray:
        """Each id's stream as its place in ``ALL_STREAMS``; -1 for an id not in the cache."""
        ids = np.asarray(ids, dtype=np.int64)
        codes = np.full(ids.shape, -1, dtype=np.int64)
        with self._lock:
            inside = (ids >= 0) & (ids < self._stream_codes.size)
            codes[inside] = self._stream_codes[ids[inside]]
        return codes

    def similarities(self, stream: Stream, ids: Sequence[int], query: np.ndarray) -> dict[int, float]:
        """Cosine of ``query`` with the cached vectors of those ``ids`` that are in ``stream``
        (the others are left out: the caller reads them from the store)."""
        id_array = np.asarray(list(ids), dtype=np.int64)
        code = ALL_STREAMS.index(Stream(stream))
        with self._lock:
            id_array = id_array[self.streams_of(id_array) == code]
            if not id_array.size:
                return {}
            vectors = self._indexes[Stream(stream)].reconstruct_batch(id_array)
        sims = vectors @ np.asarray(query, dtype=np.float32).ravel()
        return dict(zip(id_array.tolist(), sims.tolist(), strict=True))
