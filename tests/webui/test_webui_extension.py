"""The extension through the host's own call sequence, on the real embedded model."""

from __future__ import annotations

import pytest
from joi_coach.memory.models import Stream

from .conftest import Conversation, chat_state, wait_for

pytestmark = pytest.mark.llm

MESSAGES = [
    "I keep putting off my thesis. Every evening I open the laptop and end up scrolling instead.",
    "My sister Mia says I should just set a timer, but timers make me anxious.",
    "What could I try tonight about the thesis?",
]


def chat_turn_prompts(calls) -> list[str]:
    """The prompts of the person's chat turns (not Joi's own prompts, which are chat-style too)."""
    return [prompt for prompt, is_chat, state in calls if is_chat and not state.get("joi_coach_internal")]


def joi_prompts(calls) -> list[str]:
    return [prompt for prompt, _, state in calls if state.get("joi_coach_internal")]


def last_chat_prompt() -> str:
    from modules import text_generation

    return chat_turn_prompts(text_generation.calls)[-1]


def profile_bank(joi, profile: str):
    return joi.coach.bank(profile)


@pytest.fixture(scope="module")
def sam(host):
    """Three turns of Sam talking to Joi in chat mode, as the API would run them."""
    from modules import text_generation

    conversation = Conversation(chat_state("Joi", "Sam", "chat"))
    start = len(text_generation.calls)
    replies = [conversation.send(message) for message in MESSAGES]
    chat_prompts = chat_turn_prompts(text_generation.calls[start:])
    return conversation, replies, chat_prompts


def test_each_turn_stores_the_message_thoughts_and_dialogue_once(host, sam):
    bank = profile_bank(host, "Sam & Joi")
    said = [m for m in bank.memories(Stream.DIALOGUE, limit=50) if m.speaker == "Sam"]
    assert sorted(m.text for m in said) == sorted(MESSAGES)  # each message once, as typed
    joi_lines = [m for m in bank.memories(Stream.DIALOGUE, limit=50) if m.speaker == "Joi"]
    assert len(joi_lines) == len(MESSAGES)
    assert bank.count(Stream.EMPATHETIC) == len(MESSAGES)
    assert bank.count(Stream.THERAPEUTIC) == len(MESSAGES)
    for line in joi_lines:  # the spoken line carries no thought labels or tags
        assert "voice:" not in line.text.lower() and "<think>" not in line.text


def test_the_reply_shows_thoughts_in_the_hosts_think_block_and_dialogue_apart(sam):
    _, replies, _ = sam
    for history in replies:
        visible = history["visible"][-1][1]
        assert visible.startswith("&lt;think&gt;\nEmpathetic voice:")
        thoughts, _, dialogue = visible.partition("&lt;/think&gt;")
        assert "Therapist voice:" in thoughts
        assert dialogue.strip().removesuffix("[spy]").strip()  # a spoken reply, then the spy's mark
        assert "<" not in visible  # whatever the model wrote is escaped text, never markup


def test_a_later_prompt_contains_memories_recalled_from_earlier_turns(host, sam):
    _, _, prompts = sam
    assert len(prompts) == len(MESSAGES)
    assert "What you remember" not in prompts[0]  # nothing to recall yet
    last = prompts[-1]
    memory_part = last.split("What you remember", 1)[1].rsplit("</memories>", 1)[0]
    assert "<memories kind=" in memory_part
    # memories stored by the earlier turns (what is still in the chat history is not repeated)
    bank = profile_bank(host, "Sam & Joi")
    stored = [m.text for stream in Stream for m in bank.memories(stream, limit=50)]
    assert any(text[:30] in memory_part for text in stored if len(text) >= 30), memory_part


def test_memories_are_for_this_generation_only(sam):
    conversation, replies, _ = sam
    assert "What you remember" not in conversation.state["context"]
    for user_text, reply in replies[-1]["internal"]:
        assert "What you remember" not in user_text and "What you remember" not in reply


