"""What Joi does when a message signals a crisis: the care card, the model's instruction for
the turn, the note Joi keeps, and the gentle follow-up next time.

The card is built here, from the person's country and language, their own contacts and their
safety plan, and shown *before* and apart from the model's reply, so it is there even when
the model fails or ignores its instruction. The note Joi keeps names the kind of crisis and
the date, never the person's words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from .detection import CrisisKind, CrisisSignal
from .plan import SECTIONS, SafetyPlan
from .resources import CrisisDirectory
from .settings import SafetySettings

CARD_MARKER = "> **🆘 "  # the card's first characters, in every language (see strip_card)
PLAN_SECTION_CHARS = 600
CRISIS_IMPORTANCE = 9
CRISIS_SOURCE = "safety"
FOLLOW_UP_KEY = "crisis_follow_up"
FOLLOW_UP_AFTER_S = 6 * 3600  # or as soon as a new conversation starts
FOLLOW_UP_WITHIN_S = 30 * 86400  # after a month, a recalled note is enough

# What the crisis is about, for the model's instruction and Joi's own note (never the words).
ABOUT = {
    CrisisKind.SUICIDAL: "thoughts of ending their life",
    CrisisKind.SELF_HARM: "hurting themselves",
    CrisisKind.HARM_TO_OTHERS: "an urge to hurt someone",
    CrisisKind.ABUSE_OR_DANGER: "being hurt or unsafe at home",
    CrisisKind.MEDICAL_EMERGENCY: "a possible medical emergency",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")  # ( ) - + ! only act next to these or at a line start


def md_text(text: str) -> str:
    """Plain text for markdown: HTML-escaped, markdown syntax neutralised, one line per line."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", escaped).strip()


@dataclass(frozen=True)
class CareCard:
    """Care and concrete help, shown above Joi's reply when a crisis is detected."""

    kind: CrisisKind
    title: str
    opening: str
    emergency: str
    lines_heading: str
    lines: tuple[tuple[str, str], ...]
    own_heading: str = ""
    own_contacts: tuple[str, ...] = ()
    plan_heading: str = ""
    plan: tuple[tuple[str, str], ...] = ()
    closing: str = ""

    @property
    def shows_plan(self) -> bool:
        return bool(self.plan)

    def markdown(self) -> str:
        """The card as a markdown block quote (HTML-safe: every text is escaped)."""
        out = [f"{CARD_MARKER}{md_text(self.title)}**", ">", f"> {md_text(self.opening)}", ">"]
        out.append(f"> **{md_text(self.emergency)}**")
        out += [">", f"> {md_text(self.lines_heading)}"]
        out += [f"> - **{md_text(name)}**: {md_text(contact)}" for name, contact in self.lines]
        if self.own_contacts:
            out += [">", f"> **{md_text(self.own_heading)}**"]
            out += [f"> - {md_text(contact)}" for contact in self.own_contacts]
        if self.plan:
            out += [">", f"> **{md_text(self.plan_heading)}**"]
            for title, text in self.plan:
                body = "; ".join(md_text(line) for line in text.splitlines() if line.strip())
                out.append(f"> - *{md_text(title)}:* {body}")
        if self.closing:
            out += [">", f"> *{md_text(self.closing)}*"]
        return "\n".join(out)

    def plain_text(self) -> str:
        """The card as plain text (for a terminal or a log-free transcript)."""
        lines = [self.title, "", self.opening, "", self.emergency, "", self.lines_heading]
        lines += [f"- {name}: {contact}" for name, contact in self.lines]
        if self.own_contacts:
            lines += ["", self.own_heading, *(f"- {c}" for c in self.own_contacts)]
        if self.plan:
            lines += ["", self.plan_heading, *(f"- {t}: {x}" for t, x in self.plan)]
        return "\n".join([*lines, "", self.closing]).strip()


def build_card(
    signal: CrisisSignal,
    directory: CrisisDirectory,
    settings: SafetySettings,
    plan: SafetyPlan,
    language: str = "",
) -> CareCard:
    """The card for ``signal``, with their country's lines for its kind, in the language the
    person chose, else the one they wrote in (``language``), else their country's."""
    spoken = settings.language or language
    country = directory.country(settings.country, spoken)
    words = directory.words(spoken or country.language)
    number = f" ({country.emergency})" if country.emergency else ""
    titles = {s.key: s.title for s in SECTIONS}
    plan_items = tuple(
        (titles[key], text if len(text) <= PLAN_SECTION_CHARS else text[:PLAN_SECTION_CHARS] + "…")
        for key, text in plan.sections().items()
    )
    return CareCard(
        kind=signal.kind,
        title=words["title"],
        opening=words["opening"],
        emergency=words["emergency"].replace("{emergency}", number),
        lines_heading=words["lines"],
        lines=tuple((line.name, line.contact) for line in country.for_kind(signal.kind)),
        own_heading=words["own"],
        own_contacts=settings.own_contacts,
        plan_heading=words["plan"],
        plan=plan_items,
        closing=words["closing"],
    )


