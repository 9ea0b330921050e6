"""Noting plans: the parser keeps only what the person's cited lines hold (good and malformed
model output, and any text at all), due times worked out by code, and the background step
applying proposals to the ledger with their evidence."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from joi_coach.cognition.due_dates import resolve_due
from joi_coach.cognition.plan_keeping import PLANS_MARK, note_plans
from joi_coach.cognition.plan_notes import Line, NewEntry, StatusChange, parse_proposals
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.plans import PlanEntry, PlanKind, PlanStatus

TUESDAY = datetime(2026, 3, 10, 19, 0, tzinfo=timezone.utc).timestamp()
LINES = [
    Line(1, "My physio said no running for 3 weeks", TUESDAY),
    Line(0, "That sounds frustrating. What will you do instead?", TUESDAY),
    Line(2, "I'll swim with my friend Tomas on Sunday", TUESDAY),
    Line(3, "and I did the stretching every day like I said", TUESDAY),
]
KNOWN = [PlanEntry(4, PlanKind.COMMITMENT, "stretch every day", PlanStatus.ACTIVE, None, 0.0, 0.0, "joi")]


def day(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, tz=timezone.utc).date().isoformat()


def test_good_output_becomes_checked_proposals():
    answer = (
        "NEW limit | physio said no running for 3 weeks | due: none | from: 1\n"
        "NEW commitment | swim with Tomas | due: on Sunday | from: 2\n"
        "NEW person | Tomas, my friend | due: none | from: 2\n"
        "DONE #4 | from: 3\n"
    )
    limit, swim, friend, done = parse_proposals(answer, LINES, KNOWN)
    assert isinstance(limit, NewEntry) and limit.kind is PlanKind.LIMIT and limit.due_at is None
    assert isinstance(swim, NewEntry) and day(swim.due_at) == "2026-03-15" and swim.lines == (2,)
    assert isinstance(friend, NewEntry) and friend.kind is PlanKind.PERSON
    assert done == StatusChange(4, PlanStatus.DONE, (3,))


def test_invented_numbers_names_and_due_times_are_not_kept():
    answer = (
        "NEW limit | no running for 6 weeks | due: none | from: 1\n"  # 6 is not in line 1
        "NEW commitment | swim with Maria | due: none | from: 2\n"  # nobody said Maria
        "NEW commitment | swim at the lake | due: Saturday | from: 2\n"  # Saturday was not said
        "NEW commitment | go swimming | due: none | from: 9\n"  # no line 9
        "NEW commitment | call mum | due: none | from: 0\n"  # Joi's line is not the person's
        "DONE #99 | from: 3\n"  # no entry 99
        "NEW wish | fly | due: none | from: 2\n"  # no such kind
    )
    [kept] = parse_proposals(answer, LINES, KNOWN)
    assert isinstance(kept, NewEntry) and kept.text == "swim at the lake" and kept.due_at is None


def test_a_limit_that_lost_its_no_is_kept_in_the_persons_own_words():
    [limit] = parse_proposals("NEW limit | running for 3 weeks | due: none | from: 1", LINES, KNOWN)
    assert isinstance(limit, NewEntry) and limit.text == "physio said no running for 3 weeks"
    [kept] = parse_proposals("NEW limit | no running for 3 weeks | due: none | from: 1", LINES, KNOWN)
    assert (
        isinstance(kept, NewEntry) and kept.text == "no running for 3 weeks"
    )  # a good note stays as written


def test_a_repeat_of_an_active_entry_and_nothing_are_dropped():
    assert parse_proposals("NOTHING", LINES, KNOWN) == []
    assert parse_proposals("NEW commitment | stretch every day | due: none | from: 3", LINES, KNOWN) == []


def test_replace_supersedes_a_known_entry_with_its_kind():
    [new] = parse_proposals("REPLACE #4 | stretch every day like I said | due: none | from: 3", LINES, KNOWN)
    assert isinstance(new, NewEntry) and new.replaces == 4 and new.kind is PlanKind.COMMITMENT


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_model_output_parses_without_error_and_cites_only_the_persons_lines(text):
    for proposal in parse_proposals(text, LINES, KNOWN):
        assert proposal.lines and all(n in (1, 2, 3) for n in proposal.lines)
        if isinstance(proposal, NewEntry):
            assert proposal.text.strip() and len(proposal.text) <= 300


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["NEW commitment", "NEW limit", "REPLACE #4", "DONE #4", "MISSED #4"]),
    text=st.text(alphabet=st.characters(blacklist_characters="|\n"), max_size=60),
    due=st.sampled_from(["none", "on Sunday", "tomorrow", "", "next Friday"]),
    lines=st.lists(st.integers(-3, 12), max_size=4).map(lambda ns: ", ".join(map(str, ns))),
)
def test_line_format_variants_never_invent_a_due_time(kind, text, due, lines):
    for proposal in parse_proposals(f"{kind} | {text} | due: {due} | from: {lines}", LINES, KNOWN):
        if isinstance(proposal, NewEntry) and proposal.due_at is not None:
            assert due == "on Sunday" and 2 in proposal.lines  # the only time a cited line holds


def test_due_times_from_the_persons_words():
    assert day(resolve_due("tomorrow", TUESDAY)) == "2026-03-11"
    assert day(resolve_due("by the 20th", TUESDAY)) == "2026-03-20"
    assert day(resolve_due("next week", TUESDAY)) == "2026-03-22"
    assert day(resolve_due("friday next week", TUESDAY)) == "2026-03-20", "a weekday of next week"
    assert day(resolve_due("the day after tomorrow", TUESDAY)) == "2026-03-12"
    assert resolve_due("every morning", TUESDAY) is None
    assert resolve_due("someday", TUESDAY) is None


def test_the_background_step_applies_proposals_with_their_turns(tmp_path, embedder):
    bank = MemoryBank(tmp_path, embedder, progress=False)
    try:
        ids = bank.add(
            [
                NewMemory(Stream.DIALOGUE, "I'll call my brother on Sunday", TUESDAY, speaker="Ann"),
                NewMemory(Stream.DIALOGUE, "That's a kind plan.", TUESDAY + 5, speaker="Joi"),
            ]
        )
        prompts = []

        def model(messages, params):
            prompts.append(messages)
            if "The sentence:" in messages[-1]["content"]:  # the cued sentence's own question
                return "call my brother (when: on Sunday)"
            return "NEW commitment | call my brother | due: on Sunday | from: 1"

        assert note_plans(bank, model, "Ann", "Joi") == 1
        [entry] = bank.plans.active()
        assert (
            entry.text == "call my brother"
            and entry.evidence == (ids[0],)
            and day(entry.due_at) == "2026-03-15"
        )
        assert bank.get_meta(PLANS_MARK) == str(ids[1])
        assert len(prompts) == 2, "the noting step, and the cued sentence's question"
        assert note_plans(bank, model, "Ann", "Joi") == 0 and len(prompts) == 2  # nothing new: no call
    finally:
        bank.close()