def test_importance_and_a_reflection_fill_in_between_messages_through_the_host(host, sam):
    from modules import text_generation

    profile = "Sam & Joi"
    bank = profile_bank(host, profile)
    host.coach.update_settings(profile, {"reflection": {"threshold": 10, "questions": 1}})
    host.coach.queue_thinking(profile)
    assert wait_for(lambda: not bank.unrated(limit=1), timeout=900)
    assert wait_for(lambda: bank.count(Stream.REFLECTION) > 0, timeout=900)
    reflection = bank.memories(Stream.REFLECTION, limit=1)[0]
    assert reflection.evidence and all(bank.get([e]) for e in reflection.evidence)
    internal = joi_prompts(text_generation.calls)
    assert internal and not any("What you remember" in p for p in internal)  # no re-entry
    assert all(is_chat for _, is_chat, state in text_generation.calls if state.get("joi_coach_internal"))


def test_other_extensions_hooks_see_the_chat_turns_but_not_jois_own_prompts(host, sam):
    import sys

    from modules import text_generation

    spy = sys.modules["user_ext_spy"]
    assert joi_prompts(text_generation.calls)  # Joi's own prompts did run (importance, reflection)
    assert ("state", True) not in spy.seen  # Joi's prompts go in as chat-style: no hooks run
    assert ("state", False) in spy.seen and ("output", True) in spy.seen  # the chat turns


def test_another_character_gets_no_memories_and_an_untouched_reply(host, sam):

    other = Conversation(chat_state("Assistant", "Sam", "chat"))
    history = other.send("What did I tell you about Mia and my thesis?")
    prompt = last_chat_prompt()
    assert "What you remember" not in prompt and "Mia" not in prompt.split("Sam: ")[0]
    assert "&lt;think&gt;" not in history["visible"][-1][1]
    assert "Sam & Assistant" not in host.turns.known_profiles()


def test_a_second_person_never_sees_the_first_persons_memories(host, sam):

    Conversation(chat_state("Joi", "Alex", "chat")).send("Remind me what my sister said about timers.")
    prompt = last_chat_prompt()
    assert "Mia" not in prompt and "thesis" not in prompt
    alex = profile_bank(host, "Alex & Joi")
    assert all("Mia" not in m.text for m in alex.memories(limit=100))


def test_regenerating_replaces_the_memories_of_the_replaced_reply(host, sam):
    conversation, _, _ = sam
    bank = profile_bank(host, "Sam & Joi")
    before = [m.id for m in bank.memories(Stream.DIALOGUE, limit=100) if m.speaker == "Joi"]
    conversation.send("", regenerate=True)
    after = [m.id for m in bank.memories(Stream.DIALOGUE, limit=100) if m.speaker == "Joi"]
    assert len(after) == len(before)  # the last reply's line was replaced, not added
    assert max(before) not in after
    said = [m.text for m in bank.memories(Stream.DIALOGUE, limit=100) if m.speaker == "Sam"]
    assert said.count(MESSAGES[-1]) == 1


def test_a_background_prompt_gives_way_to_the_next_reply(host, sam):
    """A chat turn arriving mid-generation stops Joi's own prompt at its next token."""
    import threading
    import time

    from joi_coach.llm.base import GenerationParams
    from joi_coach.llm.priority import Preempted
    from modules import shared

    outcome: dict = {}
    messages = [{"role": "user", "content": "Write a long story about a lighthouse keeper."}]

    def background() -> None:
        try:
            outcome["text"] = host.coach.llm.complete_background(messages, GenerationParams(max_tokens=400))
        except Preempted as exc:
            outcome["preempted"] = exc

    assert host.coach.wait_idle(timeout=600)  # Joi's own jobs are done: the lock will be ours
    preemptions = host.generation.preemptions
    worker = threading.Thread(target=background)
    worker.start()
    assert wait_for(shared.generation_lock.locked, timeout=60, step=0.05)  # it holds the model
    time.sleep(2)  # well into its answer
    conversation = Conversation(chat_state("Joi", "Sam", "chat"))
    started = time.monotonic()
    history = conversation.send("Quick question: is a ten-minute start enough?")
    worker.join(timeout=60)
    assert "preempted" in outcome and host.generation.preemptions > preemptions
    assert history["visible"][-1][1].strip()  # the reply itself was not stopped
    assert time.monotonic() - started < 300
