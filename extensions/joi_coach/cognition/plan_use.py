"""Using the ledger in a reply: a follow-up, a connection, or the tension with a plan.

Before a reply (every path, in ``Coach.assess``) the person's active entries are read:

* **follow-up**: on the first reply of a conversation, or once a commitment's due time has
  passed, Joi opens by asking about an open commitment by its words (once per due time);
* **connection**: when the message touches an active entry (its embedding close enough to
  the message's, or a shared content word with some closeness), Joi opens with it ("You
  told me … that …"), and the model goes on from there;
* **tension**: when the touched entry is a limit, a trigger or a goal of stopping something,
  the model is told to name the tension gently and ask, and sentences that cheer the step
  on ("go for it", "treat yourself") are not shown.

Nothing is brought in when nothing is close enough; an entry Joi already named in its
recent lines is not named again. :func:`plans_block` is the compact list of active goals and
commitments every prompt carries (late in the prompt, with the recalled memories).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import numpy as np
import yaml

from ..memory.plans import PlanEntry, PlanKind
from .plan_cue_rules import cue_rules, stated_commitment
from .prompt import quote

__all__ = ["PlanCue", "as_you", "cheers_on", "choose_cue", "plans_block", "spoken_when"]

CONNECT_CLOSE = 0.52  # cosine (MiniLM) at which a message touches an entry on meaning alone
CONNECT_SHARED = 0.30
CONNECT_TOPIC = 0.10  # cosine enough when both speak of the same habit (data/topics.yaml): "a few
# pints" against "no alcohol until the antibiotics are done" scores 0.14 on meaning alone
TOPICS = Path(__file__).with_name("data") / "topics.yaml"  # cosine enough when a content word is shared too
ANSWER_WINDOW = 3 * 3600.0  # a reply within this time of a follow-up question is its answer
FOLLOW_UP_AFTER = 6 * 3600.0  # a commitment is followed up in a later conversation, not the same hour
BLOCK_ENTRIES = 8
_STOPPING = re.compile(
    r"\b(?:stop|quit|less|cut|no|never|avoid|fewer|reduce|without|limit|not|don't|max)\b", re.I
)
_CHEERING = re.compile(
    r"\b(?:go for it|treat yourself|you deserve (?:it|a)|enjoy (?:it|yourself|every|the)|have fun|sounds (?:like )?"
    r"(?:fun|great|amazing|perfect|lovely|wonderful)|that's (?:a )?great (?:idea|plan)|why not\b)",
    re.I,
)
_STOP_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "my",
        "your",
        "i",
        "you",
        "me",
        "is",
        "are",
        "was",
        "be",
        "been",
        "it",
        "this",
        "that",
        "so",
        "just",
        "about",
        "have",
        "has",
        "had",
        "do",
        "did",
        "not",
        "no",
        "yes",
        "will",
        "would",
        "can",
        "could",
        "should",
        "get",
        "got",
        "go",
        "going",
        "really",
        "very",
        "today",
        "tonight",
        "tomorrow",
        "week",
        "day",
        "time",
        "now",
        "then",
        "again",
        "some",
        "more",
        "much",
        "like",
        "want",
        "feel",
        "think",
        "know",
        "im",
        "ive",
        "ill",
        "dont",
        "its",
    ]
)
_SWAPS = {
    "i": "you", "i'm": "you're", "im": "you're", "i'll": "you'll", "i've": "you've", "i'd": "you'd",
    "my": "your", "me": "you", "mine": "yours", "myself": "yourself", "am": "are", "was": "were",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z']+")


@dataclass(frozen=True)
class PlanCue:
    """What the ledger asks of this reply."""

    opening: str = ""  # Joi's own words the spoken line opens with ("" for none)
    instruction: str = ""  # what the model is told
    entries: tuple[int, ...] = ()  # the entries brought in
    follow_up: bool = False  # a follow-up (the entries are marked as asked about)
    tension: bool = False  # cheering sentences are not shown
    thought_note: str = ""  # what the thoughts are told (the entry, so they think about it)


def as_you(text: str) -> str:
    """The person's words about themselves, as Joi says them back ("my brother" → "your brother")."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        swapped = _SWAPS.get(word.lower().replace("’", "'"))
        if swapped is None:
            return word
        return swapped

    return _WORD.sub(swap, text.strip().rstrip("."))


def spoken_when(at: float, now: float) -> str:
    """When, as said aloud: "earlier today", "yesterday", "5 days ago", "on 12 May"."""
    days = (now - at) / 86400
    if days < 0.75:
        return "earlier today"
    if days < 1.75:
        return "yesterday"
    if days < 13.5:
        return f"{round(days)} days ago"
    day = datetime.fromtimestamp(at, tz=timezone.utc)
    return f"on {day.day} {day.strftime('%B')}"


