"""The extension's tab in a real browser, inside a page laid out like the webui's.

Run under the standalone gradio and, in CI's second run, under the host's gradio 4.37
(``JOI_E2E_PYTHON``). The tab follows the host's "Your name" and "Character" fields: each
person's memories show only under their own profile. An encrypted data folder shows only
the passphrase field until it is unlocked there.
"""

from __future__ import annotations

import subprocess
import time

import pytest
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.profiles import profile_folder_name

from .conftest import REPO, AppServer

PASSPHRASE = "correct horse battery"
SAM_SECRET = "Sam is training for the Berlin marathon."
ALEX_SECRET = "Alex is saving for a cello."


def seed(data_dir, embedder) -> None:
    """Two people's memories, as turns through the webui leave them (with the profile index)."""
    (data_dir).mkdir(parents=True, exist_ok=True)
    (data_dir / "webui-profiles.json").write_text('["Sam & Joi", "Alex & Joi"]', encoding="utf-8")
    for profile, text in (("Sam & Joi", SAM_SECRET), ("Alex & Joi", ALEX_SECRET)):
        bank = MemoryBank(data_dir / "profiles" / profile_folder_name(profile), embedder)
        bank.add([NewMemory(Stream.DIALOGUE, text, time.time() - 60, speaker=profile.split(" & ")[0])])
        bank.close()


class WebuiTabServer(AppServer):
    def _spawn(self, log, env: dict) -> subprocess.Popen:
        command = [
            self.python,
            str(REPO / "tests" / "e2e" / "webui_tab_app.py"),
            str(self.port),
            str(self.data_dir),
        ]
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    user_data = tmp_path_factory.mktemp("webui-user-data")
    (user_data / "extensions").mkdir()
    (user_data / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    seed(user_data / "joi_coach", embedder)
    app = WebuiTabServer(user_data, user_data / "page.log")
    app.start()
    yield app
    app.stop()


def table_text(page) -> str:
    return page.locator("#joi-memory-table").inner_text()


def type_name_and_open_tab(page, name: str, expected: str) -> None:
    """Type a name in the host's "Your name" field, open Joi's tab, wait for that person's memory."""
    page.get_by_role("tab", name="Chat").click()
    page.locator("#host-name1 textarea").fill(name)
    page.get_by_role("tab", name="Joi Coach").click()
    page.wait_for_function(
        "text => document.querySelector('#joi-memory-table').innerText.includes(text)", arg=expected
    )


def test_the_tab_follows_the_hosts_name_and_character_fields(server, page):
    page.goto(server.url)
    page.get_by_role("tab", name="Joi Coach").click()
    page.locator("#joi-memory-refresh").click()
    page.get_by_text("Memories of You & Joi").wait_for()  # the webui's default name
    assert SAM_SECRET not in table_text(page) and ALEX_SECRET not in table_text(page)  # "You & Joi"

    type_name_and_open_tab(page, "Sam", SAM_SECRET)
    assert ALEX_SECRET not in table_text(page)
    assert "Sam & Joi" in page.locator("#joi-profile input").input_value()
    type_name_and_open_tab(page, "Alex", ALEX_SECRET)
    assert SAM_SECRET not in table_text(page)


def test_the_profile_menu_lists_people_with_memories_and_switches_between_them(server, page):
    page.goto(server.url)
    page.get_by_role("tab", name="Joi Coach").click()
    page.locator("#joi-profile input").click()
    page.locator("#joi-profile input").press("Control+a")
    page.locator("#joi-profile input").press("Backspace")  # gradio 4 filters the menu by the text
    options = page.locator("ul[role=listbox] li")
    options.first.wait_for()
    assert {"Sam & Joi", "Alex & Joi"} <= {t.strip() for t in options.all_inner_texts()}
    page.locator("ul[role=listbox] li", has_text="Alex & Joi").click()
    page.wait_for_function(
        "text => document.querySelector('#joi-memory-table').innerText.includes(text)", arg=ALEX_SECRET
    )
    assert SAM_SECRET not in table_text(page)


@pytest.fixture(scope="module")
def locked_server(tmp_path_factory, embedder):
    """The same page over an encrypted data folder, started without its passphrase."""
    from joi_coach.memory import encryption

    user_data = tmp_path_factory.mktemp("webui-locked-user-data")
    (user_data / "extensions").mkdir()
    (user_data / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    data_dir = user_data / "joi_coach"
    seed(data_dir, embedder)
    encryption.set_passphrase(data_dir, PASSPHRASE, cost=2**10)
    encryption.lock(data_dir)
    app = WebuiTabServer(user_data, user_data / "page.log")
    app.start()
    yield app
    app.stop()


def test_a_locked_tab_asks_for_the_passphrase_and_opens_with_the_right_one(locked_server, page):
    page.goto(locked_server.url)
    page.get_by_role("tab", name="Joi Coach").click()
    passphrase = page.locator("#joi-passphrase input")
    passphrase.wait_for()
    assert page.get_by_text("Unlock Joi's memories").is_visible()
    assert not page.locator("#joi-memory-table").is_visible()  # nothing of the memories while locked

    passphrase.fill("not the passphrase")
    page.locator("#joi-unlock-button").click()
    page.locator("#joi-unlock-status", has_text="does not open").wait_for()
    assert not page.locator("#joi-memory-table").is_visible()

    passphrase.fill(PASSPHRASE)
    passphrase.press("Enter")
    page.locator("#joi-memory-table").wait_for()
    assert not passphrase.is_visible()
    type_name_and_open_tab(page, "Sam", SAM_SECRET)
    assert ALEX_SECRET not in table_text(page)

    page.goto(locked_server.url)  # a page opened after the unlock shows the tab itself
    page.get_by_role("tab", name="Joi Coach").click()
    page.locator("#joi-memory-table").wait_for()
    assert not page.locator("#joi-passphrase input").is_visible()
    log = locked_server.log_path.read_text(encoding="utf-8")
    assert "Joi Coach is locked" in log and "Traceback" not in log
