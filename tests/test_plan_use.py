"""The ledger used in a reply, on a scripted backend and the real embedder: a follow-up on
the first reply of a later conversation (once), a connection when a message touches an entry,
the tension with a limit (cheering not shown), and nothing forced in when nothing fits."""

from __future__ import annotations

import pytest
from joi_coach.coach import collect
from joi_coach.cognition.plan_use import as_you, choose_cue, spoken_when
from joi_coach.memory.models import NewMemory, Stream
from scripted_llm import ScriptedLLM

NOW = 1_780_000_000.0
DAY = 86400.0


def reply_script(spoken: str) -> list[str]:
    return [" thinking about the week.", " to hear how it went.", spoken]


def spoken_of(coach, profile, text, conversation, now):
    _, _, turn = collect(coach.reply(profile, text, user_name="Ann", conversation=conversation, now=now))
    return turn.reply.dialogue, turn


def test_the_first_reply_of_a_later_conversation_follows_up_an_open_commitment_once(coach_on):
    backend = ScriptedLLM(reply_script(" I'd love to hear.") + reply_script(" Tell me more about work."))
    coach = coach_on(backend)
    bank = coach.bank("ann")
    [turn] = bank.add(
        [NewMemory(Stream.DIALOGUE, "I'll call my brother on Sunday", NOW - 5 * DAY, speaker="Ann")]
    )
    entry = bank.plans.add(
        "commitment", "call my brother on Sunday", NOW - 5 * DAY, evidence=[turn], by="joi"
    )
    first, _ = spoken_of(coach, "ann", "hey Joi", "c2", NOW)
    assert first.startswith("5 days ago you told me your plan: call your brother on Sunday. How did it go?")
    assert bank.plans.get(entry.id).followed_up_at == NOW
    second, _ = spoken_of(coach, "ann", "work was busy though", "c2", NOW + 60)
    assert "brother" not in second  # asked once
    answer_prompt = backend.calls[-1].messages
    assert any("is answering your question about their plan" in m["content"] for m in answer_prompt), (
        "the message after the follow-up is heard as its answer"
    )
    # the prompt carried the compact block of active plans
    assert any("<plans" in m["content"] for m in backend.calls[0].messages if m["role"] == "system")


def test_a_message_that_goes_against_a_limit_names_it_and_cheering_is_not_shown(coach_on):
    backend = ScriptedLLM(reply_script(" Go for it, you deserve it! What does your body tell you?"))
    coach = coach_on(backend)
    bank = coach.bank("ann")
    [turn] = bank.add(
        [
            NewMemory(
                Stream.DIALOGUE,
                "physio says no running until the stitches are out",
                NOW - 9 * DAY,
                speaker="Ann",
            )
        ]
    )
    bank.plans.add("limit", "no running until the stitches are out", NOW - 9 * DAY, evidence=[turn], by="joi")
    spoken, _ = spoken_of(
        coach, "ann", "Thinking of doing a long run this weekend, the weather looks great!", "c1", NOW
    )
    assert spoken.startswith("You told me 9 days ago: no running until the stitches are out.")
    assert "Go for it" not in spoken and "What does your body tell you?" in spoken
    notes = backend.calls[-1].messages[-1]["content"]
    assert "tension" in notes and "Do not cheer" in notes


def test_nothing_is_forced_in_when_nothing_fits(coach_on):
    backend = ScriptedLLM(reply_script(" That sounds like a lovely recipe. What made you pick it?"))
    coach = coach_on(backend)
    bank = coach.bank("ann")
    [turn] = bank.add(
        [NewMemory(Stream.DIALOGUE, "my sister Maya is visiting", NOW - 3 * DAY, speaker="Ann")]
    )
    bank.plans.add("person", "Maya, my sister", NOW - 3 * DAY, evidence=[turn], by="joi")
    bank.add(
        [NewMemory(Stream.DIALOGUE, "Good to hear.", NOW - 3 * DAY + 5, speaker="Joi", conversation="c1")]
    )
    spoken, _ = spoken_of(coach, "ann", "I baked a lemon cake from a new recipe", "c1", NOW)
    assert spoken == "That sounds like a lovely recipe. What made you pick it?"


