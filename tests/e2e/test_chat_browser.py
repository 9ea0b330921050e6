"""A person talks with Joi in the browser, on the real embedded model, and Joi remembers.

One app for the module, driven step by step like a person would: a first message
(streamed, thoughts apart, shown as typed), two quick messages (answered in order), the
memory tab (edit, forget, reflect now), then a restart (everything still there).
"""

from __future__ import annotations

import re
import time

import pytest
from joi_coach.cognition.voices import match_label

from .conftest import AppServer
from .joi_page import (
    dialogue_texts,
    open_app,
    open_memory_row,
    open_memory_tab,
    refresh_memories,
    send,
    status_text,
    store_rows,
    user_texts,
    wait_for_replies,
)

pytestmark = pytest.mark.llm
HOSTILE = "Hi Joi. <script>window.pwned=1</script> <b>bold?</b> I want to **run** a 5k by spring."
FIRST_QUICK = "I keep skipping breakfast before work."
SECOND_QUICK = "And I sleep badly on Sundays."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chat")
    app = AppServer(folder / "data", folder / "app.log", "--reply-tokens", "48", "--user-name", "Sam")
    app.start()
    yield app
    app.stop()


def assert_every_spoken_line_is_joi_talking(lines: list[str]) -> None:
    """No bubble opens with a voice label, a think tag, or a speaker's name and a colon."""
    for line in lines:
        text = line.strip()
        assert text and match_label(text[:64]) is None, text
        assert not re.match(r"^[*_\s]*(?:Sam|Joi|User|Assistant)\s*[:：]", text, re.IGNORECASE), text


def test_a_message_streams_in_with_the_thoughts_apart_and_is_shown_as_typed(server, page):
    open_app(page, server.url)
    send(page, HOSTILE)
    states: list[str] = []
    deadline = time.time() + 300
    while time.time() < deadline:
        lines = dialogue_texts(page)
        current = lines[0] if lines else ""
        thinking = page.inner_text("#joi-thoughts")
        if not states or states[-1] != thinking:
            states.append(thinking)
        if page.locator("#joi-thoughts .joi-status").count() == 0 and lines and current.strip() != "…":
            break
        time.sleep(0.1)
    [reply] = wait_for_replies(page, 1)

    # The thoughts stream in token by token (the spoken line follows a sentence at a time).
    final = page.inner_text("#joi-thoughts")
    partial = [s for s in states if "Empathetic voice" in s and s != final]
    assert len(partial) >= 2, f"the reply did not stream in (states seen: {states})"
    # Thoughts are apart: in the side panel and a collapsed block, never in the spoken line.
    thoughts = page.inner_text("#joi-thoughts")
    assert "Empathetic voice" in thoughts and "Therapist voice" in thoughts
    empathetic = page.inner_text("#joi-thoughts .joi-empathetic p")
    assert empathetic.strip() not in ("", "…")
    assert "Empathetic voice:" not in reply and "Therapist voice:" not in reply
    # The person's words are shown exactly as typed: no HTML, no markdown, no script run.
    assert user_texts(page)[0].strip() == HOSTILE
    assert page.locator("#joi-chat script").count() == 0
    assert page.locator("#joi-chat b").count() == 0
    assert page.evaluate("window.pwned === undefined")
    # What was recalled is shown with its scores, per stream (a first message recalls nothing yet).
    page.get_by_text("Recalled for the last message").click()
    recalled = page.inner_text("#joi-recalled")
    assert "Dialogue" in recalled and "relevance" in recalled


def test_two_quick_messages_are_answered_in_order(server, page):
    open_app(page, server.url)
    before = len(dialogue_texts(page))
    send(page, FIRST_QUICK)
    send(page, SECOND_QUICK)  # while Joi is still answering the first
    page.wait_for_function(
        "() => document.querySelector('#joi-chat').innerText.includes('queued')", timeout=20_000
    )
    wait_for_replies(page, before + 2)
    users = user_texts(page)
    assert [u.strip() for u in users[-2:]] == [FIRST_QUICK, SECOND_QUICK]
    rows = store_rows(
        server.data_dir,
        "SELECT speaker, text FROM memories WHERE stream = 'dialogue' ORDER BY created_at, id",
    )
    speakers = [speaker for speaker, _ in rows]
    texts = [text for _, text in rows]
    first, second = texts.index(FIRST_QUICK), texts.index(SECOND_QUICK)
    assert speakers[first + 1] == "Joi" and second == first + 2 and speakers[second + 1] == "Joi"


