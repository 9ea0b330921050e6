"""The learned opinion on a message: a logistic model over its words, its letters and its meaning.

Features of one span of text (a message, a group of sentences, or a message with the person's
turns before it):

* **n-grams**, hashed into ``2**bits`` buckets: words, word pairs, and the 3- to 5-letter runs
  inside each word, of the folded text (lowercase, no accents). The letter runs carry over
  spelling variants, inflections and the four languages the model is trained on;
* **meaning**: the span's sentence embedding from the project's embedder, followed (when the
  weights name one, ``multilingual_id``) by its embedding from the multilingual encoder
  (:mod:`.multilingual`), the two scaled by ``dense_scale``.

One multinomial logistic model maps them to six classes: no crisis, or one of the five
``CrisisKind``\\ s. ``P(crisis)`` is one minus the first class's probability; the kind is the
likeliest of the other five.

The weights are trained by ``scripts/train_crisis_classifier.py`` (which says on what data) and
shipped as ``crisis_classifier.safetensors`` beside this module: plain arrays and a small text
header, no pickle. Only the buckets training saw are stored; the rest are zero.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .signals import CrisisKind
from .text_prep import fold

__all__ = ["CLASSES", "SHIPPED_WEIGHTS", "ClassifierError", "CrisisClassifier", "Opinion", "ngram_counts"]

SHIPPED_WEIGHTS = Path(__file__).with_name("crisis_classifier.safetensors")
CLASSES: tuple[str, ...] = ("none", *(kind.value for kind in CrisisKind))
_WORD = re.compile(r"\w+")


class ClassifierError(ValueError):
    """A weights file that cannot be used (says which and why)."""


@dataclass(frozen=True)
class Opinion:
    """The model's view of one span: how likely a crisis, and of which kind."""

    crisis: float
    kind: CrisisKind


def ngram_counts(text: str, bits: int) -> dict[int, float]:
    """The span's hashed n-gram features: sublinear counts, L2-normalised."""
    words = _WORD.findall(fold(text))
    tokens: list[str] = [f"w:{w}" for w in words]
    tokens += [f"b:{a} {b}" for a, b in itertools.pairwise(words)]
    for word in words:
        padded = f" {word} "
        for n in (3, 4, 5):
            tokens += [f"c:{padded[i : i + n]}" for i in range(len(padded) - n + 1)]
    mask = (1 << bits) - 1
    counts = Counter(zlib.crc32(token.encode("utf-8")) & mask for token in tokens)
    weights = {bucket: 1.0 + math.log(count) for bucket, count in counts.items()}
    norm = math.sqrt(sum(v * v for v in weights.values())) or 1.0
    return {bucket: value / norm for bucket, value in weights.items()}


class CrisisClassifier:
    """The trained model: ``opinion(text, vector)`` for a span and its embedding."""

    def __init__(
        self,
        sparse: np.ndarray,
        dense: np.ndarray,
        bias: np.ndarray,
        *,
        bits: int,
        dense_scale: float,
        embedder_id: str,
        multilingual_id: str = "",
    ) -> None:
        classes = len(CLASSES)
        if sparse.shape != (classes, 1 << bits) or bias.shape != (classes,) or dense.shape[0] != classes:
            raise ClassifierError("the weights' shapes do not fit the classes and the hashing size")
        self.sparse, self.dense, self.bias = sparse, dense, bias
        self.bits, self.dense_scale, self.embedder_id = bits, dense_scale, embedder_id
        self.multilingual_id = multilingual_id

    @property
    def dimension(self) -> int:
        return int(self.dense.shape[1])

    @classmethod
    def load(cls, path: Path = SHIPPED_WEIGHTS) -> CrisisClassifier:
        """The weights in ``path`` (safetensors: ``columns``, ``values``, ``dense``, ``bias``)."""
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="numpy") as weights:
                meta = weights.metadata() or {}
                tensors = {name: weights.get_tensor(name) for name in weights.keys()}  # noqa: SIM118
            bits, scale, embedder_id = int(meta["bits"]), float(meta["dense_scale"]), meta["embedder"]
            if json.loads(meta["classes"]) != list(CLASSES):
                raise ClassifierError(f"{path}: trained for other classes")
            sparse = np.zeros((len(CLASSES), 1 << bits), dtype=np.float32)
            sparse[:, tensors["columns"].astype(np.int64)] = tensors["values"].astype(np.float32)
            return cls(
                sparse,
                tensors["dense"].astype(np.float32),
                tensors["bias"].astype(np.float32),
                bits=bits,
                dense_scale=scale,
                embedder_id=embedder_id,
                multilingual_id=meta.get("multilingual", ""),
            )
        except (OSError, KeyError, ValueError, SafetensorError, IndexError) as exc:
            if isinstance(exc, ClassifierError):
                raise
            raise ClassifierError(f"cannot use the crisis classifier's weights in {path}: {exc}") from exc

    def save(self, path: Path, metadata: dict[str, str] | None = None) -> None:
        """Write the weights (only the buckets any class uses) as safetensors."""
        from safetensors.numpy import save_file

        columns = np.flatnonzero(np.any(self.sparse != 0, axis=0)).astype(np.int32)
        save_file(
            {  # safetensors writes memory as it lies: every array C-ordered first
                "columns": np.ascontiguousarray(columns),
                "values": np.ascontiguousarray(self.sparse[:, columns].astype(np.float16)),
                "dense": np.ascontiguousarray(self.dense.astype(np.float16)),
                "bias": np.ascontiguousarray(self.bias.astype(np.float32)),
            },
            str(path),
            metadata={
                **(metadata or {}),
                "bits": str(self.bits),
                "dense_scale": str(self.dense_scale),
                "embedder": self.embedder_id,
                "multilingual": self.multilingual_id,
                "classes": json.dumps(list(CLASSES)),
            },
        )

    def probabilities(self, text: str, vector: np.ndarray) -> np.ndarray:
        """The six classes' probabilities for a span with embedding ``vector`` (the two
        embeddings side by side when the model uses the multilingual one)."""
        features = ngram_counts(text, self.bits)
        columns = np.fromiter(features.keys(), dtype=np.int64, count=len(features))
        values = np.fromiter(features.values(), dtype=np.float32, count=len(features))
        logits = self.sparse[:, columns] @ values + self.dense @ (vector * self.dense_scale) + self.bias
        logits = logits - logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

    def opinion(self, text: str, vector: np.ndarray) -> Opinion:
        probs = self.probabilities(text, vector)
        kind = CrisisKind(CLASSES[1 + int(np.argmax(probs[1:]))])
        return Opinion(round(float(1.0 - probs[0]), 4), kind)
