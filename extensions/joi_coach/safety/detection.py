"""Crisis-language detection: does this chat message call for a human, now?

``CrisisDetector.screen(text, earlier)`` runs on every turn, before the model answers, and
returns a ``Screening``: a ``CrisisSignal`` (what kind of crisis, how sure, and why) when the
message signals one, or the kind the learned model leans to when it is unsure (for an LLM's
second opinion, ``llm_opinion``). ``check(text)`` is the signal alone. Four opinions, the first
that is sure wins:

1. **English patterns** (``crisis_rules``, always on): first-person risk statements a clinician
   would recognise, chat slang included, each checked against guards (a negation, a recovered
   past, talk about the topic, a joke about someone else; laughter only beside a trivial reason
   — "I'm going to kill myself lol" is a crisis).
2. **Patterns in German, French and Spanish** (``patterns/*.yaml``), for explicit statements.
3. **Exemplar similarity** (with an ``Embedder``): a sentence close to a crisis exemplar and
   clearly closer to it than to any non-crisis one (``similarity``).
4. **The learned model** (with an ``Embedder`` the shipped weights were trained with;
   ``classifier``): a logistic model over letters, words and the sentence embedding, trained in
   four languages. Sure at ``LEARNED_SURE`` in German, French and Spanish; in English, where
   the rule table and the exemplars were written and tested at length, only at
   ``LEARNED_SURE_EN`` (chosen on the veiled English dev set, never trained on: recall 26 → 33
   of 50, with false alarms on everyday lines 0.2% → 1.4%; before the everyday negatives were
   trained on, goodbyes scored 0.99 and it never decided). Between ``LEARNED_UNSURE`` and that, the message is read
   again with the person's ``earlier`` turns (a veiled "nothing matters now" after "I gave my
   dog to my sister"), and is left **uncertain** if that does not decide it.

Without an embedder the detector works on patterns alone. No network is involved; the LLM's
opinion is asked by the caller (``Coach.assess``), on the person's own model.

The text is normalised first (``text_prep``). A ``CrisisSignal.reason`` names the pattern or
the score, never the person's words: the app does not log what people say.

Limits: this is a screen, not a clinical instrument; figures in docs/benchmarks.md.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from .classifier import SHIPPED_WEIGHTS, ClassifierError, CrisisClassifier, Opinion
from .crisis_rules import RULES
from .language import guess_language
from .matching import match_patterns
from .multilingual import AcrossLanguages, shipped_encoder
from .pattern_tables import load_tables, match_tables
from .signals import CrisisKind, CrisisSignal
from .similarity import chunks, exemplars_for, nearest_crisis
from .text_prep import canonical, clean, sentences

if TYPE_CHECKING:
    from joi_coach.memory.embeddings import Embedder

__all__ = [
    "PATTERN_NAMES",
    "CrisisDetector",
    "CrisisKind",
    "CrisisSignal",
    "Screening",
    "canonical",
    "clean",
    "sentences",
]

log = logging.getLogger(__name__)

PATTERN_NAMES: frozenset[str] = frozenset(rule.name for rule in RULES)  # the "pattern:NAME" reasons

# The learned model's thresholds on P(crisis), chosen on the dev sets (docs/benchmarks.md).
LEARNED_SURE = 0.85  # flagged on its own
LEARNED_SURE_EN = 0.96  # flagged on its own in English
LEARNED_GUARDED = 0.98  # ... when a pattern's guard held a sentence back (a negation, an idiom)
LEARNED_UNSURE = 0.7  # below: no crisis; from here to LEARNED_SURE: read with context, then uncertain
CONTEXT_FLOOR = 0.1  # from here on the message alone, it is read with the person's earlier turns
CONTEXT_TURN_FLOOR = 0.5  # ... or when one of those turns scored this much on its own ("what now")
CONTEXT_FLOOR_AFTER_CARD = 0.3  # ... but after a turn that brought the card, only from here
CONTEXT_SURE = 0.97  # the message with the person's earlier turns, flagged
CONCERNS_KEPT = 512  # how many messages' own readings are remembered (by digest) for the context rule
CONTEXT_TURNS = 3  # how many earlier turns of the person are read with it
CONTEXT_JOIN = " \n "  # how the turns are joined into one span (as the training script joins them)


@dataclass(frozen=True)
class Screening:
    """What the detector makes of a message: a crisis signal, or the kind the learned model
    leans to when it is unsure (``uncertain``), or neither."""

    signal: CrisisSignal | None = None
    uncertain: CrisisKind | None = None
    score: float = 0.0  # the learned model's P(crisis), 0 when it did not run


WARM_UP_TEXT = "A quiet afternoon."


@dataclass(frozen=True)
class _Concern:
    """How a message read on its own: the learned model's score, and whether it brought the card."""

    score: float
    carded: bool


