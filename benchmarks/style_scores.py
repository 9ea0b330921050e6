"""Motivational Interviewing (MI) style scores for one coach reply, by plain rules (no model).

Written apart from the run-time guard (``joi_coach.cognition``'s spoken guard, reply checks and
reply format are not imported), so a reply the guard let through can still fail a score here.
Only the standard library is used. The rules are the module-level tables below; every check
works sentence by sentence (sentences end at ``.``, ``!``, ``?`` or a line break).

Definitions:

- **Advice** — a sentence that tells or suggests to the person what to do:

  * a statement (not ending in ``?``) that starts, after optional softeners ("maybe", "just",
    "so", "for now", "if you like,", "one idea:", ...), with an imperative from ``_IMPERATIVES``
    ("try", "consider", "make sure", "remember to", "don't forget to", "take a ...", "set a ...",
    "write", "keep a", "go for", "talk to", ...), or that contains anywhere a suggestion phrase
    from ``_SUGGESTIONS`` ("you should/could/might want to/need to", "it might help to", "it may
    be helpful to", "I suggest/recommend", "seek professional help", "talk to a therapist",
    "take a deep breath", "set a reminder", ...), less the few exceptions in ``_NOT_ADVICE``
    ("you should be proud", ...);
  * a question that is a suggestion in disguise (``_ADVICE_QUESTIONS``): "why not ...?",
    "how about (you) ...?" (but not the bare "how about you?"), "what about trying ...?",
    "have you tried/considered <doing>...?", "could you try ...?", "would you consider ...?".

  Other questions are never advice: a permission question ("Would it help if I shared an
  idea?", "Would you like some ideas?"), an open question ("What might help you?"), and a
  question inviting the person's own view ("What do you think you could do?").
  ``unsolicited_advice`` = some sentence is advice and ``asked_for_advice(message,
  previous_joi_line=...)`` is false.

- **Asked for advice** — the message asks for advice, ideas, tips or what to do (``_ASKS``:
  "what should I do", "any tips", "how do I", "can you suggest", "what would you do",
  "ideas?", "help me figure out", "should I ...?", ...), or it is a short agreement ("yes
  please", "sure, go ahead", "ok", "go on", ...; at most eight words) to a previous Joi line
  that offered an idea (a permission question naming an idea, suggestion, thought, tip or
  something to share). "I don't know what to do" alone is not a request.

- **Open question** — a sentence ending in ``?`` with a wh-word (what, how, which, where, when,
  who, whose, why, "in what way") among the first five words of one of its clauses (split at
  commas, semicolons, colons and dashes: "You said the run hurt — how is it now?"), or that starts "tell me" / "can
  you tell me" / "could you say more"; and invitations that need no ``?`` ("Tell me more",
  "I'd love to hear ...", "I'm curious ...", "I wonder ..."). Not open: a question starting
  with an auxiliary ("Do you...?", "Are you...?", "Is it...?": yes/no), a declarative or tag
  question ("You went?", "..., right?"), a permission question, a blaming why ("why didn't
  you", "why can't you"), and a question that is advice ("why not try ...?").

- **Reflection** — a sentence (not a yes/no or permission question) that restates the person's
  content or feeling: it contains a marker from ``_REFLECTION_MARKERS`` ("it sounds like",
  "it seems", "you're feeling", "you feel" (not "hope you feel"), "you've been", "so you",
  "you're saying", "you want", "part of you", "on one hand", "you noticed", "that must", "you must be",
  "I hear", ...), or, when it is not advice, it is in the second person (you/your) and shares
  at least two content words with the message (stopwords removed, crude suffix stemming).

- **Affirmation** — a sentence (not a yes/no question) naming something the person did or is:
  "you did/managed/took/kept/showed/stuck/followed through/got through", "that took courage",
  "well done on/for", "it's great that you <verb>", "you've already".
  ``asks_or_reflects`` = some sentence is an open question, a reflection or an affirmation.

- **Platitude** — a sentence matching one of ``_PLATITUDES`` (about forty general stock
  phrases: "everything happens for a reason", "you've got this", "take it one day at a time",
  "it's okay to not be okay", "be kind to yourself", "stay positive", ...), or the filler
  "you're not alone (in this)" / "I'm (always) here for you" in a sentence that shares no other
  content word with the message (generic, not tied to what the person said).

- **Mismatched affect** — (a) the reply has a positive phrase (``_POSITIVE_REPLY``: "great to
  hear", "glad to hear", "good to hear" (not "good to hear from you"), "that's wonderful",
  "that's great", "awesome", "love that", "congratulations", "how exciting", ...) while the
  message has a negative word (``_NEGATIVE_MESSAGE``: anxious, worried, sad, hurt, lost, failed,
  missed, relapsed, lonely, stressed, died, broke up, can't, couldn't, didn't manage, ...) and
  no positive word (``_POSITIVE_MESSAGE``: proud, happy, glad, managed, did it, finally, better,
  good news, ...); or (b) a sentence of the reply opens with "you're welcome" (not "you're welcome
  to ..."), "my pleasure", or is a bare "no problem" / "anytime", and the message has no thanks
  (thanks, thank, thx, cheers, ta, appreciate, grateful); "no problem" after an apology is fine.

- **Invented details** — details in the reply that occur in none of the message, ``known``
  (the person's memories) and ``allowed`` (texts Joi may quote, such as crisis lines):

  * dates ("12 May", "May 12th", "12th of May"): known when their day number and month word
    are both known;
  * times ("7pm", "10:30"), phone-number-like runs ("0800 123 456") and other numbers written
    with digits ("5k", "£20", "8.5", "3rd"): known when every digit group in them is a number
    in the sources, a number spelled out there counting too (one to twenty, the tens to a
    hundred, "dozen", "first" to "twentieth"); a list marker ("1." at a line start) is no
    detail;
  * names: runs of capitalised words not at a sentence start, less the common capitalised words
    in ``_COMMON_CAPITALISED`` ("I", "Joi", weekdays, months, "Mum", holidays, titles, ...); a
    capitalised word at a sentence start counts only when it is clearly a name: followed by a
    possessive "'s" (not "That's", "It's", ...), by a vocative comma ("Sam, ..."), or by a
    reporting verb ("said", "told", ...), and not a common or discourse word. A name is known
    when each of its words occurs as a whole word (case-insensitive) in a source.
  Spelled-out numbers in the reply and acronyms ("GP", "CBT") are not checked.

- **Stale time** — ``dated`` is the person's earlier memories as (text, created_at) pairs and
  ``now`` the current unix time (the clock when None). A sentence of the reply that uses a
  recent-time phrase (``_RECENT_PHRASES``: "yesterday", "last night", "this morning",
  "earlier today", "just now" — limit 2 days; "this week" — 7 days; "last week", "the other
  day", "a few/couple of days ago", "recently", "you just <did>" — 14 days) and shares at least
  two content words with a dated memory older than the limit is stale, unless a memory within
  the limit also shares two content words with it (the event recurred), or the message itself
  uses a recent-time phrase and shares two content words with the sentence (the person just
  told it again).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["StyleScore", "asked_for_advice", "copied_thought", "score_reply"]

_DAY = 86400.0


def _words(text: str) -> list[str]:
    """A word table written as one string, split on white space."""
    return text.split()


# ---------------------------------------------------------------- words and sentences

_STOPWORDS = frozenset(
    _words(
        """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further get got had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in
    into is isn't it it's its itself just let's like lot me more most much my myself no nor not now of
    off on once one only or other ought our ours ourselves out over own really same she she'd she'll
    she's should shouldn't so some still such than that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've thing things this those through to too
    under until up us very was wasn't we we'd we'll we're we've were weren't what what's when when's
    where where's which while who who's whom why why's will with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves yeah yes ok okay oh well bit kind sort maybe
    perhaps said say says saying told tell telling mentioned mention feel feeling felt think thought
    know want wanted going gonna really pretty quite even ever never always sometimes today
    yesterday tonight morning night week weeks day days last ago recently lately other earlier
    time times sounds sound seems seem like
    """
    )
)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+|\n+")
_SECOND_PERSON = re.compile(r"\b(you|your|you're|you've|you'd|you'll|yours|yourself)\b")


def _norm(text: str) -> str:
    """Lower case with curly apostrophes straightened."""
    return text.replace("’", "'").replace("‘", "'").lower()


def _sentences(text: str) -> list[str]:
    """The reply split into sentences (stripped, non-empty)."""
    return [s.strip() for s in _SENTENCE_END.split(text.replace("’", "'")) if s and s.strip()]


def _stem(word: str) -> str:
    """A crude stem: plural, -ing, -ed and -ly endings off, then a final e."""
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("ly", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + repl
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def _content(text: str) -> set[str]:
    """Stemmed content words of a text (stopwords and one-letter words removed)."""
    words = _WORD.findall(_norm(text))
    return {_stem(w) for w in words if w not in _STOPWORDS and len(w) > 1 and not w.isdigit()}


def _any(patterns: Iterable[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def _compile(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


# ---------------------------------------------------------------- advice

_SOFTENER = (
    r"^(?:(?:maybe|perhaps|just|so|and|also|then|first|firstly|next|please|now|for now|tonight|today|"
    r"tomorrow|instead|honestly|oh|ok|okay|but|or|one (?:idea|option|thing|tip)(?: to try)?\s*:|idea\s*:|"
    r"tip\s*:|if you (?:like|want|can|feel like it|feel up to it|'re up for it)(?:[^,]{0,30})?,|"
    r"when you can,?|if possible,?)[,:]?\s+)*"
)

# Imperatives that open an advice sentence (after the softeners).
_IMPERATIVES = (
    r"try",
    r"consider",
    r"make sure",
    r"make (?:time|space|a (?:list|plan|note))",
    r"remember to",
    r"don't forget",
    r"do not forget",
    r"take (?:a|an|some|time|it|care of yourself|breaks|your time|things|small|one|note|five|ten|\d)",
    r"set (?:a|an|up|aside|yourself|some|small|clear)",
    r"write",
    r"jot",
    r"keep (?:a|an|the|your|track|it|things|some)",
    r"go (?:for|to|easy|outside|out|to bed)",
    r"get (?:some|more|a|an|enough|outside|out|up|into|back)",
    r"drink",
    r"eat",
    r"avoid",
    r"stop",
    r"start",
    r"limit",
    r"cut (?:down|back|out)",
    r"put (?:the|your|it|a|some)",
    r"turn off",
    r"switch off",
    r"schedule",
    r"plan",
    r"book",
    r"call",
    r"text",
    r"reach out",
    r"talk to",
    r"speak to",
    r"ask (?:someone|your|a|for|them|him|her)",
    r"give yourself",
    r"allow yourself",
    r"let yourself",
    r"focus on",
    r"think about",
    r"break (?:it|the|things|your|this|that) (?:down|into)",
    r"practi[cs]e",
    r"breathe",
    r"aim (?:for|to)",
    r"stick (?:to|with)",
    r"use (?:a|an|the|your|some)",
    r"journal",
    r"meditate",
    r"stretch",
    r"rest",
    r"find (?:a|an|some|someone|time|ways?)",
    r"look (?:for|into|at ways)",
    r"join",
    r"sign up",
    r"seek",
    r"be (?:gentle|kind|patient|careful|honest|easy|compassionate) (?:with|to|on)",
    r"let's (?:try|do|make|set|plan|start)",
    r"have a go",
    r"treat yourself",
    r"reward yourself",
)
_IMPERATIVE_START = re.compile(_SOFTENER + r"(?:" + "|".join(_IMPERATIVES) + r")\b", re.IGNORECASE)

# Suggestion phrases anywhere in a statement.
_SUGGESTIONS = _compile(
    (
        r"\byou (?:should|could|ought to|need to|have to|might want to|may want to|might try|"
        r"might consider|might find it helpful to|could try|'d better|had better)\b",
        r"\bit (?:might|may|could|can|would|will)? ?(?:help|be helpful|be useful|be worth|be a good idea) (?:you )?to\b",
        r"\bit (?:might|may|could|can|would)(?: really)? help if you\b",
        r"\bit helps to\b",
        r"\bworth (?:trying|a (?:try|shot|go)|considering|a look)\b",
        r"\bit'?s (?:important|worth|a good idea|helpful|useful|best) (?:to|that you|trying|considering)\b",
        r"\b(?:a good|one|another) (?:idea|option|step|approach|thing to try) (?:is|would be|might be|could be) to\b",
        r"\b(?:some )?people (?:often )?find it (?:helps|helpful|useful) to\b",
        r"\bi(?:'d| would)? (?:suggest|recommend|advise|encourage you)\b",
        r"\bmy (?:advice|suggestion|recommendation) (?:is|would be)\b",
        r"\bseek (?:out )?(?:professional|medical|some) (?:help|support|advice)\b",
        r"\b(?:talk|speak|reach out) to (?:a|an|your) (?:therapist|counsell?or|professional|doctor|gp|trusted "
        r"friend|friend|family member|loved one)\b",
        r"\b(?:see|book|contact) (?:a|an|your) (?:therapist|counsell?or|doctor|gp|professional)\b",
        r"\btake (?:a|some) (?:deep|slow) breaths?\b",
        r"\bset (?:a|an|yourself a) (?:reminder|alarm|timer)\b",
    )
)

# Sentences that look like suggestions but are not.
_NOT_ADVICE = _compile(
    (
        r"\byou (?:should|must|need to|have to) (?:be|feel) (?:really |so |very )?(?:proud|pleased|good about)\b",
        r"\byou (?:should|must) know\b",
        r"\byou could (?:say|call it)\b",
        r"^take care[.!]*$",
    )
)

# Questions that are suggestions in disguise.
_ADVICE_QUESTIONS = _compile(
    (
        r"^(?:so,? |and )?why not\b",
        r"^(?:so,? |and )?how about (?!you\s*\?)",
        r"^(?:so,? |and )?what about (?:trying|\w+ing)\b",
        r"^(?:so,? |and )?(?:have|did) you (?:tried|considered|thought about) (?:(?!anything|something|everything|nothing)\w+ing|a|an|some|"
        r"going|talking)\b",
        r"^(?:so,? |and )?(?:could|can|would|will) you (?:try|consider|maybe try)\b",
        r"^(?:so,? |and )?maybe (?:try|consider)\b",
    )
)

# A question asking leave to give an idea (never advice, never open).
_PERMISSION = re.compile(
    r"^(?:so,? |and )?(?:would|do|can|could|may|shall|is it (?:ok|okay|alright|all right)|would it be "
    r"(?:ok|okay|alright|helpful)|mind if|how would you feel|(?:do you )?(?:want|wanna) (?:to hear|some|an?))\b.*\b(?:ideas?|suggestions?|thoughts?|tips?|"
    r"advice|share|offer|suggest|hear|options?|something that)\b",
    re.IGNORECASE,
)


_LEAD = re.compile(r"^[\s\"'“”*•-]*(?:\d{1,2}[.)]\s+)?")


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"')”’").endswith("?")


def _is_permission(sentence: str) -> bool:
    return _is_question(sentence) and bool(_PERMISSION.search(_norm(sentence)))


def _is_advice(sentence: str) -> bool:
    """One sentence is advice (the module docstring's definition)."""
    text = _LEAD.sub("", _norm(sentence))
    if _is_question(sentence):
        return not _is_permission(sentence) and _any(_ADVICE_QUESTIONS, text)
    if _any(_NOT_ADVICE, text):
        return False
    return bool(_IMPERATIVE_START.search(text)) or _any(_SUGGESTIONS, text)


_ASKS = _compile(
    (
        r"\bwhat (?:should|shall|can|could|do|would|might) i (?:do|try|say|change)\b",
        r"\bwhat (?:should|shall|can|could) i\b.*\?",
        r"\bany (?:tips|ideas|advice|suggestions|pointers|recommendations|thoughts on how)\b",
        r"\b(?:some|your|an?) (?:tips?|ideas?|advice|suggestions?|recommendations?)\s*\?",
        r"\bhow (?:do|can|could|should|would|might) i\b",
        r"\bhow to\b.*\?",
        r"\b(?:can|could|would) you (?:suggest|recommend|advise|give me|help me|tell me (?:how|what))\b",
        r"\bwhat would you (?:do|suggest|recommend|try)\b",
        r"\bwhat do you (?:suggest|recommend|advise|think i should)\b",
        r"\b(?:ideas|tips|suggestions|advice)\s*\?",
        r"\bhelp me (?:figure|work|decide|think|plan|come up|find|with)\b",
        r"\b(?:give|send) me (?:some |a few |any )?(?:advice|tips|ideas|suggestions|pointers)\b",
        r"\bi (?:need|want|would like|'d like|could use) (?:some |a few |your )?(?:advice|tips|ideas|suggestions|"
        r"pointers|recommendations)\b",
        r"\bwhat'?s the best way to\b",
        r"\bis there (?:anything|a way|something) i (?:can|could|should)\b",
        r"\bshould i\b[^.!]*\?",
        r"\bdo you think i should\b",
    )
)
_AGREEMENT = re.compile(
    r"^(?:oh |um |hmm |ok |okay )?(?:yes|yeah|yep|yup|sure|ok|okay|please|go ahead|go on|why not|tell me|"
    r"i'?d like that|that would help|that'?d help|alright|all right|definitely|absolutely|of course)\b",
    re.IGNORECASE,
)


def _offered_idea(line: str) -> bool:
    """The Joi line asks leave to give an idea or suggestion."""
    return any(_is_permission(s) for s in _sentences(line))


def asked_for_advice(message: str, *, previous_joi_line: str = "") -> bool:
    """The person asks for advice/ideas/tips/what to do ("what should I do", "any tips", "how do
    I", "can you suggest", "what would you do", "ideas?", "help me figure out") or agrees to hear
    it: a short yes/sure/ok/please message in reply to a ``previous_joi_line`` that offered an idea."""
    text = _norm(message).strip()
    if _any(_ASKS, text):
        return True
    if previous_joi_line and _offered_idea(previous_joi_line):
        words = _WORD.findall(text)
        return 0 < len(words) <= 8 and bool(_AGREEMENT.search(text))
    return False


# ---------------------------------------------------------------- questions, reflections, affirmations

_AUX_START = re.compile(
    r"^(?:so,? |and |but |ok,? |okay,? )?(?:do|does|did|are|is|was|were|have|has|had|can|could|would|will|"
    r"should|shall|may|might|am|isn't|aren't|don't|didn't|won't|wouldn't|haven't|hasn't|doesn't|can't|"
    r"couldn't)\b",
    re.IGNORECASE,
)
_WH = re.compile(r"\b(?:what|how|which|where|when|who|whose|why)\b|\bin what way\b", re.IGNORECASE)
_BLAMING_WHY = re.compile(
    r"\bwhy (?:didn't|did you not|can't|couldn't|haven't|won't|wouldn't|don't|would you ever|do you always|"
    r"on earth)\b",
    re.IGNORECASE,
)
_INVITE = re.compile(
    r"^(?:so,? |and )?(?:tell me|(?:can|could|would) you (?:tell me|say more|describe|walk me through|share "
    r"more)|say more|walk me through|i'?d (?:love|like) to hear|i'?m curious|i wonder)\b",
    re.IGNORECASE,
)

_REFLECTION_MARKERS = _compile(
    (
        r"\b(?:it )?sounds like\b",
        r"\bit seems\b",
        r"\bseems like\b",
        r"\byou(?:'re| are) (?:feeling|saying|wondering|not sure|torn|caught)\b",
        r"(?<!hope )(?<!wish )\byou (?:feel|felt|noticed|wish|don't want|didn't want)\b",
        r"\byou(?:'ve| have) (?:been|noticed)\b",
        r"^(?:and )?so,? you\b",
        r"(?<!do )(?<!if )\byou want\b",
        r"\bpart of you\b",
        r"\bon (?:the )?one hand\b",
        r"\bthat must\b",
        r"\byou must (?:be|feel|have been)\b",
        r"\bi hear\b",
        r"\bi'?m hearing\b",
    )
)
_AFFIRMATIONS = _compile(
    (
        r"\byou (?:did|managed|took|kept|showed|stuck|followed through|got through|made it|pushed through)\b",
        r"\bthat took (?:courage|guts|strength|real effort|effort|bravery|honesty)\b",
        r"\bwell done (?:on|for)\b",
        r"\bit'?s (?:great|good|brilliant|wonderful|impressive) that you \w+",
        r"\byou(?:'ve| have) already\b",
    )
)


def _is_open_question(sentence: str) -> bool:
    text = _LEAD.sub("", _norm(sentence))
    if _INVITE.search(text):
        return not _is_permission(sentence)
    if not _is_question(sentence) or _is_permission(sentence) or _AUX_START.search(text):
        return False
    if _BLAMING_WHY.search(text) or _any(_ADVICE_QUESTIONS, text):
        return False
    clauses = re.split(r"[,;:—–]|\s-\s", text)
    return any(_WH.search(" ".join(clause.split()[:5])) for clause in clauses)


def _is_closed_question(sentence: str) -> bool:
    text = _LEAD.sub("", _norm(sentence))
    return _is_question(sentence) and (bool(_AUX_START.search(text)) or _is_permission(sentence))


def _is_reflection(sentence: str, message_words: set[str]) -> bool:
    if _is_closed_question(sentence):
        return False
    text = _norm(sentence)
    if _any(_REFLECTION_MARKERS, text):
        return True
    if _is_advice(sentence) or not _SECOND_PERSON.search(text):
        return False
    return len(_content(text) & message_words) >= 2


def _is_affirmation(sentence: str) -> bool:
    return not _is_closed_question(sentence) and _any(_AFFIRMATIONS, _norm(sentence))


# ---------------------------------------------------------------- platitudes

_PLATITUDES = _compile(
    (
        r"\bevery day is (?:a )?(?:special|gift|new|fresh|blessing|chance|opportunity)",
        r"\blife is (?:full of|all about) (?:ups and downs|twists|surprises|lessons|challenges)",
        r"\bups and downs\b",
        r"\b(?:everything|all|things) happens? for a reason\b",
        r"\byou(?:'ve| have)? got this\b",
        r"\bremember to (?:be )?(?:kind|gentle|patient|easy) (?:to|with|on) yourself\b",
        r"\b(?:be|being) (?:kind|gentle|patient|easy) (?:to|with|on) yourself\b",
        r"\bit'?s (?:okay|ok|alright|all right|fine) (?:to )?not (?:to )?be (?:okay|ok|alright|fine)\b",
        r"\bone (?:day|step) at a time\b",
        r"\bsmall steps (?:are|still count|matter|add up|lead)",
        r"\b(?:things|it|everything) will (?:all )?(?:get better|work out|be (?:fine|okay|ok|alright|all right))",
        r"\b(?:everything|it|things) (?:is|'s|are|'re) (?:going to|gonna) (?:be )?(?:fine|okay|ok|alright|all "
        r"right|work out|get better)\b",
        r"\btime (?:heals|is (?:a|the) (?:great |best )?healer)\b",
        r"\b(?:stay|keep|be|think) positive\b",
        r"\bpositive (?:vibes|thinking|mindset|attitude)\b",
        r"\b(?:look|focus) on the bright side\b",
        r"\bsilver lining\b",
        r"\b(?:believe|trust) in yourself\b",
        r"\byou(?:'re| are) (?:so much )?(?:stronger|braver|more capable) than you (?:think|know|reali[sz]e)\b",
        r"\b(?:tomorrow|each day|every day) is a (?:new|fresh) (?:day|start)\b",
        r"\bdon'?t be (?:so |too )?hard on yourself\b",
        r"\bself[- ]care is (?:important|key|essential|not selfish)\b",
        r"\bit'?s (?:all )?(?:part of|a) (?:the )?(?:journey|process)\b",
        r"\bprogress,? not perfection\b",
        r"\bwhat doesn'?t kill you\b",
        r"\b(?:never|don'?t) give up\b",
        r"(?<!to )(?<!you )(?<!helps )(?<!help )\bkeep (?:on )?(?:going|pushing|it up|up the good work|smiling)\b",
        r"\byou(?:'re| are) doing (?:great|amazing|awesome|so well|your best|fine)\b",
        r"\b(?:everyone|everybody|we all) (?:has|have|goes through|go through|gets|get) (?:bad|tough|hard|off|"
        r"rough) (?:days|times|moments|patches|weeks)\b",
        r"\bit'?s (?:okay|ok|alright|fine|normal|natural|valid) to feel (?:this way|that way|like this|like that)",
        r"\b(?:your|all) feelings are valid\b",
        r"\byou deserve (?:to be happy|happiness|the best|good things|all the good)",
        r"\blight at the end of the tunnel\b",
        r"\bthis too (?:shall|will) pass\b|\b(?:it|this) (?:shall|will) pass\b(?!\s+\w)",
        r"\bhang in there\b",
        r"\byou can do (?:it|this|anything)\b(?!\s+\w)",
        r"\bsending (?:you )?(?:hugs|love|positive vibes|good vibes|strength)\b",
        r"\bit is what it is\b",
        r"\bat the end of the day\b",
        r"\bhappiness is a (?:choice|journey)\b",
        r"\blisten to your (?:body|heart)\b",
        r"\bnobody'?s perfect\b|\bno one is perfect\b",
        r"\btough times don'?t last\b",
        r"\bhope you feel better\b",
        r"\bmistakes are (?:how we|part of)\b",
        r"\bbelieve in you\b",
    )
)
_FILLER = _compile(
    (
        r"\byou(?:'re| are) not alone(?: in this| in feeling this way| in that)?\b",
        r"\bi(?:'m| am) (?:always |right )?here for you\b",
    )
)


def _is_platitude(sentence: str, message_words: set[str]) -> bool:
    text = _norm(sentence)
    if _any(_PLATITUDES, text):
        return True
    for pattern in _FILLER:
        match = pattern.search(text)
        if match and not (_content(text[: match.start()] + " " + text[match.end() :]) & message_words):
            return True
    return False


# ---------------------------------------------------------------- affect

_POSITIVE_REPLY = _compile(
    (
        r"\b(?:great|glad|happy|good|nice|lovely|wonderful) to hear\b(?! from you)",
        r"\bthat'?s (?:so |really )?(?:wonderful|great|fantastic|amazing|brilliant|awesome|lovely|exciting)\b",
        r"\bawesome\b",
        r"\b(?:i )?love that\b",
        r"\bcongrat(?:ulation)?s\b",
        r"\bhow (?:exciting|wonderful|lovely)\b",
        r"\bwhat (?:great|wonderful|fantastic) news\b",
        r"\byay\b",
    )
)
_NEGATIVE_MESSAGE = re.compile(
    r"\b(?:anxious|anxiety|worried|worrying|sad|depressed|hurt|hurts|lost|failed|fail|failing|missed|relapsed|"
    r"angry|scared|afraid|lonely|alone|tired|exhausted|stressed|stress|awful|terrible|horrible|died|dead|"
    r"passed away|broke up|dumped|fired|can't|cannot|couldn't|didn't manage|didn't make it|gave up|upset|"
    r"miserable|struggling|crying|cried|panic|hopeless|worse|bad|hate|sick|ill|skipped|slipped)\b",
    re.IGNORECASE,
)
_POSITIVE_MESSAGE = re.compile(
    r"\b(?:proud|happy|glad|managed|did it|finally|better|good news|great|excited|relieved|won|passed(?! away)|"
    r"thrilled|made it|nailed|succeeded|amazing|awesome|love|loved|yay)\b",
    re.IGNORECASE,
)
_WELCOME = re.compile(
    r"^(?:oh,? |and )?(?:you(?:'re| are) (?:very |so |most |always )?welcome(?! to\b| here\b| back\b)|"
    r"no problem(?: at all)?\s*[.!]*$|(?:it was |it's )?my pleasure|anytime\s*[.!]*$)",
    re.IGNORECASE,
)
_THANKS = re.compile(r"\b(?:thanks|thank|thx|ty|cheers|ta|appreciate|appreciated|grateful)\b", re.IGNORECASE)
_APOLOGY = re.compile(r"\b(?:sorry|apologi[sz]e|my bad)\b", re.IGNORECASE)


def _mismatched(reply: str, message: str) -> bool:
    text, said = _norm(reply), _norm(message)
    for sentence in _sentences(text):
        welcome = _WELCOME.search(_LEAD.sub("", sentence))
        excused = welcome and welcome.group(0).startswith("no problem") and _APOLOGY.search(said)
        if welcome and not _THANKS.search(said) and not excused:
            return True
    return (
        _any(_POSITIVE_REPLY, text)
        and bool(_NEGATIVE_MESSAGE.search(said))
        and not _POSITIVE_MESSAGE.search(said)
    )


# ---------------------------------------------------------------- invented details

_MONTHS = _words(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MONTH})\b|\b({_MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_TIME = re.compile(r"\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d{2}\b", re.IGNORECASE)
_PHONE = re.compile(r"\+?\d[\d \-]{4,}\d")
_NUMBER = re.compile(r"[£$€]?\d+(?:[.,:/]\d+)*(?:[a-z%]+)?", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)]\s", re.MULTILINE)
_DIGITS = re.compile(r"\d+(?:\.\d+)?")

_WORD_NUMBERS = {
    w: str(i)
    for i, w in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen twenty"
        )
    )
}
_WORD_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70"})
_WORD_NUMBERS.update({"eighty": "80", "ninety": "90", "hundred": "100", "dozen": "12", "a hundred": "100"})
_WORD_NUMBERS.update(
    {
        w: str(i + 1)
        for i, w in enumerate(
            _words(
                "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
                "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
            )
        )
    }
)

