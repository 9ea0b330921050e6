"""Crisis-language detection: does this chat message call for a human, now?

``CrisisDetector.check(text)`` runs on every turn, before the model answers, and returns a
``CrisisSignal`` (what kind of crisis, how sure, and why) or ``None``. Two signals:

1. **Patterns** (always on): first-person risk statements a clinician would recognise
   (intent, plan or means, passive death wishes, goodbyes, current self-harm, urges to hurt
   someone, violence or threats at home, overdoses and acute medical signs), including chat
   slang ("kms", "unalive", "sewerslide", "ctb"). Each pattern is checked against guards:
   a negation just before it ("I would never kill myself"), recovered past history with no
   sign of relapse ("I used to cut, 5 years clean"), talk about the topic (a film, research,
   a nurse's shift) for the patterns that are mere topic words, and jokes or trivial reasons
   for the idioms people use about others ("I'll kill him if he eats my fries lol").
2. **Similarity** (only when an ``Embedder`` is given): each sentence of the message is
   compared with exemplar sentences written for this module, crisis and hard non-crisis
   alike; a sentence close to a crisis exemplar and clearly closer to it than to any
   non-crisis exemplar is flagged. This catches paraphrases the patterns do not list.

Without an embedder the detector works on patterns alone (less recall on unusual
phrasings, no extra false alarms). No language model and no network are involved.

The text is normalised first (HTML tags dropped and entities decoded, NFKC, curly
apostrophes folded, lowercase, control and zero-width characters removed, common
contractions and chat spellings expanded). A ``CrisisSignal.reason`` names the pattern or the
similarity, never the person's words: the app does not log what people say.

The parts, one module each: ``text_prep`` (clean, canonical, sentences), ``crisis_rules``
(the rule table, as data; how to add a rule), ``matching`` (what a rule is, the guards, the
matching), ``crisis_exemplars`` (the exemplar sentences, as data), ``similarity`` (embedding
and the similarity decision), ``signals`` (``CrisisKind``, ``CrisisSignal``). This module
puts them together; ``CrisisDetector`` is the way in.

Limits: this is a screen, not a clinical instrument. Patterns cover the phrasings someone
thought of; the similarity signal covers some paraphrases but not veiled statements that
need context (a remark about "not stopping" at a road crossing), and it raises a few
false alarms on emotional but safe sentences. The dev set was used to write the rules, so its
figures are optimistic. On a blind held-out set (``benchmarks/safety/crisis-holdout.jsonl``)
it catches about three crises in four with the similarity signal (65% on patterns alone),
with about 2% false alarms, lowest on indirect, veiled messages (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .crisis_rules import RULES
from .matching import match_patterns
from .signals import CrisisKind, CrisisSignal
from .similarity import chunks, exemplars_for, nearest_crisis
from .text_prep import canonical, clean, sentences

if TYPE_CHECKING:
    from joi_coach.memory.embeddings import Embedder

__all__ = ["PATTERN_NAMES", "CrisisDetector", "CrisisKind", "CrisisSignal", "canonical", "clean", "sentences"]

PATTERN_NAMES: frozenset[str] = frozenset(rule.name for rule in RULES)  # the "pattern:NAME" reasons


class CrisisDetector:
    """Recognises crisis language in a chat message.

    ``CrisisDetector()`` works on patterns alone: no model is loaded, a check takes well under
    a millisecond, and unusual phrasings the patterns do not list are missed.
    ``CrisisDetector(embedder)`` also compares each message's sentences with exemplar
    sentences (one embedding call per check, a few milliseconds on CPU); the exemplars are
    embedded once per process and model.

    ``check`` is thread-safe: the detector holds only compiled patterns and read-only arrays,
    and the ``Embedder`` serialises its own model calls.
    """

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        self._exemplars = exemplars_for(embedder) if embedder is not None else None

    @property
    def uses_embeddings(self) -> bool:
        return self._exemplars is not None

    def check(self, text: str) -> CrisisSignal | None:
        """The strongest crisis signal in ``text``, or None when there is none.

        A pattern's score is its fixed confidence (0.82–0.97); a similarity's score is the
        cosine similarity to the nearest crisis exemplar.
        """
        if not isinstance(text, str) or not text.strip():
            return None
        cleaned = clean(text)
        if not cleaned:
            return None
        patterns = match_patterns(canonical(cleaned), RULES)
        if patterns.signal is not None:
            return patterns.signal
        return self._similar(cleaned, patterns.guarded)

    def _similar(self, cleaned: str, guarded: frozenset[int]) -> CrisisSignal | None:
        """The similarity signal. A sentence in which a guard held a pattern back (a negation,
        an idiom, a recovered past) is not compared: similarity would only undo the guard. When
        a whole-message guard held, the rest needs twice the margin."""
        if self._embedder is None or self._exemplars is None:
            return None
        # canonical() changes words only, never sentence boundaries: the indexes line up
        parts = [s for i, s in enumerate(sentences(cleaned)) if i not in guarded]
        groups = chunks(parts)
        if not groups:
            return None
        return nearest_crisis(self._embedder.embed_passages(groups), self._exemplars, bool(guarded))
