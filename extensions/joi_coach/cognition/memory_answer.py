"""Answer a question about what the person said before, from their own recalled words.

Asked "Who did I say I'm running with?", the embedded 1.5B model mostly answered with
feelings or asked the question back, even with the answer among the recalled notes: in
a long prompt, the pull to sound like a coach wins over a fact 2,000 tokens up. So a
question about the past gets one short, focused step of its own: the person's recalled
words and the question, nothing else, and a one-sentence answer spoken to the person. The
spoken line then starts with that sentence, and the model goes on from it as Joi.

Only questions that ask for something said before take this step (:func:`asks_about_the_past`);
an answer must rest on the notes (:func:`grounded`), or it is not used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..llm.base import CancelToken, ChatMessage, GenerationParams, LLMBackend
from ..memory.models import Stream
from ..memory.retrieval import Recollection
from .prompt import when

ANSWER_TOKENS = 48
NOTES = 6  # the person's recalled lines the step reads
# The answer is forced to start so: spoken to the person, and a clause (not "told me to …").
OPENING = "You told me that"
ANSWER_PARAMS = GenerationParams(max_tokens=ANSWER_TOKENS, temperature=0.0, stop=("\n",))

# "did I say / tell you", "I told you", "remind me", "do you remember", "… again?"
_RECALL_CUE = re.compile(
    r"\b(?:did|have|had) i (?:ever |already |just )?(?:say|said|tell|told|mention|mentioned|call|name|pick|set|choose)\b"
    r"|\bi (?:told|said|mentioned)\b|\bremind me\b|\bdo you (?:still )?(?:remember|recall|know)\b"
    r"|\bagain\s*[?!.]|\bwhen (?:i|we) first\b|\bback when\b|\bbefore i (?:made|started|quit)\b",
    re.IGNORECASE,
)
# A question for a fact of the person's own life: "What was my savings target?", "Who offered
# to mentor me?", "How long had I been smoking?"
_FACT_QUESTION = re.compile(
    r"(?:^|[.!?]\s+|,\s*)(?:and |so |but |ok,? |okay,? )?"
    r"(?:what(?:'s| is| was| were| did| time| date| day| kind| sort| breed)?|which|who(?:se|m)?|where|when"
    r"|(?:by )?how (?:long|much|many|old|far|often))\b"
    r"(?:[^?]*\b(?:i|my|me|mine|did|was|were|called)\b|[^?]*\bname of\b)[^?]*\?",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"[^.!?]*\?")
_WH = re.compile(r"(?:and |so |but )?(?:what|which|who|whose|where|when|how)\b", re.IGNORECASE)
# Questions that ask for advice or comfort, not for a fact from before.
_ADVICE = re.compile(
    r"\b(?:should|could|can|shall|would|might) i\b|\bwhat if\b|\bhow (?:do|can|should|would) i\b"
    r"|\bwhat(?:'s| is) (?:wrong|the point)\b|\bwhy\b|\b(?:do|am) i\b|\bwhat was i thinking\b"
    r"|\bany (?:ideas|tips|advice|suggestions)\b|\bwhat (?:do|did|would) you (?:think|suggest|recommend)\b",
    re.IGNORECASE,
)
_FIRST_SENTENCE = re.compile(r".+?(?<!\b(?:Mr|Ms|Dr|St))(?<!\bMrs)[.!?](?=\s|$)", re.DOTALL)
# Names and numbers in an answer: capitalised words after its first, and anything with a digit.
_SPECIFIC = re.compile(r"(?<=\s)[A-Z][^\W_]+|[^\W_]*\d[^\W_]*", re.UNICODE)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_COMMON_WORDS = (
    "a an the and or but so of to in on at for with from by about as is are was were be been being "
    "am do does did done have has had i me my mine you your yours we our us he him his she her it its "
    "they them their this that these those what which who whom whose where when why how again remind "
    "said say told tell mentioned mention remember recall know not no yes just really very think back "
    "first one ago day days week weeks month months year years"
)
_COMMON = frozenset(_COMMON_WORDS.split())


def asks_about_the_past(message: str, user: str = "") -> bool:
    """Whether the message asks for something the person told Joi before.

    A question that names the person ("What did Sam say…?") counts as one about them.
    """
    if _RECALL_CUE.search(message):
        return "?" in message or bool(re.search(r"\bremind me\b", message, re.IGNORECASE))
    found = _FACT_QUESTION.search(message)
    if found is None and user and len(user) > 1:
        named = re.compile(rf"\b{re.escape(user)}\b", re.IGNORECASE)
        found = next((q for q in _QUESTION.finditer(message) if named.search(q.group(0))), None)
        found = found if found is not None and _WH.match(found.group(0).strip()) else None
    return found is not None and not _ADVICE.search(found.group(0))


@dataclass(frozen=True)
class Note:
    """One thing the person said: when (as the prompt words it) and their words.

    ``speaker``: who said it, where that was someone other than the person (imported talks).
    """

    when: str
    text: str
    speaker: str = ""


def notes_from(recalled: Sequence[Recollection], joi: str, now: float, user: str = "") -> list[Note]:
    """The person's own recalled lines (best first, at most NOTES), in the order they were said."""
    theirs = [r.memory for r in recalled if r.memory.stream is Stream.DIALOGUE and r.memory.speaker != joi]
    chosen = sorted(theirs[:NOTES], key=lambda m: m.created_at)
    return [
        Note(when(m.created_at, now), m.text, m.speaker if m.speaker and m.speaker != user else "")
        for m in chosen
    ]