_COMMON_CAPITALISED = frozenset(
    _words(
        """
    i joi monday tuesday wednesday thursday friday saturday sunday mum mom dad mummy daddy mother father
    grandma grandpa granny gran nan nana god lord christmas easter halloween ramadan eid diwali hanukkah
    thanksgiving new year years eve english internet okay ok hey hi hello dear dr mr mrs ms mx sir madam
    """
    )
    + _MONTHS
)
# Words that may open a sentence and take a comma or a possessive without being a name.
_DISCOURSE = frozenset(
    _words(
        """
    so well yes no yeah yep hey hi hello honestly also and but now right sure actually still again look listen
    anyway alright oh ah hmm first second third finally then instead otherwise sometimes often maybe perhaps
    sorry thanks wow great congrats congratulations absolutely totally definitely ouch ugh gosh friend remember
    plus besides meanwhile later tonight today tomorrow yesterday lately recently please ok okay fine true
    that it what let here there he she who where how when today's tomorrow's yesterday's everyone everyone's
    everybody everybody's nobody nobody's someone someone's somebody one one's life life's work work's
    this these those you your my his her their our we they people mum dad night morning tonight's let why
    which nothing something everything anything however though meanwhile either wait good nice brilliant
    perfect amazing lovely cool awesome fair oops indeed bye goodnight evening afternoon welcome next last
    overall whatever after before since because if while sometimes other others
    """
    )
)
_REPORTING = re.compile(r"\s+(?:said|says|told|mentioned|asked|called|texted|thinks|thought|wants)\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:-[A-Z][a-z]+)*(?:'s)?\b")


