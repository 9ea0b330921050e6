"""The Plans panel in a real browser: add, complete, drop and undo in the Memory tab (also under
the host's gradio 4.37), the open plans beside the chat, and, on the real embedded model, Joi
following up a commitment once its due day has passed (the app's clock moved with --clock-file)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.profiles import profile_folder_name

from .conftest import AppServer
from .joi_page import open_app, open_memory_tab, send, store_rows, wait_for_replies
from .test_safety_browser import shot

DAY = 86400.0
COMMITMENT = "call my brother Tomasz on Sunday"


def seed(data_dir: Path, embedder) -> None:
    """A turn two days ago with the commitment Joi noted from it, due tomorrow."""
    bank = MemoryBank(data_dir / "profiles" / profile_folder_name("local"), embedder)
    said = time.time() - 2 * DAY
    [turn] = bank.add(
        [
            NewMemory(
                Stream.DIALOGUE,
                "I'll call my brother Tomasz on Sunday, it's been months.",
                said,
                speaker="Sam",
            )
        ]
    )
    bank.add([NewMemory(Stream.DIALOGUE, "That sounds like an important call.", said + 5, speaker="Joi")])
    bank.plans.add("commitment", COMMITMENT, said, due_at=time.time() + DAY, evidence=[turn], by="joi")
    bank.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("plans")
    seed(folder / "data", embedder)
    clock = folder / "clock"
    clock.write_text("0")
    app = AppServer(
        folder / "data",
        folder / "app.log",
        "--reply-tokens",
        "60",
        "--user-name",
        "Sam",
        "--clock-file",
        str(clock),
    )
    app.clock = clock  # type: ignore[attr-defined]
    app.start()
    yield app
    app.stop()


def plans_status(data_dir: Path) -> dict[str, str]:
    return dict(store_rows(data_dir, "SELECT text, status FROM plans"))


def choose_entry(page, words: str) -> None:
    page.click("#joi-plan-choice input")
    page.get_by_role("option").filter(has_text=words).first.click()
    page.wait_for_function(
        "t => document.querySelector('#joi-plan-history').innerText.includes(t)", arg=words, timeout=30_000
    )


def status_says(page, words: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('#joi-plan-status').innerText.includes(t)", arg=words, timeout=30_000
    )


def test_the_chat_shows_the_open_plans_with_where_they_came_from(server, page):
    open_app(page, server.url)
    panel = page.inner_text("#joi-chat-plans")
    assert "call my brother Tomasz on Sunday" in panel and "noted by Joi from turn #1" in panel


def test_add_complete_drop_and_undo_in_the_memory_tab(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    page.wait_for_function("() => document.querySelector('#joi-plans-list').innerText.includes('Tomasz')")
    page.fill("#joi-plan-text textarea, #joi-plan-text input", "drink water at work <b>daily</b>")
    page.click("#joi-plan-add")
    status_says(page, "Added")
    assert "drink water at work <b>daily</b>" in page.inner_text("#joi-plans-list"), "shown as text"
    choose_entry(page, "drink water")
    page.click("#joi-plan-done")
    status_says(page, "is now done")
    assert plans_status(server.data_dir)["drink water at work <b>daily</b>"] == "done"
    page.fill("#joi-plan-text textarea, #joi-plan-text input", "learn the ukulele")
    page.click("#joi-plan-add")
    status_says(page, "Added")
    choose_entry(page, "ukulele")
    page.click("#joi-plan-dropped")
    status_says(page, "is now dropped")
    page.click("#joi-plan-undo")
    status_says(page, "Took back")
    assert plans_status(server.data_dir)["learn the ukulele"] == "active"
    page.wait_for_function("() => document.querySelector('#joi-plan-history').innerText.includes('undone')")
    history = page.inner_text("#joi-plan-history")
    assert "added by you" in history and "dropped" in history and "undone" in history
    shot(page, "plans-memory-tab")


@pytest.mark.llm
def test_joi_follows_up_a_due_commitment_once_the_day_has_passed(server, page):
    server.clock.write_text(str(3 * DAY))  # three days on: Sunday has come and gone
    open_app(page, server.url)
    page.click("#joi-new-conversation")
    page.wait_for_timeout(1000)
    send(page, "hi Joi, back again")
    [reply] = wait_for_replies(page, 1)[-1:]
    assert "call your brother Tomasz on Sunday" in reply and "How did it go?" in reply
    shot(page, "plans-follow-up")
    rows = store_rows(server.data_dir, "SELECT followed_up_at FROM plans WHERE text = ?", (COMMITMENT,))
    assert rows and rows[0][0] is not None
