"""What Joi does in the quiet after a reply: rate new memories, and reflect when enough happened.

Runs on the background worker at the LLM's lower priority (a reply preempts it). Ratings
first, one LLM call per batch; then, once the importance rated since the last reflection
reaches the profile's threshold, a reflection whose insights cite their evidence.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from ..llm.priority import PriorityLLM
from ..memory.bank import MemoryBank
from ..memory.embeddings import Embedder
from ..memory.models import Memory, NewMemory, Stream
from .importance import ImportanceRater
from .plan_keeping import note_plans
from .reflection import ReflectionSettings, Reflector

log = logging.getLogger(__name__)
NEAR_DUPLICATE = 0.92  # cosine above which a new reflection repeats an existing one
REFLECTION_MARK = "last_reflection_max_id"  # meta key: highest memory id already reflected on
USER_NAME = "user_name"  # meta key: how the person was last addressed (for reflections)
NOBODY_NAMED = "the person"


class Thinking:
    """Importance ratings and reflection for one profile's bank at a time."""

    def __init__(
        self, llm: PriorityLLM, embedder: Embedder, importance: ImportanceRater, coach_name: str = "Joi"
    ) -> None:
        self.llm = llm
        self.embedder = embedder
        self.importance = importance
        self.coach_name = coach_name

    def think(self, bank: MemoryBank, settings: ReflectionSettings, *, plans: bool = True) -> None:
        """Rate every unrated memory, note plans from the new turns (``plans``), reflect if it
        is time, and save the vector cache."""
        while batch := bank.unrated(limit=self.importance.batch_size):
            for scores, source in self.importance.rate(batch):
                bank.set_importance(scores, source)
        if plans:
            user = bank.get_meta(USER_NAME) or NOBODY_NAMED
            note_plans(bank, self.llm.complete_background, user, self.coach_name)
        if self.should_reflect(bank, settings):
            self.reflect(bank, settings)
        bank.flush()

    def should_reflect(self, bank: MemoryBank, settings: ReflectionSettings) -> bool:
        mark = int(bank.get_meta(REFLECTION_MARK) or 0)
        total, _ = bank.importance_since(mark)
        return total >= settings.threshold

    def reflect(
        self,
        bank: MemoryBank,
        settings: ReflectionSettings,
        user_name: str | None = None,
        now: float | None = None,
    ) -> list[Memory]:
        """Reflect on recent memories now; returns the stored reflections (maybe none).

        ``user_name``: how the insights name the person (default: as they were last addressed).
        """
        user_name = user_name or bank.get_meta(USER_NAME) or NOBODY_NAMED
        now = time.time() if now is None else now
        mark = bank.max_id()
        recent = list(reversed(bank.memories(limit=settings.recent_window)))

        def recall(question: str) -> list[Memory]:
            per_stream = bank.recall(
                question, dict.fromkeys(Stream, settings.evidence_per_question), now=now, touch=False
            )
            ranked = sorted((r for rs in per_stream.values() for r in rs), key=lambda r: -r.score.total)
            return [r.memory for r in ranked]

        new = Reflector(self.llm.complete_background, settings).reflect(recent, recall, user_name, now)
        fresh, vectors = self._novel(bank, new)
        ids = bank.add(fresh, vectors) if fresh else []
        bank.set_meta(REFLECTION_MARK, str(mark))
        log.info("reflection stored %d insights", len(ids))
        return bank.get(ids)

    def _novel(self, bank: MemoryBank, candidates: list[NewMemory]) -> tuple[list[NewMemory], np.ndarray]:
        """Drop insights that say again what an existing (or earlier new) reflection says."""
        if not candidates:
            return [], np.zeros((0, self.embedder.dim), dtype=np.float32)
        vectors = self.embedder.embed_passages([m.text for m in candidates])
        keep: list[int] = []
        for i, vector in enumerate(vectors):
            nearest = bank.nearest(Stream.REFLECTION, vector, 1)
            if nearest and nearest[0][1] >= NEAR_DUPLICATE:
                continue
            if any(float(vectors[j] @ vector) >= NEAR_DUPLICATE for j in keep):
                continue
            keep.append(i)
        return [candidates[i] for i in keep], vectors[keep]