@cache
def _shipped_classifier() -> CrisisClassifier | None:
    try:
        return CrisisClassifier.load(SHIPPED_WEIGHTS)
    except ClassifierError as exc:
        log.warning("the crisis classifier is off: %s", exc)
        return None


class CrisisDetector:
    """Recognises crisis language in a chat message.

    ``CrisisDetector()`` works on patterns alone: no model is loaded and a check takes well
    under a millisecond. ``CrisisDetector(embedder)`` adds the exemplar similarity and, when
    the shipped weights were trained with that embedder, the learned model (one or two
    embedding calls per check). ``classifier`` replaces the shipped weights (tests, training).

    ``screen`` is thread-safe: the detector holds compiled patterns, read-only arrays and a
    locked table of recent messages' own readings (keyed by a digest, never the text), and the
    ``Embedder`` serialises its own model calls.
    """

    def __init__(self, embedder: Embedder | None = None, classifier: CrisisClassifier | None = None) -> None:
        self._embedder = embedder
        self._exemplars = exemplars_for(embedder) if embedder is not None else None
        self._tables = load_tables()
        if embedder is not None and classifier is None:
            classifier = _shipped_classifier()
        if classifier is not None and embedder is not None and classifier.embedder_id != embedder.model_id:
            log.warning("the crisis classifier was trained with another embedding model; it is off")
            classifier = None
        self._across: AcrossLanguages | None = None
        if classifier is not None and classifier.multilingual_id:
            self._across = shipped_encoder()
            if self._across is None:
                classifier = None
        self._classifier = classifier if embedder is not None else None
        self._concerns: OrderedDict[bytes, _Concern] = OrderedDict()  # digest of a message -> its reading
        self._concerns_lock = threading.Lock()

    def warm_up(self) -> None:
        """Run each embedding model once on a neutral text (nothing is screened or kept): their
        first call costs about a second on a CPU, which the person's first message would pay."""
        if self._embedder is not None and self._exemplars is not None:
            self._embedder.embed_passages([WARM_UP_TEXT])
        if self._across is not None and self._classifier is not None:
            self._across.embed([WARM_UP_TEXT])

    @property
    def uses_embeddings(self) -> bool:
        return self._exemplars is not None

    @property
    def uses_classifier(self) -> bool:
        return self._classifier is not None

    def check(self, text: str, earlier: Sequence[str] = ()) -> CrisisSignal | None:
        """The strongest crisis signal in ``text``, or None when there is none (or only an
        uncertain one)."""
        return self.screen(text, earlier).signal

    def screen(self, text: str, earlier: Sequence[str] = ()) -> Screening:
        """The message's screening. ``earlier``: the person's previous messages in this
        conversation, oldest first. The last few are read with ``text`` when the learned model is
        not sure of ``text`` alone and it, or one of them, scored above a floor; after a turn that
        brought the crisis card, only when ``text`` itself is of some concern (the card is on
        screen: "this deadline is killing me" after it is not a second crisis)."""
        if not isinstance(text, str) or not text.strip():
            return Screening()
        screening = self._screen(text, earlier)
        self._remember(text, _Concern(screening.score, carded=screening.signal is not None))
        return screening

    @staticmethod
    def _digest(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()

    def _remember(self, text: str, concern: _Concern) -> None:
        key = self._digest(text)
        with self._concerns_lock:
            self._concerns[key] = concern
            self._concerns.move_to_end(key)
            while len(self._concerns) > CONCERNS_KEPT:
                self._concerns.popitem(last=False)

    def _concern(self, text: str) -> _Concern:
        """How an earlier message read on its own: remembered from when it was sent (only a
        digest of its text is kept), or screened now after a restart."""
        with self._concerns_lock:
            known = self._concerns.get(self._digest(text))
        if known is not None:
            return known
        screening = self.screen(text)
        return _Concern(screening.score, carded=screening.signal is not None)

    def _screen(self, text: str, earlier: Sequence[str]) -> Screening:
        cleaned = clean(text)
        if not cleaned:
            return Screening()
        patterns = match_patterns(canonical(cleaned), RULES)
        if patterns.signal is not None:
            return Screening(patterns.signal)
        table = match_tables(cleaned, self._tables)
        if table is not None:
            return Screening(table)
        if self._embedder is None or self._exemplars is None:
            return Screening()
        # canonical() changes words only, never sentence boundaries: the indexes line up
        parts = [s for i, s in enumerate(sentences(cleaned)) if i not in patterns.guarded]
        groups = chunks(parts)
        if not groups:
            return Screening()
        vectors = self._embedder.embed_passages(groups)
        similar = nearest_crisis(vectors, self._exemplars, bool(patterns.guarded))
        if similar is not None:
            return Screening(similar)
        if self._classifier is None:
            return Screening()
        return self._learned(groups, vectors, earlier, guarded=bool(patterns.guarded))

    def _with_languages(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """The classifier's meaning features: MiniLM's, and the multilingual encoder's beside."""
        if self._across is None:
            return vectors
        return np.hstack([vectors, self._across.embed(texts)])

    def _learned(
        self, groups: list[str], vectors: np.ndarray, earlier: Sequence[str], *, guarded: bool
    ) -> Screening:
        assert self._classifier is not None and self._embedder is not None
        vectors = self._with_languages(groups, vectors)
        opinions = [self._classifier.opinion(g, v) for g, v in zip(groups, vectors, strict=True)]
        best: Opinion = max(opinions, key=lambda o: o.crisis)
        english = guess_language(" ".join(groups), list(earlier)) == "en"
        sure = LEARNED_GUARDED if guarded else LEARNED_SURE_EN if english else LEARNED_SURE
        if best.crisis >= sure:
            return Screening(
                CrisisSignal(best.kind, best.crisis, f"learned:{best.crisis:.2f}"), score=best.crisis
            )
        kept = (
            [t for t in earlier[-CONTEXT_TURNS:] if isinstance(t, str) and t.strip()] if not guarded else []
        )
        readings = [self._concern(t) for t in kept]
        if any(r.carded for r in readings):  # the card is on screen: only a worrying message reopens it
            worried = best.crisis >= CONTEXT_FLOOR_AFTER_CARD
        else:
            worried = best.crisis >= CONTEXT_FLOOR or any(r.score >= CONTEXT_TURN_FLOOR for r in readings)
        turns = [clean(t) for t in kept] if worried else []
        if turns:
            window = CONTEXT_JOIN.join([*turns, " ".join(groups)])
            vector = self._with_languages([window], self._embedder.embed_passages([window]))[0]
            read = self._classifier.opinion(window, vector)
            if read.crisis >= CONTEXT_SURE:
                signal = CrisisSignal(read.kind, read.crisis, f"context:{read.crisis:.2f}")
                return Screening(signal, score=best.crisis)
        if best.crisis < LEARNED_UNSURE:
            return Screening(score=best.crisis)
        return Screening(uncertain=best.kind, score=best.crisis)