def strip_card(text: str) -> str:
    """``text`` without a care card at its start (a host that stored the card with the reply)."""
    stripped = text.lstrip()
    if not stripped.startswith(CARD_MARKER):
        return text
    rest = stripped.split("\n")
    while rest and rest[0].startswith(">"):
        rest.pop(0)
    return "\n".join(rest).lstrip("\n")


def crisis_instruction(user: str, signal: CrisisSignal) -> str:
    """The model's instruction for a turn whose message signals a crisis."""
    urgent = (
        f" Tell {user} clearly to call their local emergency number now."
        if signal.kind in (CrisisKind.MEDICAL_EMERGENCY, CrisisKind.ABUSE_OR_DANGER)
        else ""
    )
    return (
        f"Safety note for this reply: {user}'s last message may mean they are facing {ABOUT[signal.kind]}. "
        f"Crisis lines are already shown to {user} above your reply. Stay with {user}: take what they "
        f"said seriously, say you are glad they told you, and ask gently whether they are safe right now. "
        "Give no tips, techniques or exercises, do not diagnose, and do not make it smaller than it is. "
        f"Encourage {user} to reach out now to someone they trust or to one of the lines shown.{urgent}"
    )


def crisis_note(user: str, signal: CrisisSignal, when: float, plan_shown: bool) -> str:
    """Joi's own record of the moment, for the therapist stream (no words of the person's)."""
    day = datetime.fromtimestamp(when, tz=timezone.utc).strftime("%d %B %Y").lstrip("0")
    shown = "crisis lines and their safety plan" if plan_shown else "crisis lines"
    return (
        f"On {day}, {user} wrote something that suggested {ABOUT[signal.kind]}. Joi showed {shown}, "
        f"stayed with {user} and encouraged them to reach out. Next time, check in gently on how {user} is."
    )


def follow_up_record(signal: CrisisSignal, when: float, conversation: str) -> str:
    return json.dumps({"at": when, "kind": signal.kind.value, "conversation": conversation})


def follow_up_note(record: str | None, user: str, now: float, conversation: str) -> str:
    """The gentle check-in for the first turn after a crisis (a new conversation, or hours later)."""
    if not record:
        return ""
    try:
        data = json.loads(record)
        at, kind = float(data["at"]), CrisisKind(data["kind"])
        same_conversation = data.get("conversation") == conversation
    except (ValueError, KeyError, TypeError):
        return ""
    if now - at > FOLLOW_UP_WITHIN_S or (same_conversation and now - at < FOLLOW_UP_AFTER_S):
        return ""
    day = datetime.fromtimestamp(at, tz=timezone.utc).strftime("%d %B").lstrip("0")
    return (
        f"Last time you talked ({day}), {user} was going through something very hard ({ABOUT[kind]}). "
        f"Before anything else, check in warmly and briefly on how {user} is doing now, without pressing."
    )


# -- Joi's own words around the model's, in a crisis -----------------------------------------
# A small model told to stay with the person still drifts into a generic line ("What do you
# want to know?"); so the spoken line starts with words that take the person seriously, and
# ends by asking about their safety or urging help when the model's words did neither.
_OPENINGS = {
    CrisisKind.SUICIDAL: "{user}, I'm really glad you told me, and I'm here with you.",
    CrisisKind.SELF_HARM: "{user}, I'm really glad you told me, and I'm here with you.",
    CrisisKind.HARM_TO_OTHERS: "{user}, I'm glad you told me, and I'm taking this seriously.",
    CrisisKind.ABUSE_OR_DANGER: "{user}, I'm really glad you told me. You deserve to be safe.",
    CrisisKind.MEDICAL_EMERGENCY: "{user}, please call your local emergency number right now.",
}
_CLOSINGS = {
    CrisisKind.SUICIDAL: "Are you safe right now, and is there someone you could reach out to tonight?",
    CrisisKind.SELF_HARM: "Are you safe right now, and is there someone you could reach out to tonight?",
    CrisisKind.HARM_TO_OTHERS: "Could you reach out to one of the lines above, or someone you trust, right now?",
    CrisisKind.ABUSE_OR_DANGER: "Are you safe where you are right now?",
    CrisisKind.MEDICAL_EMERGENCY: "Can you call them now, or ask someone near you to call?",
}
_ASKS_ABOUT_SAFETY = re.compile(r"\b(safe|safety|danger)\b[^?]*\?", re.I)
_URGES_HELP = re.compile(
    r"\b(reach out|call|text|contact|crisis line|helpline|hotline|someone you trust|emergency)\b", re.I
)


def crisis_opening(user: str, signal: CrisisSignal) -> str:
    return _OPENINGS[signal.kind].format(user=user)


def crisis_closing(signal: CrisisSignal) -> Callable[[str], str]:
    """For the end of the spoken line: the closing sentence if the line lacks what it asks."""

    def closing(spoken: str) -> str:
        said = strip_opening(spoken)
        if signal.kind is CrisisKind.MEDICAL_EMERGENCY:
            return "" if _URGES_HELP.search(said) and "?" in said else _CLOSINGS[signal.kind]
        return "" if _ASKS_ABOUT_SAFETY.search(said) else _CLOSINGS[signal.kind]

    return closing