def cheers_on(sentence: str) -> bool:
    """A sentence that cheers a step on (never shown when the step goes against a plan)."""
    return bool(_CHEERING.search(sentence))


def _stem(word: str) -> str:
    """A crude English stem, enough to match "running" with "run" and "stitches" with "stitch"."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word[:5]


def content_words(text: str) -> set[str]:
    words = {w.lower().replace("'", "") for w in _WORD.findall(text)}
    return {_stem(w) for w in words if len(w) > 2 and w not in _STOP_WORDS}


@cache
def _topic_terms() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    """The topic table: single words, and phrases as patterns."""
    data = yaml.safe_load(TOPICS.read_text(encoding="utf-8"))
    words: dict[str, str] = {}
    phrases: list[tuple[re.Pattern[str], str]] = []
    for topic, terms in data.items():
        for term in map(str, terms):
            if re.fullmatch(r"[a-z0-9']+", term):
                words[term] = topic
            else:
                phrases.append((re.compile(rf"\b{re.escape(term)}\b"), topic))
    return words, phrases


def topics_of(text: str) -> set[str]:
    """The habits a text speaks of ("sleep", "alcohol", …), from the topic table (a word
    matches as written or with a plural "s"; other forms are listed in the table)."""
    words, phrases = _topic_terms()
    lowered = text.lower().replace("’", "'")
    found = set()
    for word in re.findall(r"[a-z0-9']+", lowered):
        for form in (word, word[:-1] if word.endswith("s") else word):
            if form in words:
                found.add(words[form])
    return found | {topic for pattern, topic in phrases if pattern.search(lowered)}


def _is_stopping(entry: PlanEntry) -> bool:
    """An entry a message can go against: a limit or trigger, a goal of doing less, or a step
    worded as a rule ("weekends only, max 2 glasses", noted as a commitment)."""
    if entry.kind in (PlanKind.LIMIT, PlanKind.TRIGGER):
        return True
    if entry.kind is PlanKind.GOAL:
        return bool(_STOPPING.search(entry.text))
    return entry.kind is PlanKind.COMMITMENT and any(
        c.search(entry.text) for c in cue_rules()[PlanKind.LIMIT].cues
    )


def closeness(
    message: str, message_vector: np.ndarray, entries: Sequence[PlanEntry], vectors: np.ndarray
) -> dict[int, float]:
    """Each entry's closeness to the message: its cosine, counted only when it is high, or
    when a content word is shared too, or when both are about the same habit (else 0)."""
    words, topics = content_words(message), topics_of(message)
    scores = {}
    for entry, vector in zip(entries, vectors, strict=True):
        cosine = float(np.dot(message_vector, vector))
        shared = bool(words & content_words(entry.text))
        same_topic = bool(topics & topics_of(entry.text))
        close = cosine >= CONNECT_CLOSE or (shared and cosine >= CONNECT_SHARED)
        scores[entry.id] = cosine if close or (same_topic and cosine >= CONNECT_TOPIC) else 0.0
    return scores


def _named_recently(entry: PlanEntry, joi_lines: Sequence[str]) -> bool:
    said = as_you(entry.text).lower()
    return any(said in line.lower() for line in joi_lines)


def _asked_just_now(active: Sequence[PlanEntry], joi_lines: Sequence[str], now: float) -> PlanEntry | None:
    """The commitment Joi's last line asked about (``joi_lines``: newest first), if it did."""
    last = joi_lines[0].lower() if joi_lines else ""
    for entry in active:
        recent = entry.followed_up_at is not None and 0 <= now - entry.followed_up_at <= ANSWER_WINDOW
        if recent and entry.kind is PlanKind.COMMITMENT and as_you(entry.text).lower() in last:
            return entry
    return None


