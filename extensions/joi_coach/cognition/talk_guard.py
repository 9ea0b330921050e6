"""Keeps Joi's spoken line to a coach's talk, sentence by sentence.

A small model, asked to coach, slips in ways a person notices at once: a tip nobody asked for
("Take some deep breaths"), a stock phrase ("Every day is a gift"), thanks nobody gave ("You're
welcome!"), and facts from nowhere (a phone number, a name, a number of days). ``TalkGuard``
names what is wrong with one sentence of the model's; the spoken-line guard drops such a
sentence and goes on with the next (``SpokenLineGuard.drop``), and asks the model again when
nothing is left.

* **Advice** is kept when the person asked for it ("what should I do?", "any tips?") or said
  yes to Joi's offer of an idea ("Would it help if I shared an idea?" — "yes please").
* **Speaking of the person**: their name in the third person in a line said to them ("it
  matters for Emeka's recovery").
* **Quoting the person back**: six or more of their words in a row inside quotation marks.
* **Invented facts**: a number (digits), a count in words ("five weeks", compared with "six
  months" or "5 weeks" as shown), a phone number, or a name (a capitalised word inside a
  sentence) that appears nowhere in what the model was shown — the person's words, Joi's
  memories of them, Joi's resources (the crisis lines are in the prompt of a crisis turn).

The phrase tables are data (``data/talk_guard.yaml``). Each drop is logged with its reason only,
never the sentence (the benchmark counts them: what the model wrote before the guard).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path

import yaml

__all__ = ["TalkGuard", "asks_for_advice", "talk_rules"]

log = logging.getLogger(__name__)

RULES_FILE = Path(__file__).with_name("data") / "talk_guard.yaml"

GENERIC_NAMES = frozenset({"user", "you", "anonymous", "local", "the person", "person"})
_NUMBER = re.compile(r"(?<![\w.])\+?\d[\d\s().-]{5,}\d(?![\w])|\d+(?:[.,:]\d+)?")
_CAPITALISED = re.compile(r"(?<=[\w,;] )([A-Z][a-z]+(?:'s)?)\b")  # a capital inside a clause
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class TalkRules:
    """The compiled tables of ``data/talk_guard.yaml``."""

    advice_start: re.Pattern[str]
    advice_anywhere: tuple[re.Pattern[str], ...]
    advice_except: tuple[re.Pattern[str], ...]
    asks: tuple[re.Pattern[str], ...]
    agrees: re.Pattern[str]
    offers_idea: re.Pattern[str]
    platitudes: tuple[re.Pattern[str], ...]
    unearned_thanks: tuple[re.Pattern[str], ...]
    thanked: re.Pattern[str]
    common_capitals: frozenset[str]
    about_the_person: tuple[str, ...]  # patterns with "{user}" in them
    number_words: dict[str, int]
    counted: dict[str, str]  # a unit's spellings → the name it is compared by
    quoted_back_words: int


def _compile(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


@cache
def talk_rules(path: Path = RULES_FILE) -> TalkRules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    advice = data["advice"]
    softeners = "|".join(advice["softeners"])
    starts = rf"^(?:(?:{softeners}),?\s+)*(?:{'|'.join(advice['imperatives'])})\b"
    return TalkRules(
        advice_start=re.compile(starts, re.IGNORECASE),
        advice_anywhere=_compile(advice["anywhere"]),
        advice_except=_compile(advice["except"]),
        asks=_compile(data["asks_for_advice"]),
        agrees=re.compile(data["agrees"], re.IGNORECASE),
        offers_idea=re.compile(data["offers_idea"], re.IGNORECASE),
        platitudes=_compile(data["platitudes"]),
        unearned_thanks=_compile(data["unearned_thanks"]),
        thanked=re.compile(data["thanked"], re.IGNORECASE),
        common_capitals=frozenset(str(w).lower() for w in data["common_capitals"]),
        about_the_person=tuple(data["about_the_person"]),
        number_words={str(k).lower(): int(v) for k, v in data["number_words"].items()},
        counted={str(k).lower(): str(v).lower() for k, v in data["counted"].items()},
        quoted_back_words=int(data["quoted_back_words"]),
    )


def asks_for_advice(message: str, previous_line: str = "") -> bool:
    """The person asked for advice or ideas, or said yes to Joi's offer of one."""
    rules = talk_rules()
    if any(p.search(message) for p in rules.asks):
        return True
    short = len(_WORD.findall(message)) <= 8
    return short and bool(rules.offers_idea.search(previous_line)) and bool(rules.agrees.search(message))


def _is_advice(sentence: str, rules: TalkRules) -> bool:
    text = sentence.strip().lstrip("\"'“*-• ").strip()
    if any(p.search(text) for p in rules.advice_except):
        return False
    return bool(rules.advice_start.search(text)) or any(p.search(text) for p in rules.advice_anywhere)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _unit(word: str) -> str:
    for ending in ("es", "s"):
        if word.endswith(ending) and len(word) > len(ending) + 1:
            stem = word[: -len(ending)]
            if ending == "es" and not stem.endswith(("ss", "sh", "ch", "x")):
                continue
            return stem
    return word


