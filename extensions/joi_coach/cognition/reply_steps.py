"""A reply in steps: the two thoughts, then the spoken line as its own turn, guarded.

On backends that continue a text they are given (the embedded model; the webui's own model
inside its ``custom_generate_reply``; an OpenAI-compatible server given the model's prompt
template), a reply is generated in steps that a small model can follow; on a chat-only
server, in one free generation parsed as it comes. Either way the text streams as
``<think>`` voices ``</think>`` dialogue (:mod:`.reply_format`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace

from ..llm.base import CancelToken, GenerationParams
from ..llm.priority import PriorityLLM
from .memory_answer import Note, answer_from_memory
from .plan_cue_rules import SENTENCE
from .reply_checks import sentence_count
from .reply_format import EMPATHETIC_LABEL, THERAPIST_LABEL, THINK_CLOSE, THINK_OPEN
from .spoken_guard import (
    MAX_SENTENCES,
    SpokenLineGuard,
    lines_joi_wrote,
    said_to_them,
    salvage,
    without_leading_label,
)
from .talk_guard import TalkGuard
from .thought_guard import CopyWatch
from .voices import match_label, parse_reply

log = logging.getLogger(__name__)
THOUGHT_TOKENS = 120
# Each voice is one sentence: what the spoken line needs from it is in the first one, and on a
# CPU every further sentence of thought is a second or more before Joi says a word.
SENTENCE_ENDS = (". ", "! ", "? ")
# A full stop after these is no sentence's end ("… a check-up with Dr. Patel"): the thought goes on.
ABBREVIATIONS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "prof", "st", "vs", "e.g", "i.e", "approx", "dept", "jr", "sr"}
)
ABBREVIATION_STEPS = 2  # at most this many titles in one thought
SPOKEN_ATTEMPTS = 2
THOUGHT_ATTEMPTS = 3  # a thought that copies an earlier line is asked for again, twice at most
# What Joi says when the model says nothing twice (it stopped after its thoughts): a reply is
# never empty, and an open question is the one thing a coach can always say.
OPEN_QUESTION = "I'm listening, {user}. What feels most important about this for you right now?"
# The thoughts are about the person, never to them: where the backend can, these are ruled out.
SECOND_PERSON = ("you", "your", "yours", "yourself")


GENERIC_USER_NAMES = frozenset({"user", "you", "anonymous", "local"})


@dataclass(frozen=True)
class LineFrame:
    """Joi's own words around the model's, for a turn that needs them (a crisis).

    ``opening``: the words the spoken line starts with (the model goes on from them);
    ``closing(spoken)``: a sentence to end the line with when what was said lacks it ("" if
    not); ``drop(sentence)``: the model's sentences never to show (advice, in a crisis);
    ``max_sentences``: the line's length, the opening included. ``thought_note``: an
    instruction the thought steps read too; ``thought_check(step, thought)``: the thought to
    show for what the model wrote (itself, or Joi's own words when it misreads the turn). With
    a check, each thought is shown whole once checked, not as it streams: the person reads
    the side panel.
    """

    opening: str = ""
    closing: Callable[[str], str] | None = None
    drop: Callable[[str], bool] | None = None
    max_sentences: int = MAX_SENTENCES
    thought_note: str = ""
    thought_check: Callable[[int, str], str] | None = None


def thought_steps(user: str) -> list[tuple[str, tuple[str, ...]]]:
    """(forced prefix, stop strings) for the two inner voices, generated one at a time.

    On backends that accept a forced prefix, each voice starts with its label, so small
    models can neither skip a voice nor let a thought run on. The voices also start with a
    few words that fix their point of view (the person in the third person, then Joi's own
    intention): without them the embedded 1.5B model wrote its "thoughts" as questions to
    the person and then answered them in the person's voice.
    """
    about = user if user and user.lower() not in GENERIC_USER_NAMES else "The person"
    object_ = "the person" if about == "The person" else about
    return [
        (
            f"{THINK_OPEN}\n{EMPATHETIC_LABEL}: {about} is",
            ("\n", f"{THERAPIST_LABEL}:", THINK_CLOSE, *SENTENCE_ENDS),
        ),
        (
            f"\n{THERAPIST_LABEL}: What would help {object_} most now is",
            ("\n", THINK_CLOSE, *SENTENCE_ENDS),
        ),
    ]


def ends_with_abbreviation(thought: str) -> bool:
    """Whether a thought cut at ". " was cut after a title or abbreviation, not a sentence."""
    words = thought.rstrip().split()
    return bool(words) and thought == thought.rstrip() and words[-1].lower().rstrip(".") in ABBREVIATIONS


def sentence_closed(thought: str) -> str:
    """What ends a thought cut at its first sentence's end (the stop string is not returned): a
    full stop, unless it already ends as a sentence does ("" for an empty thought)."""
    text = thought.rstrip()
    return "" if not text or text[-1] in ".!?…\"')" else "."


def speaking_guide(name: str, user: str) -> str:
    """How Joi's spoken line is to sound: part of the prompt the thoughts are written from too."""
    return (
        f"When you speak to {user} next, as {name}: two to four warm, natural sentences that say back what "
        f"{user} just said or feels, in your own words, then ask one open question or name a real effort of "
        f"theirs. Offer advice only if {user} asked for it. If {user} asks about something from an earlier "
        "conversation, answer it plainly with the facts from what you remember. Do not thank them for "
        "sharing, and do not repeat what you said before."
    )


def with_guide(messages: list, name: str, user: str, note: str = "") -> list:
    """The prompt of a reply in steps: the conversation, then :func:`speaking_guide` (and a turn's
    ``note`` for the thoughts) just before the person's message.

    There, not in the notes read after the thoughts, it is read with the rest of the prompt:
    ahead, while the person types (:mod:`..llm.warming`), or cached, where the spoken line's
    notes must be read after the thoughts while the person waits. (Placed before the recalled
    memories, it would stay read when the next word of a draft recalls another memory; there
    the embedded model wrote longer thoughts, and the first spoken word came later.)
    """
    *before, last = messages
    late = [{"role": "system", "content": speaking_guide(name, user)}]
    if note:
        late.append({"role": "system", "content": note})
    return [*before, *late, last]


def first_step(messages: list, name: str, user: str, guided: bool) -> tuple[list, str]:
    """(messages, forced start) of a reply's first generation: for reading a draft's prompt ahead.
    A prompt whose message is still empty (Joi just replied) is the conversation so far: what
    every next reply's prompt starts with."""
    if not messages[-1]["content"]:
        return messages[:-1], ""
    if not guided:
        return messages, ""
    return with_guide(messages, name, user), thought_steps(user)[0][0]


def speaking_messages(
    messages: list,
    name: str,
    user: str,
    empathetic: str,
    therapeutic: str,
    retry: bool = False,
    key_memory: str = "",
    answered: bool = False,
    instruction: str = "",
    opened: bool = False,
    dropped: Sequence[str] = (),
) -> list:
    """The conversation again, with the finished thoughts as private notes before Joi speaks.

    Small models are trained to answer the last message in an ordinary assistant turn; asked
    to go on speaking after their own thoughts in the same turn, the embedded 1.5B model
    often carried on as the person, or read its thoughts out. So the spoken line is its own
    turn. Everything before the notes is the prompt the thoughts were generated from (with the
    speaking guide, :func:`with_guide`), so a backend's prompt cache reads only the notes again.
    """
    notes = (
        f"Your private notes on {user}'s message (never read them out or quote them):\n"
        f"- feeling: {empathetic.strip()}\n- what would help: {therapeutic.strip()}\n"
        + (f"- the most relevant thing you remember: {key_memory}\n" if key_memory else "")
        + f"\nNow reply to {user} as {name}, speaking directly to them, as the guide above says."
    )
    if instruction:
        notes += f"\n\n{instruction}"
    if opened and not answered:
        notes += " You have begun speaking: go on from your words with one to three sentences."
    if answered:
        notes += (
            f" You have begun by answering {user}'s question from what they told you: go on with one or two "
            "sentences about what it means for them now."
        )
    if retry and dropped:
        notes += (
            f" Your first try was {' and '.join(sorted(set(dropped)))}: say it afresh, as {name}. Reflect what "
            f"{user} said in your own words and ask one open question; give advice only if {user} asks for it."
        )
    elif retry:
        notes += (
            f" Your first try repeated earlier words or slipped out of your role: say it afresh, as {name}."
        )
    return [*with_guide(messages, name, user), {"role": "system", "content": notes}]


def talk_guard_for(messages: list, user: str, instruction: str = "", key_memory: str = "") -> TalkGuard:
    """The coach's-talk guard for a spoken line answering the prompt's last message."""
    joi_lines = [m["content"] for m in messages[:-1] if m["role"] == "assistant"]
    known = "\n".join([*(m["content"] for m in messages[:-1]), instruction, key_memory])
    return TalkGuard(messages[-1]["content"], joi_lines[-1] if joi_lines else "", known, user)


def either(*drops: Callable[[str], bool] | None) -> Callable[[str], bool]:
    """A sentence dropped by any of ``drops``."""
    active = [d for d in drops if d is not None]
    return lambda sentence: any(d(sentence) for d in active)


def stream_reply(
    llm: PriorityLLM,
    base: GenerationParams,
    name: str,
    user_name: str,
    messages: list,
    cancel: CancelToken | None = None,
    said_before: Sequence[str] = (),
    key_memory: str = "",
    memory_notes: Sequence[Note] = (),
    instruction: str = "",
    *,
    guided: bool = True,
    frame: LineFrame | None = None,
) -> Iterator[tuple[str, bool]]:
    """The reply's text as it streams: (text, generated by the model rather than forced).

    ``base``: the reply's sampling settings. ``guided``: generate in steps where the backend
    takes a forced prefix (the settings' ``prime_format``).

    ``said_before``: Joi's earlier lines and thoughts beyond the prompt, which the spoken
    line must not repeat either. ``key_memory``: the most relevant thing the person said
    before, repeated in the notes for the spoken line (a small model uses a memory placed
    there far more often than one among the recalled notes). ``memory_notes``: for a question
    about what the person said before, their recalled words; the spoken line then opens with
    the answer a focused step finds in them (:mod:`.memory_answer`). ``instruction``: what
    this turn needs above all (a crisis, a follow-up), repeated in the notes for the spoken line.
    ``frame``: Joi's own words around the model's (:class:`LineFrame`; in a crisis).

    With a backend that takes a forced prefix: the two thoughts, each from its label, then
    the spoken line as its own assistant turn (:func:`speaking_messages`); the stream reads
    ``<think>`` voices ``</think>`` dialogue either way. Otherwise one free generation in
    the persona's format, parsed as it comes.
    """
    stops = tuple(dict.fromkeys((*base.stop, f"\n{user_name}:", "\nUser:")))
    params = replace(base, stop=stops)
    if not (guided and llm.supports_prefix):
        yield from _one_pass(llm, params, messages, name, user_name, cancel, said_before, instruction, guided)
        return
    so_far = ""
    thoughts: list[str] = []
    checked = frame is not None and frame.thought_check is not None
    # late, beside the message, as the memories are
    thinking = with_guide(messages, name, user_name, frame.thought_note if frame is not None else "")
    wrote = lines_joi_wrote(messages, user_name)
    with llm.foreground():
        for index, (label, step_stops) in enumerate(thought_steps(user_name)):
            step = replace(params, max_tokens=THOUGHT_TOKENS, stop=step_stops, avoid_words=SECOND_PERSON)
            so_far += label
            yield label, False
            if checked:
                written = "".join(llm.stream_chat(thinking, step, cancel, so_far))
                for chunk, _ in _past_abbreviations(llm, thinking, step, cancel, so_far, written):
                    written += chunk
                written += sentence_closed(written)
            else:
                written = yield from _unique_thought(
                    llm, thinking, step, cancel, so_far, [*said_before, *wrote, *thoughts]
                )
                for chunk, generated in _past_abbreviations(llm, thinking, step, cancel, so_far, written):
                    yield chunk, generated
                    written += chunk
                if ending := sentence_closed(written):
                    yield ending, False
                    written += ending
                so_far += written
            if checked:
                assert frame is not None and frame.thought_check is not None
                kept = frame.thought_check(index, written)
                so_far += kept
                yield kept, kept == written
                written = kept
            thoughts.append(label.rsplit(":", 1)[1] + written)
            if cancel is not None and cancel.cancelled:
                return
        yield f"\n{THINK_CLOSE}\n", False
        question = messages[-1]["content"]

        def answer(brief: bool) -> str:
            return answer_from_memory(llm, user_name, name, memory_notes, question, cancel, brief=brief)

        spoken = ""
        for chunk, generated in _speak(
            llm,
            params,
            messages,
            name,
            user_name,
            thoughts,
            stops,
            cancel,
            said_before,
            key_memory,
            answer if memory_notes else None,
            instruction,
            frame or LineFrame(),
            notes="\n".join(f"{n.when}: {n.text}" for n in memory_notes),
        ):
            spoken += chunk
            yield chunk, generated
        closing = frame.closing if frame is not None else None
        ending = closing(spoken) if closing is not None and not (cancel and cancel.cancelled) else ""
        if ending:
            yield (" " if spoken.strip() else "") + ending, False


def _past_abbreviations(
    llm: PriorityLLM,
    messages: list,
    step: GenerationParams,
    cancel: CancelToken | None,
    so_far: str,
    written: str,
) -> Iterator[tuple[str, bool]]:
    """The rest of a thought the sentence stop cut after a title ("… with Dr."), as (text,
    generated): the stop's full stop first (Joi's), then what the model writes on from it (the
    stop string itself is never returned, so a cut after "Dr" is told apart by the word; the
    prefix ends at the full stop, as the model's own tokens would, and the next word brings its
    space)."""
    for _ in range(ABBREVIATION_STEPS):
        if not ends_with_abbreviation(written) or (cancel is not None and cancel.cancelled):
            return
        more = "."
        yield more, False
        for chunk in llm.stream_chat(messages, step, cancel, so_far + written + more):
            more += chunk
            yield chunk, True
        written += more


def _unique_thought(
    llm: PriorityLLM,
    messages: list,
    step: GenerationParams,
    cancel: CancelToken | None,
    so_far: str,
    earlier: list[str],
) -> Generator[tuple[str, bool], None, str]:
    """One thought, streamed through a :class:`CopyWatch`; returns what was shown.

    When the thought starts copying an earlier line or thought, the model is asked again (another
    seed, a little warmer, and kept from starting with the word the copy began with) to go on from
    what was shown. If every try copies, the thought ends where the copy began; if that leaves it
    empty, the last try is shown whole (a repeated thought reads better than a broken one)."""
    watch = CopyWatch(earlier)
    last_try = ""
    for attempt in range(THOUGHT_ATTEMPTS):
        if attempt:
            log.info("a thought copied an earlier line; asked again", extra={"guard": "thought copied"})
            last_try = watch.written
            avoid = tuple(dict.fromkeys((*step.avoid_words, watch.copy_word.lower())))
            watch.start_from(watch.released)
            step = replace(
                step,
                seed=(step.seed or 0) + attempt,
                temperature=max(step.temperature, 0.9),
                avoid_words=avoid,
            )
        stream = llm.stream_chat(messages, step, cancel, so_far + watch.released)
        try:
            for chunk in stream:
                shown = watch.feed(chunk)
                stopped = cancel is not None and cancel.cancelled
                if stopped:  # what was held back is shown now: the caller may not ask for more
                    shown += watch.finish()
                if shown:
                    yield shown, True
                if stopped:
                    return watch.released
                if watch.copied and attempt < THOUGHT_ATTEMPTS - 1:
                    break  # (the last try reads on: it may be shown whole)
            else:
                shown = watch.finish()
                if shown:
                    yield shown, True
        finally:
            stream.close()
        if not watch.copied or (cancel is not None and cancel.cancelled):
            break
    else:
        if not watch.released.strip() and not (cancel is not None and cancel.cancelled):
            whole = watch.written or last_try
            yield whole, True
            return whole
    return watch.released


def _one_pass(
    llm: PriorityLLM,
    params: GenerationParams,
    messages: list,
    name: str,
    user_name: str,
    cancel: CancelToken | None,
    said_before: Sequence[str],
    instruction: str,
    guided: bool,
) -> Iterator[tuple[str, bool]]:
    """One free generation in the persona's format (a chat-only backend), parsed by the caller.
    If the model stopped after its thoughts (no dialogue came), the spoken line is asked for as
    its own chat turn, after the thoughts as notes, and guarded: a reply is never only thoughts."""
    asked = [*messages, {"role": "system", "content": instruction}] if instruction else messages
    text = ""
    with llm.foreground():
        for chunk in llm.stream_chat(asked, params, cancel):
            text += chunk
            yield chunk, True
        parsed = parse_reply(text)
        if not guided or parsed.dialogue.strip() or (cancel is not None and cancel.cancelled):
            return
        log.info("the one pass gave no spoken line; asking for it as its own turn")
        yield ("\n" if THINK_CLOSE in text else f"\n{THINK_CLOSE}\n"), False
        speaking = speaking_messages(
            messages, name, user_name, parsed.empathetic, parsed.therapeutic, instruction=instruction
        )
        earlier = [*said_before, *lines_joi_wrote(messages, user_name), parsed.empathetic, parsed.therapeutic]
        talk = talk_guard_for(messages, user_name, instruction)
        guard = SpokenLineGuard(name, user_name, earlier, message=messages[-1]["content"], drop=talk)
        shown_any, raw = False, ""
        stream = llm.stream_chat(speaking, replace(params, stop=(*params.stop, f"\n{name}:")), cancel)
        try:
            for chunk in stream:
                raw += chunk
                shown = guard.feed(chunk)
                if shown:
                    shown_any = True
                    yield shown, True
                if guard.done:
                    break
            else:
                shown = guard.finish()
                if shown:
                    shown_any = True
                    yield shown, True
        finally:
            stream.close()
        if not shown_any and not (cancel is not None and cancel.cancelled):
            kept = salvage(without_leading_label(raw, name, user_name), name, user_name, earlier, drop=talk)
            yield kept or OPEN_QUESTION.format(user=user_name), False


def _not_starting_with(
    llm: PriorityLLM,
    messages: list,
    step: GenerationParams,
    cancel: CancelToken | None,
    prefix: str,
    word: str,
) -> Generator[str, None, None]:
    """The model's words after ``prefix``, the first of them not ``word`` (for "I'm", not "I").

    The first token is generated alone with the word ruled out, the rest as usual: ruled out
    for the whole line, a copy that began with "What" would leave Joi no "What …?" question.
    """
    first_part = word.split("'")[0]
    if not first_part:
        yield from llm.stream_chat(messages, step, cancel, prefix)
        return
    avoid = tuple(dict.fromkeys((*step.avoid_words, first_part.lower())))
    first = "".join(llm.stream_chat(messages, replace(step, max_tokens=1, avoid_words=avoid), cancel, prefix))
    if not first or (cancel is not None and cancel.cancelled):
        return
    yield first
    rest = replace(step, max_tokens=max(1, step.max_tokens - 1))
    yield from llm.stream_chat(messages, rest, cancel, prefix + first)


def _opening(answer: Callable[[bool], str], guard: SpokenLineGuard, talk: TalkGuard) -> str:
    """The first answer from memory the guards pass, plain then brief ("" if none): not out of
    role, and nothing in it the person never said ("five weeks" for "six months"). A plain answer
    that repeats an earlier line is asked for briefly; the brief one may repeat it: a fact the
    person asks for twice is said twice, rather than a line that does not answer."""
    for brief in (False, True):
        candidate = answer(brief)
        if not candidate:
            return ""  # nothing found in the notes: a briefer try would find nothing either
        invented = any(talk.reason(s) == "invented fact" for s in SENTENCE.findall(candidate))
        if guard.acceptable(candidate, may_repeat=brief) and not invented:
            return candidate
        log.info("answer from memory not used (brief=%s): it repeats, slips out of role or invents", brief)
    return ""


def _plain_words(text: str) -> str:
    """A failed try's first paragraph as a last resort, unless a line of it is a voice label or a
    think tag: shown, that would file the words under Joi's thoughts and leave no spoken line."""
    first = text.strip().split("\n\n")[0]
    return "" if any(match_label(line.strip()) for line in first.splitlines()) else first


def _enough(text: str) -> bool:
    """A fallback line is long enough: two paragraphs (a greeting line may be the first), or more
    sentences than the guard allows."""
    return text.strip().count("\n\n") >= 2 or sentence_count(text) > MAX_SENTENCES + 1


def _speak(
    llm: PriorityLLM,
    params: GenerationParams,
    messages: list,
    name: str,
    user_name: str,
    thoughts: list[str],
    stops: tuple[str, ...],
    cancel: CancelToken | None,
    said_before: Sequence[str] = (),
    key_memory: str = "",
    answer: Callable[[bool], str] | None = None,
    instruction: str = "",
    frame: LineFrame = LineFrame(),
    notes: str = "",
) -> Iterator[tuple[str, bool]]:
    """The spoken line, released a sentence at a time through a :class:`SpokenLineGuard`.

    ``answer(brief)``: an answer from memory to open the line with, if the guard passes it
    (asked once more for a briefer one when the first repeats an earlier line, as the same
    fact asked for twice would; the briefer one is used even so); the model goes on from it.

    When the guard stops a sentence, the model is asked once more (another seed, a little
    warmer). A copy seen inside a sentence goes on from the words before it, in the same prompt;
    any other stop is told why, to go on from the sentences already shown or, if none were, to
    say it afresh. If the second try fails at its first sentence too, the line ends there (after
    a greeting alone, with the last try's good sentences or an open question); if nothing at all
    was shown, the model's own words are shown rather than nothing.
    """
    spoken_stops = tuple(dict.fromkeys((*stops, f"\n{name}:")))
    # Anything Joi said or thought that the model can see, this reply's thoughts included: a
    # line that reads them out says nothing new (the person sees the thoughts anyway).
    earlier = [*said_before, *lines_joi_wrote(messages, user_name)]
    # this reply's thoughts, also as said to the person ("What would help you most now is …")
    notes_said = [*thoughts, *(said_to_them(thought, user_name) for thought in thoughts)]
    talk = talk_guard_for(
        messages, user_name, instruction, f"{key_memory}\n{notes}"
    )  # notes: the person's words
    drop = either(frame.drop, talk)
    guard = SpokenLineGuard(
        name,
        user_name,
        earlier,
        message=messages[-1]["content"],
        notes=notes_said,
        max_sentences=frame.max_sentences,
        drop=drop,
    )
    opening = frame.opening
    answered_with = _opening(answer, guard, talk) if answer is not None else ""
    answered = bool(answered_with)
    opened = ""
    if answered or opening:
        opened = guard.open_with(answered_with or opening)
        yield opened, answered
    # an opening that asks nothing ("You told me … your plan: …") needs the model's words after it
    # (a frame with its own closing, a crisis, ends its line itself)
    needs_more = bool(opened) and not opened.rstrip().endswith("?") and frame.closing is None
    step, raw = replace(params, stop=spoken_stops), ""
    for attempt in range(SPOKEN_ATTEMPTS):
        retry = attempt > 0
        # A line stopped at a copy inside a sentence goes on from the words before it, in the same
        # prompt (read already), kept from the word the copy began with. A copy from a sentence's
        # first words ("Valentina, …"), or any other slip, is asked for afresh: kept from its
        # usual first word, the 1.5B model began lists ("Here's how you could approach this:").
        cut = guard.copy_to_go_on_from if retry else None
        line_so_far = guard.released
        if retry:
            step = replace(step, seed=(params.seed or 0) + attempt, temperature=max(params.temperature, 0.9))
            if cut is not None:
                line_so_far = guard.go_on_after_copy()
            else:
                guard.resume()
        last = attempt == SPOKEN_ATTEMPTS - 1
        empathetic, therapeutic = thoughts
        speaking = speaking_messages(
            messages,
            name,
            user_name,
            empathetic,
            therapeutic,
            retry=retry and cut is None,
            key_memory=key_memory,
            answered=answered,
            instruction=instruction,
            opened=bool(opening),
            dropped=talk.dropped,
        )
        if cut is not None:
            stream, raw = _not_starting_with(llm, speaking, step, cancel, line_so_far, cut.word), cut.before
        else:
            stream, raw = llm.stream_chat(speaking, step, cancel, line_so_far), ""
        try:
            for chunk in stream:
                raw += chunk
                shown = guard.feed(chunk)
                if shown:
                    yield shown, True
                if guard.done and not (last and guard.failed_at_start and not _enough(raw)):
                    break  # (on the last try a rejected start reads on: its text is the fallback)
            else:
                shown = guard.finish()
                if shown:
                    yield shown, True
        finally:
            stream.close()
        if cancel is not None and cancel.cancelled:
            return
        nothing_added = guard.released.strip() == opened.strip()
        if not guard.rejected and (not guard.released.strip() or (needs_more and nothing_added)):
            # the model stopped after its thoughts, or every sentence was dropped: ask again
            guard.rejected = "dropped every sentence" if raw.strip() else "said nothing"
        if not guard.rejected:
            return
        log.info(
            "spoken line stopped (attempt %d): %s",
            attempt + 1,
            guard.rejected,
            extra={"guard": "line cut at a copy" if guard.copy_to_go_on_from else "line asked again"},
        )
    if needs_more and guard.released.strip() == opened.strip():  # the opening, and nothing after it
        log.info(
            "nothing usable after the opening; Joi asks an open question", extra={"guard": "open question"}
        )
        yield " " + OPEN_QUESTION.format(user=user_name), False
        return
    if guard.failed_at_start or guard.only_greeted:  # the good sentences of the last try, or its words
        words_said = without_leading_label(raw, name, user_name)
        message = messages[-1]["content"]
        kept = salvage(words_said, name, user_name, [*earlier, *notes_said], message, drop=drop)
        line = kept or ("" if talk.dropped or guard.only_greeted else _plain_words(words_said))
        if line.strip():
            log.info("the spoken line was salvaged from a failed try", extra={"guard": "salvaged"})
        if not line.strip():  # never an empty reply: an open question, in Joi's own words
            log.info(
                "no usable spoken line twice; Joi asks an open question instead",
                extra={"guard": "open question"},
            )
            line = OPEN_QUESTION.format(user=user_name)
        yield (" " if guard.released.strip() else "") + line.lstrip(), False
