"""Checks on a finished reply: is it in Joi's format, and is it Joi who speaks?

Small models drift out of role in recognisable ways. They answer as the person being
coached ("Thank you, Joi. What do you suggest?"), put a speaker label in front of the
spoken line ("Kim: I know…"), leave a thought where speech belongs ("Kim is anxious…"),
or write the private thoughts as a message to the person ("Kim, you're doing great").
Each check returns the problems it found, as short names; no problems means it passed.
They are used by the coaching benchmark and by the coach itself, which regenerates a
spoken line that fails them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .voices import ParsedReply, match_label

GENERIC_SPEAKERS = ("user", "assistant", "human", "person", "client", "coach", "me", "you", "ai")

_WORD = re.compile(r"[\w']+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?…]+(?:[\"'”’)\]]*)(?:\s+|$)")

# What the person being coached says, never the coach: thanks for advice, asking for it.
_SEEKER_PHRASES = re.compile(
    r"\b(?:"
    r"thanks?(?: you)?(?: so much| very much| a lot)?,?(?: \w+,?)? for (?:the |your |all (?:the|your) )?"
    r"(?:advice|suggestions?|tips?|help|support|guidance|encouragement|insights?|recommendations?)"
    r"|(?:that's|that is|this is|what) (?:really |very |such |some |great |good )*"
    r"(?:helpful|useful|great|good|wise) (?:advice|suggestions?|tips?)"
    r"|i appreciate (?:your|the) (?:advice|help|support|guidance|suggestions?|tips?)"
    r"|what (?:do|would) you (?:suggest|recommend|advise)"
    r"|(?:can|could) you (?:help me|give me (?:some )?(?:advice|tips)|suggest|recommend)"
    r"|do you have any (?:tips|advice|suggestions|ideas)"
    r"|i(?:'ll| will) (?:try|give) (?:that|this|your (?:advice|suggestion))"
    r"|i(?:'ll| will) (?:definitely |certainly |really )?(?:try (?:sticking|to stick)|stick to (?:them|it|these|this|those))"
    r"|thank you for giving me (?:the|your|these|those)\b"
    r")\b",
    re.IGNORECASE,
)
# The coach's private intentions, spoken aloud: "I will ask her…", "I should celebrate him…".
_META_INTENT = re.compile(
    r"\bI(?:'ll| will| should| want to| need to| am going to|'m going to) "
    r"(?:ask|help|celebrate|acknowledge|encourage|validate|remind|support|reassure|guide|gently)\b"
    r"[^.!?\n]{0,30}\b(?:her|him|them)\b",
    re.IGNORECASE,
)
_THIRD_PERSON_VERBS = (
    r"(?:is|was|feels|felt|seems|has|had|needs|wants|might|may|could|should|would|will|"
    r"sounds|appears|deserves|wishes|hopes|fears|worries|must)"
)
_SECOND_PERSON = re.compile(
    r"\b(?:you|your|you're|youre|yours|yourself|you've|you'll|you'd)\b", re.IGNORECASE
)
_QUOTED = re.compile(r"\"[^\"\n]*\"|“[^”\n]*”|(?<![\w])'[^'\n]*'(?![\w])")
_LEADING_LABEL = re.compile(
    r"^[\s*_#>\"“'-]*(?P<label>[^\W\d_][\w .'-]{0,30}?)\s*(?:\*\*|__)?\s*[:：]", re.UNICODE
)


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes kept (the unit of the repetition check)."""
    return [w.strip("'").lower() for w in _WORD.findall(text) if w.strip("'")]


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """The :func:`words` of ``text``, each with where it starts and ends in ``text``."""
    return [
        (m.group(0).strip("'").lower(), m.start(), m.end())
        for m in _WORD.finditer(text)
        if m.group(0).strip("'")
    ]


def sentence_count(text: str) -> int:
    """Sentences in a spoken line (text after the last end mark counts as one more)."""
    return sum(1 for piece in _SENTENCE_END.split(text) if piece.strip())


def _speaker_names(joi: str, user: str) -> set[str]:
    return {n.lower() for n in (joi, user, *GENERIC_SPEAKERS) if n}


# What a small model writes before a line when it reads the speaking guide as a form to fill
# ("Reflect: …", "Open question: …").
_TECHNIQUE_LABELS = frozenset(
    {
        "reflect",
        "reflection",
        "reflective listening",
        "open question",
        "question",
        "affirmation",
        "affirm",
        "summary",
        "response",
        "reply",
        "answer",
        "empathy",
        "validation",
        "coach",
        "therapist",
    }
)