def _source_numbers(sources: Sequence[str]) -> set[str]:
    """Every number in the sources, digits or spelled out, as normalised digit strings."""
    found: set[str] = set()
    for source in sources:
        text = _norm(source)
        text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
        for digits in _DIGITS.findall(text):
            found.add(_number_key(digits))
        for word in _WORD.findall(text):
            if word in _WORD_NUMBERS:
                found.add(_WORD_NUMBERS[word])
    return found


def _number_key(digits: str) -> str:
    if "." in digits:
        return digits.rstrip("0").rstrip(".")
    return str(int(digits))


def _numbers_known(detail: str, numbers: set[str]) -> bool:
    cleaned = re.sub(r"(?<=\d),(?=\d{3}\b)", "", detail)
    return all(_number_key(d) in numbers for d in _DIGITS.findall(cleaned))


def _word_known(word: str, sources: Sequence[str]) -> bool:
    pattern = re.compile(r"\b" + re.escape(word) + r"\b", re.IGNORECASE)
    return any(pattern.search(s.replace("’", "'")) for s in sources)


def _month_known(month: str, sources: Sequence[str]) -> bool:
    month = month.lower().rstrip(".")
    words = {month, month[:3]}
    for full in _MONTHS[:12]:
        if full.startswith(month[:3]):
            words.add(full)
    return any(_word_known(w, sources) for w in words)


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“”‘’(*-•":
        i -= 1
    return i < 0 or text[i] in ".!?:;\n"


def _invented_details(reply: str, sources: Sequence[str]) -> tuple[str, ...]:
    text = reply.replace("’", "'")
    numbers = _source_numbers(sources)
    taken = [False] * len(text)
    invented: list[str] = []

    def take(start: int, end: int) -> bool:
        if any(taken[start:end]):
            return False
        taken[start:end] = [True] * (end - start)
        return True

    for marker in _LIST_MARKER.finditer(text):
        take(marker.start(), marker.end())
    for match in _DATE.finditer(text):
        if not take(match.start(), match.end()):
            continue
        day, month = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        if not (_number_key(day) in numbers and _month_known(month, sources)):
            invented.append(match.group(0))
    for pattern in (_TIME, _PHONE, _NUMBER):
        for match in pattern.finditer(text):
            detail = match.group(0).strip()
            if pattern is _PHONE and len(re.sub(r"\D", "", detail)) < 6:
                continue
            if not take(match.start(), match.end()):
                continue
            if not _numbers_known(detail, numbers):
                invented.append(detail)

    run: list[str] = []
    run_end = -1

    def close_run() -> None:
        names = [w for w in run if w.lower() not in _COMMON_CAPITALISED and not _word_known(w, sources)]
        if names:
            invented.append(" ".join(run))
        run.clear()

    for match in _CAPITALISED.finditer(text):
        word = match.group(0)
        bare = word[:-2] if word.endswith("'s") else word
        if bare.lower() in _COMMON_CAPITALISED:
            if run:
                close_run()
            continue
        if _sentence_initial(text, match.start()):
            after = text[match.end() :]
            clearly_name = bare.lower() not in _DISCOURSE and not bare.lower().endswith("ly")
            clearly_name = clearly_name and (
                word.endswith("'s") or after.startswith(",") or bool(_REPORTING.match(after))
            )
            if not clearly_name:
                if run:
                    close_run()
                continue
        if run and text[run_end : match.start()].strip() == "":
            run.append(bare)
        else:
            if run:
                close_run()
            run.append(bare)
        run_end = match.end()
    if run:
        close_run()
    return tuple(dict.fromkeys(invented))


# ---------------------------------------------------------------- stale time

_RECENT_PHRASES = (
    (re.compile(r"\byesterday\b", re.I), 2.0),
    (re.compile(r"\blast night\b", re.I), 2.0),
    (re.compile(r"\bthis morning\b", re.I), 2.0),
    (re.compile(r"\bearlier today\b", re.I), 2.0),
    (re.compile(r"\bjust now\b", re.I), 2.0),
    (re.compile(r"\bthis week\b", re.I), 7.0),
    (re.compile(r"\blast week\b", re.I), 14.0),
    (re.compile(r"\bthe other day\b", re.I), 14.0),
    (re.compile(r"\b(?:a few|a couple of|two|three|couple of) days ago\b", re.I), 14.0),
    (re.compile(r"\brecently\b", re.I), 14.0),
    (
        re.compile(
            r"\byou(?:'ve| have)? (?:only )?just (?:\w+ed|went|got|had|did|began|begun|made|took|told|said)\b",
            re.I,
        ),
        14.0,
    ),
)


def _recent_limit(sentence: str) -> float | None:
    """The age limit in days of the shortest-lived recent-time phrase in the sentence, or None."""
    limits = [days for pattern, days in _RECENT_PHRASES if pattern.search(sentence)]
    return min(limits) if limits else None


def _stale(
    reply: str, message: str, dated: Sequence[tuple[str, float]], now: float | None, message_words: set[str]
) -> bool:
    if not dated:
        return False
    clock = time.time() if now is None else now
    message_recent = _recent_limit(message) is not None
    for sentence in _sentences(reply):
        limit = _recent_limit(sentence)
        if limit is None:
            continue
        words = _content(sentence)
        if message_recent and len(words & message_words) >= 2:
            continue
        matches = [(clock - created) / _DAY for text, created in dated if len(words & _content(text)) >= 2]
        if matches and min(matches) > limit:
            return True
    return False


# ---------------------------------------------------------------- the score


@dataclass(frozen=True)
class StyleScore:
    """What one reply did against MI style (see the module docstring for each definition)."""

    unsolicited_advice: bool
    asks_or_reflects: bool
    platitude: bool
    mismatched_affect: bool
    invented_details: tuple[str, ...]
    stale_time: bool

    def problems(self) -> list[str]:
        """A readable line per thing flagged (empty when the reply is clean)."""
        out = []
        if self.unsolicited_advice:
            out.append("advice the person did not ask for")
        if not self.asks_or_reflects:
            out.append("no open question, reflection or affirmation")
        if self.platitude:
            out.append("a platitude or stock phrase")
        if self.mismatched_affect:
            out.append("affect that does not match the message")
        if self.invented_details:
            out.append("details the person never gave: " + ", ".join(self.invented_details))
        if self.stale_time:
            out.append("an old event spoken of as recent")
        return out


_AGO = re.compile(r"\b(\d+) (day|week)s? ago\b", re.I)


def _without_true_ages(reply: str, dated: Sequence[tuple[str, float]], now: float | None) -> str:
    """The reply with each "N days ago" / "N weeks ago" that is how long ago a dated memory was
    said taken out: a count Joi works out from the clock is not a detail the person never gave."""
    if now is None or not dated:
        return reply
    ages: dict[str, set[int]] = {"day": set(), "week": set()}
    for _, at in dated:
        days = max(0.0, now - at) / 86400
        ages["day"] |= {int(days), round(days)}
        ages["week"] |= {int(days // 7), round(days / 7)}

    def drop(match: re.Match[str]) -> str:
        true = int(match.group(1)) in ages[match.group(2).lower()]
        return f"some {match.group(2)}s ago" if true else match.group(0)

    return _AGO.sub(drop, reply)


def score_reply(
    reply: str,
    message: str,
    *,
    known: Sequence[str] = (),
    allowed: Sequence[str] = (),
    dated: Sequence[tuple[str, float]] = (),
    now: float | None = None,
    previous_joi_line: str = "",
) -> StyleScore:
    """Score one reply to ``message`` for MI style. ``known``: the person's memories; ``allowed``:
    texts Joi may quote (crisis lines); ``dated``: (memory text, created_at) pairs; ``now``: unix
    time (the clock when None); ``previous_joi_line``: Joi's line before the message."""
    sentences = _sentences(reply)
    message_words = _content(message)
    advice = any(_is_advice(s) for s in sentences)
    asks = any(
        _is_open_question(s) or _is_reflection(s, message_words) or _is_affirmation(s) for s in sentences
    )
    return StyleScore(
        unsolicited_advice=advice and not asked_for_advice(message, previous_joi_line=previous_joi_line),
        asks_or_reflects=asks,
        platitude=any(_is_platitude(s, message_words) for s in sentences),
        mismatched_affect=_mismatched(reply, message),
        invented_details=_invented_details(
            _without_true_ages(reply, dated, now), [message, *known, *allowed]
        ),
        stale_time=_stale(reply, message, dated, now, message_words),
    )


def copied_thought(thought: str, earlier_thoughts: Sequence[str], min_words: int = 8) -> bool:
    """True when the thought shares a run of min_words+ consecutive words (case/punctuation-insensitive)
    with any earlier thought."""

    def grams(text: str) -> set[tuple[str, ...]]:
        words = [w.replace("'", "") for w in _WORD.findall(_norm(text))]
        return {tuple(words[i : i + min_words]) for i in range(len(words) - min_words + 1)}

    if min_words < 1:
        return False
    mine = grams(thought)
    return bool(mine) and any(mine & grams(earlier) for earlier in earlier_thoughts)