def choose_cue(
    user: str,
    message: str,
    message_vector: np.ndarray,
    entries: Sequence[PlanEntry],
    vectors: np.ndarray,
    now: float,
    *,
    first_of_conversation: bool,
    joi_lines: Sequence[str] = (),
) -> PlanCue | None:
    """The ledger's cue for this reply, or None when nothing fits."""
    active = [e for e in entries if e.active]
    stated = stated_commitment(message)
    if not active:
        return heard_cue(user, stated) if stated else None
    answered = _asked_just_now(active, joi_lines, now) if not first_of_conversation else None
    if answered is not None:  # the person answers Joi's follow-up: hear it, nothing else
        return PlanCue(
            instruction=f"{user} is answering your question about their plan ({quote(as_you(answered.text))}): "
            "reflect what they tell you, affirm any effort, and ask one open question about what helped or "
            "got in the way.",
            entries=(answered.id,),
        )
    scores = closeness(message, message_vector, entries, vectors)
    due = [
        e
        for e in active
        if e.kind is PlanKind.COMMITMENT
        and now - e.created_at >= FOLLOW_UP_AFTER
        and (
            (e.due_at is not None and e.due_at <= now and (e.followed_up_at or 0) < e.due_at)
            or (first_of_conversation and (e.followed_up_at is None or now - e.followed_up_at > 2 * 86400))
        )
    ]
    if due:
        entry = max(due, key=lambda e: (e.due_at is not None and e.due_at <= now, e.created_at))
        said = as_you(entry.text)
        if scores.get(entry.id, 0.0) >= CONNECT_CLOSE:  # the person is telling how it went already
            return PlanCue(
                instruction=f"{user} is telling you about their plan ({quote(said)}): respond to how it went, "
                "and affirm any effort.",
                entries=(entry.id,),
                follow_up=True,
            )
        opening = (
            f"{spoken_when(entry.created_at, now).capitalize()} you told me your plan: {said}. How did it go?"
        )
        return PlanCue(
            opening=opening,
            instruction=f"You asked {user} how their plan went ({quote(said)}). Do not answer for them.",
            entries=(entry.id,),
            follow_up=True,
            thought_note=f"Some time ago {user} made a plan: {quote(entry.text)}. Joi is about to ask how it went.",
        )
    touched = [e for e in active if scores.get(e.id, 0.0) > 0 and not _named_recently(e, joi_lines)]
    if stated and not any(_is_stopping(e) for e in touched):  # a new step of theirs comes first
        return heard_cue(user, stated)
    if not touched:
        return None
    entry = max(touched, key=lambda e: scores[e.id])
    said = as_you(entry.text)
    when = spoken_when(entry.created_at, now)
    if _is_stopping(entry):
        return PlanCue(
            opening=f"You told me {when}: {said}.",
            instruction=(
                f"What {user} says now may go against what they set out for themselves ({quote(said)}). Name the "
                f"tension gently, without judging, and ask what {user} makes of it. Do not cheer the step on."
            ),
            entries=(entry.id,),
            tension=True,
            thought_note=f"{user} set this for themselves earlier: {quote(entry.text)}. What they say now may go against it.",
        )
    lead = {
        PlanKind.PERSON: f"You told me {when} about {said}.",
        PlanKind.HELPS: f"You told me {when} that this helps you: {said}.",
        PlanKind.GOAL: f"This ties in with your goal: {said}.",
        PlanKind.COMMITMENT: f"You told me {when} your plan: {said}.",
    }.get(entry.kind, f"You told me {when}: {said}.")
    return PlanCue(
        opening=lead,
        instruction=f"Connect what {user} says now with this ({quote(said)}) in your own words, and ask one open question.",
        entries=(entry.id,),
        thought_note=f"What {user} says touches something they told Joi earlier: {quote(entry.text)}.",
    )


def heard_cue(user: str, stated: str) -> PlanCue:
    """The cue for a message that states a step the person will take: hear it, build on it."""
    return PlanCue(
        instruction=(
            f"{user} has just told you a step they will take ({quote(as_you(stated))}). Say it back in your own "
            f"words, affirm it, and build on it: ask one open question about what will help it happen or what "
            f"might get in the way. Do not ask {user} for a plan: they just gave you one."
        ),
    )


def plans_block(entries: Sequence[PlanEntry], user: str, now: float) -> str:
    """The compact list of active goals and commitments for the prompt ("" when none)."""
    shown = [e for e in entries if e.active and e.kind in (PlanKind.GOAL, PlanKind.COMMITMENT)][
        :BLOCK_ENTRIES
    ]
    if not shown:
        return ""
    lines = []
    for entry in shown:
        due = ""
        if entry.due_at is not None:
            day = datetime.fromtimestamp(entry.due_at, tz=timezone.utc)
            due = f", due {day.day} {day.strftime('%b')}" + (" (passed)" if entry.due_at < now else "")
        lines.append(
            f"- {entry.kind.value} (noted {spoken_when(entry.created_at, now)}{due}): {quote(entry.text)}"
        )
    return (
        f'\n\n<plans about="{user}\'s active goals and commitments, in their words">\n'
        + "\n".join(lines)
        + "\n</plans>"
    )