def test_plans_off_leaves_the_reply_alone(coach_on):
    backend = ScriptedLLM(reply_script(" Hello again."))
    coach = coach_on(backend)
    coach.update_settings("ann", {"plans": False})
    bank = coach.bank("ann")
    [turn] = bank.add(
        [NewMemory(Stream.DIALOGUE, "I'll call my brother on Sunday", NOW - 5 * DAY, speaker="Ann")]
    )
    bank.plans.add("commitment", "call my brother on Sunday", NOW - 5 * DAY, evidence=[turn], by="joi")
    spoken, _ = spoken_of(coach, "ann", "hey Joi", "c2", NOW)
    assert spoken == "Hello again."


def test_words_said_back_and_times_said_aloud():
    assert (
        as_you("I'll call my brother and tell him I'm sorry")
        == "you'll call your brother and tell him you're sorry"
    )
    assert spoken_when(NOW - 0.2 * DAY, NOW) == "earlier today"
    assert spoken_when(NOW - DAY, NOW) == "yesterday"
    assert spoken_when(NOW - 20 * DAY, NOW).startswith("on ")


def test_a_plan_that_breaks_a_limit_on_the_same_habit_connects_without_a_shared_word(embedder):
    """Written apart from the dev scenarios: the limit and the message share a habit, not a word."""
    import numpy as np
    from joi_coach.cognition.plan_use import closeness, topics_of
    from joi_coach.memory.plans import PlanEntry, PlanKind, PlanStatus

    limits = [
        PlanEntry(
            1,
            PlanKind.LIMIT,
            "no alcohol until the antibiotics are done",
            PlanStatus.ACTIVE,
            None,
            0,
            0,
            "joi",
        ),
        PlanEntry(2, PlanKind.LIMIT, "no screens after 10pm", PlanStatus.ACTIVE, None, 0, 0, "joi"),
    ]
    vectors = embedder.embed_passages([e.text for e in limits])

    def touched(message: str) -> set[int]:
        scores = closeness(message, embedder.embed_query(message), limits, vectors)
        return {plan_id for plan_id, score in scores.items() if score > 0}

    assert touched("my mates are doing a pub crawl friday, I'll just have a few pints") == {1}
    assert touched("gonna binge the whole new season in bed tonight until 2am") == {2}
    assert touched("can you recommend a good podcast about history?") == set()
    assert touched("my sister is visiting next week and I need to clean the flat") == set()
    assert topics_of("I bet the bar was closed, in order to save money") == set(), "second senses left out"
    assert topics_of("40% off everything and I have 6 things in my basket") == {"spending"}
    assert np.isfinite(vectors).all()


@pytest.mark.parametrize(
    "message",
    [
        "My plan is to sleep in my gym clothes tonight so I can't talk myself out of it.",
        "Ok. I'm going to ring my brother on Sunday.",
    ],
)
def test_a_step_the_person_states_is_heard_and_built_on_not_asked_for(message):
    import numpy as np

    cue = choose_cue("Sam", message, np.zeros(384), [], np.zeros((0, 384)), 0.0, first_of_conversation=False)
    assert cue is not None and not cue.opening
    assert "just told you a step" in cue.instruction and "Do not ask Sam for a plan" in cue.instruction
    assert "your" in cue.instruction.split("(")[1]  # said back as Joi would: "your brother"


@pytest.mark.parametrize(
    "message",
    ["I skipped my run again.", "Maybe I'll try to go tomorrow?", "I might go running if it's dry."],
)
def test_a_message_with_no_firm_step_gets_no_such_cue(message):
    import numpy as np

    assert (
        choose_cue("Sam", message, np.zeros(384), [], np.zeros((0, 384)), 0.0, first_of_conversation=False)
        is None
    )


def test_a_step_worded_as_a_rule_is_one_a_message_can_go_against():
    """A rule the noting filed as a commitment ("weekends only, max 2 glasses") still brings the
    tension, not a cheer; an ordinary step does not."""
    from joi_coach.cognition.plan_use import _is_stopping
    from joi_coach.memory.plans import PlanEntry, PlanKind, PlanStatus

    def entry(kind: PlanKind, text: str) -> PlanEntry:
        return PlanEntry(1, kind, text, PlanStatus.ACTIVE, None, 0, 0, "joi")

    assert _is_stopping(entry(PlanKind.COMMITMENT, "weekends only, max 2 glasses on Friday and Saturday"))
    assert _is_stopping(entry(PlanKind.COMMITMENT, "no coffee after 2pm until the exams are over"))
    assert not _is_stopping(entry(PlanKind.COMMITMENT, "call my brother on Sunday"))
    assert not _is_stopping(entry(PlanKind.COMMITMENT, "swim twice a week with Tomas"))
    assert _is_stopping(entry(PlanKind.LIMIT, "physio said no running for 3 weeks"))