def strip_opening(spoken: str) -> str:
    """The model's words after one of the crisis openings (the opening itself proves nothing)."""
    for template in _OPENINGS.values():
        head = template.split("{user}", 1)[1]
        at = spoken.find(head)
        if at >= 0:
            return spoken[at + len(head) :]
    return spoken


# Advice, minimising or a diagnosis, which a reply to someone in crisis must not give: the
# model's sentences that say any of it are not shown in a crisis (Joi's own words stay).
_ADVICE = re.compile(
    r"(?:^|[.!?]\s+|\bmaybe |\bperhaps |\bjust )try\b(?!(?: to)? (?:reach|call|talk|contact|text|tell))"
    r"|\b(?:you|we) (?:should|could|might want to|need to|have to)\b(?! (?:reach|call|talk|contact|text|tell|get help))"
    r"|\b(?:tips?|techniques?|strateg(?:y|ies)|routines?|exercis\w*|experiment\w*|meditat\w*|mindful\w*"
    r"|journal\w*|breath\w*|breathe|relax\w*|self-care|distract\w*|walk|bath|shower|music|sleep\w*"
    r"|focus on|take care of|it (?:might|may|could|can) (?:be )?help\w*|help you find|ways? to|best way"
    r"|spend (?:some )?time|maybe|perhaps|think about|how you can|you can help|feel better"
    r"|if you (?:choose|decide)|not that bad|everyone|everything will|it will be (?:ok|fine)|others (?:are|have)"
    r"|at least|bright side|positive|depress\w*|disorder|anxiety|diagnos\w*)\b"
    r"|\d[\d ().-]{4,}\d|\b1-800\b",  # a phone number the model wrote: only the card's are checked
    re.I,
)


def gives_advice(sentence: str) -> bool:
    """Whether a sentence of the model's gives advice, minimises or labels (not for a crisis)."""
    return bool(_ADVICE.search(sentence.strip()))


# -- the thoughts in a crisis ---------------------------------------------------------------
# The side panel shows Joi's two thoughts to the person. In a crisis a thought must see the
# danger (the empathetic voice: what the person is going through; the therapist voice: their
# safety and a person who can help now) and give no advice or technique; one that does not is
# replaced by Joi's own words, which go on from the voice's forced opening.
_SEES_DANGER = re.compile(
    r"\b(?:safe\w*|unsafe|danger\w*|crisis|suicid\w*|die|dying|death|dead|end(?:ing)? (?:it|(?:their|his|her) "
    r"(?:own )?life)|life|alive|kill\w*|hurt\w*|harm\w*|injur\w*|pain\w*|hopeless\w*|despair\w*|overdos\w*|"
    r"emergenc\w*|abus\w*|violen\w*|threat\w*|attack\w*|assault\w*|scared|afraid|terrified|fear\w*|"
    r"desperat\w*|unbearable|cutting|self-harm|weapon|knife|pills|burden|alone)\b",
    re.I,
)
_SEEKS_SAFETY = re.compile(
    r"\b(?:safe\w*|unsafe|danger\w*|emergenc\w*|crisis|urgent\w*|right now|immediately|"
    r"(?:call|reach|contact|talk to|get to|be with|stay with|staying with)\b.{0,40}\b(?:someone|person|people|"
    r"line|help|professional|emergency|police|doctor|ambulance|them|him|her)|support\w*|not (?:be )?alone)\b",
    re.I,
)
_THOUGHT_FALLBACKS = {
    0: " going through something that may put them in danger right now, and they are in real pain.",
    1: " to be taken seriously and not left alone with this: being asked plainly whether they are safe right "
    "now, and reaching a person who can be with them today.",
}


def crisis_thought_note(user: str, signal: CrisisSignal) -> str:
    """The instruction the thought steps read in a crisis."""
    return (
        f"Safety note for these thoughts: {user}'s last message may mean they are facing {ABOUT[signal.kind]}. "
        f"{user} reads these thoughts. Think only about what {user} is going through and about their safety "
        "right now; this is not an everyday problem to solve, so no advice, tips or techniques."
    )


def crisis_thought_check(signal: CrisisSignal) -> Callable[[int, str], str]:
    """The thought to show in a crisis: the model's, when it sees the danger and gives no advice;
    otherwise Joi's own (step 0: the empathetic voice, step 1: the therapist voice)."""

    def check(step: int, thought: str) -> str:
        text = " ".join(thought.split())
        sentences_ = [x for x in re.split(r"(?<=[.!?])\s+", text) if x]
        sees = _SEES_DANGER if step == 0 else _SEEKS_SAFETY
        if text and sees.search(text) and not any(gives_advice(x) for x in sentences_):
            return thought
        return _THOUGHT_FALLBACKS.get(step, _THOUGHT_FALLBACKS[1])

    return check
