"""With sign-in, each person is their own profile: two users never see each other's memories."""

from __future__ import annotations

import pytest

from .conftest import AppServer
from .joi_page import (
    open_app,
    open_memory_tab,
    refresh_memories,
    send,
    store_rows,
    user_texts,
    wait_for_replies,
)

pytestmark = pytest.mark.llm
SECRET = "My secret word is pineapple, please keep it."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("auth")
    auth_file = folder / "people.txt"
    auth_file.write_text("# who may sign in\nbob:bob-password-2\n", encoding="utf-8")
    app = AppServer(
        folder / "data",
        folder / "app.log",
        "--reply-tokens",
        "32",
        "--auth",
        "alice:alice-password-1",
        "--auth-file",
        str(auth_file),
    )
    app.start()
    yield app
    app.stop()


def test_two_signed_in_people_never_see_each_others_memories(server, browser):
    alice_context = browser.new_context()
    bob_context = browser.new_context()
    try:
        alice, bob = alice_context.new_page(), bob_context.new_page()
        open_app(alice, server.url, "alice", "alice-password-1")
        send(alice, SECRET)
        wait_for_replies(alice, 1)

        open_app(bob, server.url, "bob", "bob-password-2")
        assert SECRET not in " ".join(user_texts(bob))
        assert "pineapple" not in bob.inner_text("#joi-chat").lower()
        open_memory_tab(bob)
        assert "pineapple" not in bob.inner_text("#joi-memory-table").lower()
        refresh_memories(bob, "pineapple secret word")
        assert "pineapple" not in bob.inner_text("#joi-memory-table").lower()
        assert "bob" in bob.inner_text("#joi-tab-memory").lower()

        open_app(alice, server.url)  # still signed in: her chat and memories are hers
        assert any(SECRET in u for u in user_texts(alice))
        open_memory_tab(alice)
        assert "pineapple" in alice.inner_text("#joi-memory-table").lower()
    finally:
        alice_context.close()
        bob_context.close()

    folders = sorted(p.name for p in (server.data_dir / "profiles").iterdir())
    assert [f.split("-")[0] for f in folders] == ["alice", "bob"]
    counts = store_rows(server.data_dir, "SELECT COUNT(*) FROM memories WHERE text LIKE '%pineapple%'")
    assert counts[0][0] >= 1 and counts[1] == (0,)  # alice's store has it; bob's has not


def test_a_wrong_password_gets_no_page(server, page):
    page.goto(server.url)
    page.wait_for_selector("input[type=password]")
    page.locator("input[type=text]").first.fill("alice")
    page.fill("input[type=password]", "not-her-password")
    page.get_by_role("button", name="Login").click()
    page.wait_for_timeout(2000)
    assert page.locator("#joi-input").count() == 0