def test_the_memory_tab_shows_edits_and_forgets_a_memory(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    assert SECOND_QUICK in page.inner_text("#joi-memory-table")
    assert page.locator("#joi-memory-table script").count() == 0

    open_memory_row(page, SECOND_QUICK)
    page.fill("#joi-memory-text textarea", "And I sleep badly on Sunday nights.")
    page.click("#joi-save-memory")
    page.wait_for_function("() => document.querySelector('#joi-memory-status').innerText.includes('saved')")
    refresh_memories(page)
    assert "Sunday nights" in page.inner_text("#joi-memory-table")
    assert store_rows(server.data_dir, "SELECT COUNT(*) FROM memories WHERE text LIKE '%Sunday nights%'") == [
        (1,)
    ]

    open_memory_row(page, FIRST_QUICK)
    page.click("#joi-forget")
    page.wait_for_function("() => document.querySelector('#joi-memory-status').innerText.includes('Forgot')")
    refresh_memories(page)
    assert FIRST_QUICK not in page.inner_text("#joi-memory-table")
    assert store_rows(server.data_dir, "SELECT COUNT(*) FROM memories WHERE text = ?", (FIRST_QUICK,)) == [
        (0,)
    ]


def test_reflect_now_adds_reflections_that_cite_memories(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    page.click("#joi-reflect-now")
    page.wait_for_function(
        "() => /reflection|nothing new/i.test(document.querySelector('#joi-memory-status').innerText)",
        timeout=400_000,
    )
    status = status_text(page)
    reflections = store_rows(server.data_dir, "SELECT id FROM memories WHERE stream = 'reflection'")
    if "new reflection" in status:
        assert reflections, status
        cited = store_rows(server.data_dir, "SELECT COUNT(*) FROM evidence")
        assert cited[0][0] >= len(reflections)
        page.wait_for_function(
            "n => document.querySelectorAll('#joi-reflection-tree li').length >= n", arg=len(reflections)
        )
    else:  # the small model may find nothing new; then nothing may have been stored
        assert not reflections


def test_after_a_restart_the_conversation_and_memories_are_still_there(server, page):
    server.stop()
    server.start()
    open_app(page, server.url)
    assert any(u.strip() == HOSTILE for u in user_texts(page))
    assert any("Sunday nights" in u for u in user_texts(page))
    assert len(dialogue_texts(page)) >= 3
    assert_every_spoken_line_is_joi_talking(dialogue_texts(page))
    open_memory_tab(page)
    assert "Sunday nights" in page.inner_text("#joi-memory-table")


def test_a_new_conversation_starts_empty_and_the_earlier_one_can_be_continued(server, page):
    open_app(page, server.url)
    page.click("#joi-new-conversation")
    page.wait_for_function("() => !document.querySelector('#joi-chat').innerText.includes('Sunday nights')")
    assert user_texts(page) == []
    page.click("#joi-conversation input")
    page.get_by_role("option").filter(has_text="lines").first.click()
    page.wait_for_function("() => document.querySelector('#joi-chat').innerText.includes('Sunday nights')")
    assert any(u.strip() == HOSTILE for u in user_texts(page))


def test_the_person_tells_joi_what_to_call_them_and_the_thoughts_use_it(server, page):
    open_app(page, server.url)
    page.locator("#joi-you-box button").first.click()
    page.fill("#joi-you-name input", "<b>Robin</b>")  # not a name: refused, nothing kept
    page.click("#joi-you-save")
    page.get_by_text("Name not saved").first.wait_for(timeout=15_000)
    page.fill("#joi-you-name input", "  Robin  ")
    page.click("#joi-you-save")
    page.get_by_text("Joi will call you Robin").first.wait_for(timeout=15_000)
    page.reload()
    open_app(page, server.url)
    page.locator("#joi-you-box button").first.click()
    assert page.input_value("#joi-you-name input") == "Robin", "kept across a reload"
    send(page, "Quick one: I went for a walk at lunch today.")
    page.wait_for_function(
        "() => document.querySelector('#joi-thoughts').innerText.includes('Robin is')", timeout=300_000
    )
    wait_for_replies(page, len(dialogue_texts(page)))