def answer_from_memory(
    llm: LLMBackend,
    user: str,
    joi: str,
    notes: Sequence[Note],
    question: str,
    cancel: CancelToken | None = None,
    brief: bool = False,
) -> str:
    """One sentence to the person that answers their question from their recalled words ("" if none).

    Needs a backend that takes a forced prefix (the answer starts with :data:`OPENING`).
    ``brief``: the fact alone, in as few words as will do.
    """
    if not notes or not llm.supports_prefix:
        return ""
    messages = answer_messages(user, joi, notes, question, brief)
    text = OPENING + "".join(llm.stream_chat(messages, ANSWER_PARAMS, cancel, OPENING))
    answer = clean_answer(text, notes, question, user)
    if not answer:
        return ""
    return OPENING + to_second_person(answer[len(OPENING) :])


def answer_messages(
    user: str, joi: str, notes: Sequence[Note], question: str, brief: bool = False
) -> list[ChatMessage]:
    """The focused prompt: the person's own words, the question, and how to answer."""
    listed = "\n".join(
        f'{i}. {note.when}{f", {note.speaker} said" if note.speaker else ""}: "{note.text}"'
        for i, note in enumerate(notes, 1)
    )
    return [
        {
            "role": "system",
            "content": (
                f"You help {joi}, a coach, remember what {user} said in earlier conversations. "
                f"The notes below are {user}'s own words. Find the note that answers {user}'s question "
                f"and answer in one {'very short sentence of at most ten words' if brief else 'short sentence'} "
                f'spoken to {user} ("you"), with the exact detail (name, number, date, place) as the note '
                "gives it."
            ),
        },
        {"role": "user", "content": f"Notes of what {user} said:\n{listed}\n\n{user}'s question: {question}"},
    ]


def content_words(text: str) -> set[str]:
    return {w for w in (m.group(0).lower() for m in _WORD.finditer(text)) if w not in _COMMON}


def grounded(answer: str, notes: Sequence[Note], question: str, user: str = "") -> bool:
    """The answer says something the notes say and the question does not, and most names and
    numbers in it are ones the notes or the question give (a small model makes them up)."""
    said = set().union(*(content_words(n.text) for n in notes)) if notes else set()
    asked = content_words(question)
    if not (content_words(answer) - asked) & said:
        return False
    known = said | asked | content_words(user) | set().union(*(content_words(n.when) for n in notes))
    specific = {w.lower() for w in _SPECIFIC.findall(answer)} - {OPENING.split()[0].lower()}
    return len(specific & known) >= len(specific - known)


_FIRST_PERSON = {
    "i": "you",
    "i'm": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "me": "you",
}
# "me" stays where it is Joi being told ("you told me", "talked to me").
_PRONOUN = re.compile(
    r"\b(?:i'm|i've|i'd|i'll|i am|i was|i|my|mine|myself)\b|(?<!\bto )(?<!\btold )(?<!\btell )\bme\b",
    re.IGNORECASE,
)


def to_second_person(text: str) -> str:
    """The person's first-person words turned to them ("my sister" -> "your sister")."""

    def swap(found: re.Match[str]) -> str:
        word = found.group(0).lower().replace("’", "'")
        if word in ("i am", "i was"):
            return "you are" if word == "i am" else "you were"
        return _FIRST_PERSON[word]

    return _PRONOUN.sub(swap, text)


def clean_answer(text: str, notes: Sequence[Note], question: str, user: str = "") -> str:
    """The answer's first sentence, or "" when it found nothing or is not drawn from the notes."""
    text = text.strip().strip('"').strip()
    if not text:
        return ""
    first = _FIRST_SENTENCE.match(text)
    sentence = (first.group(0) if first else text).strip()
    if "\n" in sentence or not grounded(sentence, notes, question, user):
        return ""
    return sentence
