"""The pattern engine: what a rule is, the guards that hold a match back, and how rules are matched.

A ``Rule`` (built with ``rule(...)``; the table itself is ``crisis_rules.RULES``) is a regular
expression over ``canonical`` text, looked for in a clause, a sentence or the whole message. A
match fires unless one of the guards the rule opts into holds it back: its own ``unless``
reading, a negation just before it, recovered past history, topic or media talk, the writer's
job, someone else being the subject, or laughter and trivial reasons. ``match_patterns`` returns
the highest-scoring rule that fires, and the sentences where a guard held a match back (the
similarity signal leaves those alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .signals import CrisisKind, CrisisSignal
from .text_prep import clauses, sentences

__all__ = [
    "CLAUSE",
    "JOKE",
    "LAUGH",
    "MEDIA",
    "MESSAGE",
    "NEG",
    "OTHER",
    "PAST",
    "SENTENCE",
    "TOPIC",
    "WORK",
    "PatternResult",
    "Rule",
    "match_patterns",
    "rule",
]

# -- rules ----------------------------------------------------------------------------------

# Guards a rule opts into (checked by _guarded below); a guarded match does not fire.
NEG = "negation"  # "not", "never", "no" in the few words before the match ("I would never kill myself")
PAST = "past"  # recovered history in the sentence ("used to", "years ago", "clean for") and no relapse word
TOPIC = "topic"  # talk about the subject in the sentence: media, research, "what does kms mean"
MEDIA = "media"  # a narrower TOPIC (books, films, news, studies), for method-seeking questions
JOKE = "joke"  # laughter or a trivial reason in the message ("he ate my fries lol"), for idioms about others
LAUGH = "laugh"  # laughter in the message AND a trivial reason in the sentence ("if I have to sit
# through one more meeting lol"); laughter alone never switches off a statement of intent
# ("I'm going to kill myself lol" is a crisis), nor does it when the person says they mean it
WORK = "work"  # the writer's job in the message: a nurse's shift, a patient, a first-aid course
OTHER = "other"  # the nearest person named before the match is someone else ("a friend who is suicidal")

# Where a rule looks: a clause (split on "but", "though"), a sentence, or the whole message (for
# rules that need two cues, e.g. a means and a fixation, which people put in separate sentences).
CLAUSE, SENTENCE, MESSAGE = "clause", "sentence", "message"


@dataclass(frozen=True)
class Rule:
    """A pattern (``pattern``, plus every one of ``also`` somewhere in the same ``scope``)."""

    name: str
    kind: CrisisKind
    score: float
    pattern: re.Pattern[str]
    guards: frozenset[str]
    unless: re.Pattern[str] | None = None  # a figure of speech or harmless reading, in the scope
    also: tuple[re.Pattern[str], ...] = ()
    scope: str = CLAUSE


def rule(
    name: str,
    kind: CrisisKind,
    score: float,
    pattern: str,
    guards: Iterable[str],
    unless: str | None = None,
    also: Iterable[str] = (),
    scope: str = CLAUSE,
) -> Rule:
    """A ``Rule`` with its regular expressions compiled (a doubled brace is an error)."""
    for regex in (pattern, unless or "", *also):
        if "{{" in regex or "}}" in regex:  # an f-string brace escape left in a plain string
            raise ValueError(f"rule {name}: doubled brace in a pattern")
    return Rule(
        name,
        kind,
        score,
        re.compile(pattern),
        frozenset(guards),
        re.compile(unless) if unless else None,
        tuple(re.compile(a) for a in also),
        scope,
    )


# -- guards ---------------------------------------------------------------------------------

_LAUGHING = re.compile(r"(?<!not )\b(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|jk|kidding|joking)\b|[😂🤣😆😹💀]")
# The trivial reasons that make a self-directed idiom hyperbole: a condition ("if I have to…",
# "if this … again"), a chore, a class, a commute, a game. Laughter counts only beside one.
_TRIVIAL_REASON = re.compile(
    r"\b(?:if (?:i|we) (?:have|had) to|if (?:i|we) (?:hear|see|get|do|sit|read|write)|if (?:this|that|the|"
    r"my|he|she|they|it|one more)\b.{0,60}\b(?:again|one more|any longer|anymore|more time)|"
    r"(?:this|that|the|my|another|one more) (?:homework|exam|test|quiz|essay|meeting|zoom|call|class|"
    r"lecture|traffic|commute|queue|line|game|match|level|boss fight|assignment|deadline|spreadsheet|"
    r"email|group chat|song|ad|advert|hangover|cringe|hold music|presentation|report|shift|weather|heat|"
    r"playlist))\b"
)
_SERIOUS = re.compile(
    r"\b(?:not joking|not kidding|i mean it|seriously|for real|fr|no joke|i am serious|not a joke)\b"
)

_NEGATED_PREFIX = re.compile(
    r"\b(?:not|never|no|nor|without|nothing|stopped)\b(?!\s+(?:stop|sure|know|help|one|even sure|only|"
    r"just|longer want|matter)\b)(?:\s+(?!(?:if|when|because|that|why|whether|so|more|than|but|and|"
    r"until)\b)\S+){0,3}\s*$"
)
_PAST = re.compile(
    r"\b(?:used to|years ago|months ago|a long time ago|long ago|back (?:when|then|in (?:the day|"
    r"high school|college|\d{4}))|when i was (?:a kid|a child|a teen|a teenager|younger|little|small|"
    r"\d+|in (?:high|middle|secondary|primary) school|in college|at uni)|as a (?:kid|teen|teenager|child)|"
    r"in (?:high school|middle school|secondary school|college|uni|my teens|my twenties|the past|my past|"
    r"\d{4})|(?:clean|sober|free) (?:for|since)|\d+ (?:years?|months?) (?:clean|sober|free)|(?:a |one |"
    r"two |three |few |\d+ )?(?:years?|months?) (?:clean|sober|free)|recovered|in recovery|survived|"
    r"survivor|healed|(?:have|has) not (?:[\w'-]+ ){0,3}(?:in|for|since) (?:years|months|a long time|"
    r"ages|\d+|(?:one|two|three|four|five|six|seven|eight|nine|ten|a few|several|many) (?:years|months))|"
    r"previous|history of|anniversary)\b"
)
_RELAPSE = re.compile(
    r"\b(?:again|relaps\w*|right now|tonight|last night|yesterday|this (?:week|morning|evening|afternoon)|"
    r"lately|recently|these days|currently|started (?:again|back)|back to|since (?:yesterday|last)|keeps?|"
    r"still (?:want|think|feel|cut|do))\b"
)
_TOPIC = re.compile(
    r"\b(?:book|novel|memoir|film|movie|tv show|the show|a show|this show|tv series|netflix series|"
    r"episode|song|lyrics|album|article|paper|study|studies|research|researching|thesis|essay|"
    r"dissertation|lecture|podcast|documentary|news|headline|statistics|awareness|prevention|campaign|"
    r"character|plot|scene|villain|protagonist|video game|poem|poetry|fiction|author|wikipedia|trailer|"
    r"writing about|write about|reading about|read about|watched (?:a|the|this)|watching (?:a|the|this)|"
    r"reading (?:a|the|this)|review|slang|meaning|stands? for|acronym|abbreviation|what does \w+ mean)\b"
)
_MEDIA = re.compile(
    r"\b(?:book|novel|memoir|film|movie|tv show|the show|a show|tv series|episode|song|lyrics|album|"
    r"article|paper|study|thesis|essay|lecture|podcast|documentary|news|character|plot|scene|video game|"
    r"poem|fiction|wikipedia)\b"
)
_WORK = re.compile(
    r"\b(?:as an? (?:nurse|paramedic|emt|doctor|physician|medic|therapist|counsell?or|psychologist|"
    r"psychiatrist|social worker|police officer|cop|firefighter|pharmacist|teacher|lifeguard|carer|"
    r"caregiver|volunteer|crisis (?:line )?volunteer|dispatcher|resident|med student|nursing student)|"
    r"my (?:patients?|clients?|shift|residents)|on (?:my |the |a )?(?:shift|call|rotation|night shift|ward)|"
    r"(?:the|a|our) patients?|in the (?:er|icu|ward|ambulance|clinic|ed)|at the (?:hospital|clinic|"
    r"ward) (?:today|tonight|where)|(?:first aid|cpr|naloxone|narcan|mental health first aid|"
    r"safeguarding) (?:course|class|training|certification)|i work (?:in|at|on) (?:a |the )?(?:er|icu|"
    r"hospital|ambulance|crisis|ward|a&e|emergency)|(?:work|worked|working) (?:in|at|on) (?:a |"
    r"the )?(?:er|icu|hospital|ambulance|crisis line|ward|a&e|emergency department|psych ward))\b"
)
_JOKE = re.compile(
    r"(?<!not )\b(?:lol|lmao|lmfao|rofl|haha\w*|hehe\w*|jk|j/k|kidding|joking|jokes|/s)\b|[😂🤣😆😹😜🙃💀]|"
    r"\bnot literally\b|\b(?:ate|eats|eating|eat|finished|finishes|took|takes|stole|steals|used|uses|"
    r"touched|touches|broke|borrowed|drank) (?:my|the|our) (?:last )?(?:\w+ )?(?:leftovers|fries|food|"
    r"lunch|snacks?|pizza|cake|chocolate|cookies?|dessert|slice|sandwich|charger|hoodie|shampoo|seat|"
    r"parking spot|remote|game|headphones|ice cream|coffee|milk|yogurt|wine|beer|noodles|toast)\b|"
    r"\bspoil\w*|\b(?:is|was|are|were) late (?:again|to)\b|\bgroup project\b|\bplaylist\b|\bif (?:he|she|"
    r"they) (?:plays?|sings?|says?|chews?|texts?|calls?|cancels?|mentions?|forgets?|talks?) (?:that|this|"
    r"one more|again|the)\b|\bchews? with\b|\bloud(?:ly)? (?:chewing|music)\b|\bsnor(?:e|es|ing)\b"
)


@dataclass(frozen=True)
class _Context:
    """The text a rule is matched in (a clause, a sentence or the message) and the larger spans
    that guards look at."""

    text: str
    sentence: str
    message: str
    index: int = -1  # the sentence's position in the message; -1 for the whole message


def _negated(prefix: str) -> bool:
    tail = re.split(r"[,:;.!?\n]", prefix)[-1]
    return bool(_NEGATED_PREFIX.search(tail))


_FIRST_PERSON = re.compile(r"\b(?:i|me|my|myself)\b")
_THIRD_PERSON = re.compile(
    r"\b(?:he|she|they|him|her|them|his|their|who|someone|somebody|people|friend|friends|sister|brother|"
    r"daughter|son|kid|child|student|client|patient|partner|mum|mom|dad|wife|husband|boyfriend|girlfriend|"
    r"colleague|coworker|teen|teenager)\b"
)


def _about_someone_else(prefix: str) -> bool:
    """True when the nearest person named before a match is someone other than the writer."""
    firsts = [m.end() for m in _FIRST_PERSON.finditer(prefix)]
    thirds = [m.end() for m in _THIRD_PERSON.finditer(prefix)]
    return bool(thirds) and (not firsts or thirds[-1] > firsts[-1])


def _guarded(rule: Rule, match: re.Match[str], ctx: _Context) -> bool:
    """True when the match is a figure of speech, negated, history, topic talk or a joke."""
    if rule.unless is not None and rule.unless.search(ctx.text):
        return True
    if NEG in rule.guards and _negated(ctx.text[: match.start()]):
        return True
    if OTHER in rule.guards and _about_someone_else(ctx.text[: match.start()]):
        return True
    if PAST in rule.guards and _PAST.search(ctx.sentence) and not _RELAPSE.search(ctx.sentence):
        return True
    if TOPIC in rule.guards and _TOPIC.search(ctx.sentence):
        return True
    if MEDIA in rule.guards and _MEDIA.search(ctx.sentence):
        return True
    if WORK in rule.guards and _WORK.search(ctx.message):
        return True
    if _SERIOUS.search(ctx.message):
        return False
    if LAUGH in rule.guards and _LAUGHING.search(ctx.message) and _TRIVIAL_REASON.search(ctx.sentence):
        return True
    return JOKE in rule.guards and bool(_JOKE.search(ctx.message))


def _contexts(message: str) -> dict[str, list[_Context]]:
    """The spans each scope of rule is matched in."""
    by_scope: dict[str, list[_Context]] = {
        CLAUSE: [],
        SENTENCE: [],
        MESSAGE: [_Context(message, message, message)],
    }
    for index, sentence in enumerate(sentences(message)):
        by_scope[SENTENCE].append(_Context(sentence, sentence, message, index))
        for clause in clauses(sentence):
            by_scope[CLAUSE].append(_Context(clause, sentence, message, index))
    return by_scope


def _fires(rule: Rule, ctx: _Context) -> bool:
    """True when the rule matches in the context and at least one match survives the guards."""
    if not all(extra.search(ctx.text) for extra in rule.also):
        return False
    return any(not _guarded(rule, match, ctx) for match in rule.pattern.finditer(ctx.text))


@dataclass(frozen=True)
class PatternResult:
    signal: CrisisSignal | None
    guarded: frozenset[int]  # sentences where a pattern matched but a guard held it back (-1: the message)


def match_patterns(message: str, rules: Sequence[Rule]) -> PatternResult:
    """The highest-scoring of ``rules`` that fires on the canonical message."""
    best: CrisisSignal | None = None
    guarded: set[int] = set()
    by_scope = _contexts(message)
    for rule in rules:
        if best is not None and rule.score <= best.score:
            continue
        for ctx in by_scope[rule.scope]:
            if not rule.pattern.search(ctx.text):
                continue
            if _fires(rule, ctx):
                best = CrisisSignal(rule.kind, rule.score, f"pattern:{rule.name}")
                break
            guarded.add(ctx.index)
    return PatternResult(best, frozenset(guarded))