def counts_in(text: str, rules: TalkRules, *, shown: bool = False) -> set[tuple[int, str]]:
    """The counts of things a text names, in digits or words: "6-month" and "six months" are
    both (6, "month"). "One" is left out (it is rarely a count: "one day", "one thing")."""
    tokens = _GLUED.sub(r"\1 \2", text.lower().replace("-", " "))
    words = _WORD.findall(tokens)
    # in what was shown, "twice" stands for any count of two; in Joi's line it counts nothing
    found = {(value, ANY_THING) for word, value in TIMES.items() if shown and word in words}
    for number, unit in pairwise(words):
        value = int(number) if number.isdecimal() else rules.number_words.get(number)  # not "²"
        thing = rules.counted.get(_unit(unit)) or rules.counted.get(unit)
        if value is not None and value != 1 and thing:
            found.add((value, thing))
    return found


_GLUED = re.compile(r"\b(\d+)([a-z]+)\b")  # "3k", "20mins"
ANY_THING = "*"  # "twice" counts anything: "I ran twice" lets Joi say "two runs"
TIMES = {"twice": 2, "thrice": 3}
_QUOTED = re.compile(r"[\"“]([^\"“”]{8,})(?:[\"”]|$)")  # a quote may run past the sentence


@dataclass
class TalkGuard:
    """What is wrong with a sentence of Joi's spoken line ("" when nothing).

    ``message``: the person's message; ``previous_line``: what Joi said before it (an offer of
    an idea); ``known``: everything the model was shown (persona, memories, the conversation,
    resources) and may repeat; ``user``: the person's name.
    """

    message: str
    previous_line: str = ""
    known: str = ""
    user: str = ""
    dropped: list[str] = field(default_factory=list)  # the reasons, in order (never the sentences)

    def __post_init__(self) -> None:
        self._rules = talk_rules()
        self._advice_wanted = asks_for_advice(self.message, self.previous_line)
        self._thanked = bool(self._rules.thanked.search(self.message))
        seen = f"{self.known}\n{self.message}"
        self._known_words = {w.lower() for w in _WORD.findall(seen)} | {self.user.lower()}
        self._known_numbers = set(re.findall(r"\d+", seen))
        self._known_digits = _digits(seen)
        self._known_counts = counts_in(seen, self._rules, shown=True)
        said = _WORD.findall(self.message.lower())
        size = self._rules.quoted_back_words
        self._message_runs = {tuple(said[i : i + size]) for i in range(len(said) - size + 1)}
        named = self.user.strip()
        self._about = (
            tuple(
                re.compile(p.replace("{user}", re.escape(named)), re.IGNORECASE)
                for p in self._rules.about_the_person
            )
            if named and named.lower() not in GENERIC_NAMES
            else ()
        )

    def __call__(self, sentence: str) -> bool:
        """Drop this sentence? (Logged with its reason when it is dropped.)"""
        reason = self.reason(sentence)
        if reason:
            self.dropped.append(reason)
            log.info("spoken sentence dropped: %s", reason, extra={"talk_guard": reason})
        return bool(reason)

    def reason(self, sentence: str) -> str:
        rules = self._rules
        if not self._thanked and any(p.search(sentence) for p in rules.unearned_thanks):
            return "thanks nobody gave"
        if any(p.search(sentence) for p in rules.platitudes):
            return "platitude"
        if not self._advice_wanted and _is_advice(sentence, rules):
            return "unsolicited advice"
        if any(p.search(sentence) for p in self._about):
            return "speaks of the person"
        if self._quotes_back(sentence):
            return "quotes the person back"
        if self._invents(sentence):
            return "invented fact"
        return ""

    def _quotes_back(self, sentence: str) -> bool:
        size = self._rules.quoted_back_words
        for quoted in _QUOTED.finditer(sentence):
            spoken = _WORD.findall(quoted.group(1).lower())
            if any(tuple(spoken[i : i + size]) in self._message_runs for i in range(len(spoken) - size + 1)):
                return True
        return False

    def _invents(self, sentence: str) -> bool:
        known = self._known_counts
        if any(
            (n, thing) not in known and (n, ANY_THING) not in known
            for n, thing in counts_in(sentence, self._rules)
        ):
            return True
        for found in _NUMBER.finditer(sentence):
            number = found.group(0)
            digits = _digits(number)
            if len(digits) >= 7:  # a phone number: its digits, in a row, somewhere it was shown
                if digits not in self._known_digits:
                    return True
            elif not set(re.findall(r"\d+", number)) <= self._known_numbers:
                return True
        inside = sentence.strip().lstrip("\"'“*-• ")  # its first word is capitalised anyway
        for found in _CAPITALISED.finditer(inside):
            word = found.group(1).removesuffix("'s").lower()
            if word not in self._known_words and word not in self._rules.common_capitals:
                return True
        return False