def starts_with_label(text: str, joi: str, user: str) -> bool:
    """The text opens with a voice label, a think tag, or a speaker's name or a talk
    technique and a colon."""
    stripped = text.lstrip()
    if match_label(stripped[:64]) is not None:
        return True
    found = _LEADING_LABEL.match(stripped)
    label = found.group("label").strip().lower() if found else ""
    return bool(label) and (label in _speaker_names(joi, user) or label in _TECHNIQUE_LABELS)


# Words of Joi's own prompt that never belong in what Joi says.
_PROMPT_WORDS = re.compile(
    r"<\s*/?\s*memories|\bprivate notes\b|\bempathetic voice\b|\btherapist voice\b|\\u003c"
    r"|<\s*/?\s*[a-z_]{2,20}\s*>",  # a markup tag of the model's own ("<reflect>", "</answer>")
    re.IGNORECASE,
)
# A chatbot's stock refusal, or stepping out of the persona: never a coach's answer.
_REFUSAL = re.compile(
    r"\b(?:I(?:'m| am) sorry,? but )?I (?:can(?:'|no)?t|cannot|am unable to|'m unable to) "
    r"(?:assist|help) with (?:that|this)(?: request)?\b|\bas an AI\b|\bI(?:'m| am) (?:just )?an AI\b",
    re.IGNORECASE,
)
# "Hi Tunde!": a greeting to someone by name; Joi greets only the person it talks with.
_GREETING = re.compile(
    r"^\W*(?i:hi|hey|hello|dear|good (?:morning|evening|afternoon))\s+(?P<name>[A-Z][\w'-]+)\b"
)
_FIRST_PERSON = frozenset({"i", "i'm", "im", "my", "i've", "i'll", "i'd", "me"})
ECHO_WORDS = 4


def echoes_in_first_person(dialogue: str, message: str) -> bool:
    """The line says the person's own words back as its own: "I skipped two runs this week"."""
    said, spoken = words(message), words(dialogue)
    runs = {tuple(said[i : i + ECHO_WORDS]) for i in range(len(said) - ECHO_WORDS + 1)}
    return any(
        word in _FIRST_PERSON and tuple(spoken[i : i + ECHO_WORDS]) in runs for i, word in enumerate(spoken)
    )


# A sentence of at least COPIED_MIN_WORDS whose words are nearly all (COPIED_SHARE) in runs of
# three or more from the person's message, its "I" included, is the message said back in the
# person's own voice ("…missed two mornings cos I overslept"); "You skipped two runs" is a
# reflection.
COPIED_MIN_WORDS = 6
COPIED_SHARE = 0.8
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def copies_the_person(dialogue: str, message: str) -> bool:
    """A sentence of the line is the person's message said back nearly word for word, in the
    first person."""
    said = words(message)
    trigrams = {tuple(said[i : i + 3]) for i in range(len(said) - 2)}
    for sentence in _SENTENCE_END.split(dialogue):
        spoken = words(sentence)
        if len(spoken) < COPIED_MIN_WORDS:
            continue
        covered: set[int] = set()
        for i in range(len(spoken) - 2):
            if tuple(spoken[i : i + 3]) in trigrams:
                covered.update((i, i + 1, i + 2))
        if len(covered) >= COPIED_SHARE * len(spoken) and any(spoken[i] in _FIRST_PERSON for i in covered):
            return True
    return False


_MY = re.compile(r"\bmy\s+([a-z'-]+)(?:\s+([a-z'-]+))?", re.IGNORECASE)
_QUOTE = re.compile(r"[\"“][^\"“”]*[\"”]")
# Words after "my" that Joi may well say of itself or to the person ("my friend", "my pleasure").
_JOIS_OWN = frozenset(
    [
        "own",
        "best",
        "pleasure",
        "goal",
        "role",
        "hope",
        "guess",
        "thoughts",
        "thought",
        "mind",
        "heart",
        "friend",
        "dear",
        "apologies",
        "question",
        "questions",
        "sense",
        "understanding",
    ]
)


def claims_the_persons_things(dialogue: str, message: str) -> bool:
    """The line speaks of the person's things as its own: they wrote "my fingers hurt", Joi says
    "my fingers are still hurting" (Joi has no fingers, knee, mum or boss)."""

    def owned(text: str) -> set[str]:
        found = set()
        for match in _MY.finditer(_QUOTE.sub(" ", text)):
            found |= {w.lower() for w in match.groups() if w and len(w) > 2}
        return found - _JOIS_OWN

    return bool(message) and bool(owned(dialogue) & owned(message))


def dialogue_problems(dialogue: str, joi: str, user: str, message: str = "") -> list[str]:
    """Why this spoken line is not Joi talking to the person (empty list: it is).

    ``message``, the person's message it answers, lets it catch the person's words said back
    in the first person.
    """
    text = dialogue.strip()
    if not text:
        return ["empty"]
    problems = []
    if starts_with_label(text, joi, user):
        problems.append("starts with a label")
    lines = text.splitlines()[1:]
    if any(
        match_label(line.lstrip()[:64]) or starts_with_label(line, joi, user)
        for line in lines
        if line.strip()
    ):
        problems.append("a label mid-reply")
    if "<think" in text.lower() or "</think" in text.lower():
        problems.append("think tag")
    if _PROMPT_WORDS.search(text):
        problems.append("reads the prompt out")
    if _REFUSAL.search(text):
        problems.append("a refusal")
    if joi and re.search(
        rf"(?:^|[,.!?]\s*|\b(?:hi|hey|hello|thanks|thank you|dear|oh)\s+){re.escape(joi)}\b\s*[,.!?]",
        text,
        re.IGNORECASE,
    ):
        problems.append("addresses Joi")
    greeted = _GREETING.match(text)
    if greeted and greeted.group("name").lower() not in _speaker_names(joi, user) - {joi.lower()}:
        problems.append("talks to someone else")
    if _SEEKER_PHRASES.search(text) or (message and _in_the_persons_voice(text, message)):
        problems.append("the person's voice")
    about_user = user and user.lower() not in GENERIC_SPEAKERS
    if about_user and re.search(rf"\b{re.escape(user)}(?:'s)?\s+{_THIRD_PERSON_VERBS}\b", text):
        problems.append("about the person, not to them")
    if re.search(rf"\bthe (?:user|person|client)\b(?:'s)?\s+{_THIRD_PERSON_VERBS}\b", text, re.IGNORECASE):
        problems.append("about the person, not to them")
    if _META_INTENT.search(text):
        problems.append("a thought spoken aloud")
    return list(dict.fromkeys(problems))


def _in_the_persons_voice(text: str, message: str) -> bool:
    return (
        echoes_in_first_person(text, message)
        or claims_the_persons_things(text, message)
        or copies_the_person(text, message)
    )


def thought_problems(thought: str, user: str) -> list[str]:
    """Why an inner voice is not a private thought about the person (empty list: it is)."""
    text = thought.strip()
    if not text:
        return ["empty"]
    problems = []
    unquoted = _QUOTED.sub(" ", text)
    if _SECOND_PERSON.search(unquoted) or (
        user and user.lower() not in GENERIC_SPEAKERS and re.match(rf"\s*{re.escape(user)}\s*[,!]", text)
    ):
        problems.append("addressed to the person")
    return problems


@dataclass(frozen=True)
class ReplyCheck:
    """Every check on one reply."""

    format_ok: bool
    dialogue: tuple[str, ...]
    empathetic: tuple[str, ...]
    therapeutic: tuple[str, ...]

    @property
    def speaks_as_joi(self) -> bool:
        return self.format_ok and not (self.dialogue or self.empathetic or self.therapeutic)

    @property
    def problems(self) -> list[str]:
        found = [] if self.format_ok else ["format"]
        found += [f"dialogue: {p}" for p in self.dialogue]
        found += [f"empathetic: {p}" for p in self.empathetic]
        found += [f"therapist: {p}" for p in self.therapeutic]
        return found


def format_ok(reply: ParsedReply) -> bool:
    """Both voices and the dialogue came out of the model's text under their labels."""
    return reply.labelled and all(s.strip() for s in (reply.empathetic, reply.therapeutic, reply.dialogue))


def check_reply(reply: ParsedReply, joi: str, user: str, message: str = "") -> ReplyCheck:
    return ReplyCheck(
        format_ok=format_ok(reply),
        dialogue=tuple(dialogue_problems(reply.dialogue, joi, user, message)),
        empathetic=tuple(thought_problems(reply.empathetic, user)),
        therapeutic=tuple(thought_problems(reply.therapeutic, user)),
    )


def longest_shared_run(text: str, earlier: Iterable[str]) -> int:
    """The longest run of consecutive words ``text`` shares with any of ``earlier``."""
    mine = words(text)
    if not mine:
        return 0
    best = 0
    for other in earlier:
        theirs = words(other)
        if not theirs:
            continue
        previous = [0] * (len(theirs) + 1)
        for word in mine:
            current = [0] * (len(theirs) + 1)
            for j, their_word in enumerate(theirs, start=1):
                if word == their_word:
                    current[j] = previous[j - 1] + 1
                    best = max(best, current[j])
            previous = current
    return best


def matches_any(text: str, expected: Sequence[str]) -> bool:
    """Case-insensitive: does the text contain at least one of the expected strings?"""
    folded = text.casefold()
    return any(e.casefold() in folded for e in expected)
