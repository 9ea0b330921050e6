"""What a person does on Joi's page, as Playwright steps (shared by the browser tests)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

THOUGHTS_TITLE = "💭 Joi's inner voices"


def open_app(page, url: str, user: str | None = None, password: str | None = None) -> None:
    page.goto(url)
    if user is not None:
        page.wait_for_selector("input[type=password]")
        page.locator("input[type=text]").first.fill(user)
        page.fill("input[type=password]", password or "")
        page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#joi-input textarea", timeout=60_000)
    page.wait_for_timeout(1500)  # the page-load events fill the chat and the memory tab


def wait_until_settled(page, scope: str = "body", timeout: float = 30_000) -> None:
    """Wait until no event is pending on the components inside ``scope`` (gradio shows a status
    tracker on each output while its event runs): a refresh still in flight would overwrite
    what is typed next."""
    page.wait_for_timeout(150)  # the click's events are dispatched
    page.wait_for_function(
        "s => !Array.from(document.querySelectorAll(s + ' .wrap.default'))"
        ".some(w => !w.classList.contains('hide'))",
        arg=scope,
        timeout=timeout,
    )


def send(page, text: str) -> None:
    page.fill("#joi-input textarea", text)
    page.press("#joi-input textarea", "Enter")


def bot_texts(page) -> list[str]:
    return page.locator('#joi-chat [data-testid="bot"]').all_inner_texts()


def user_texts(page) -> list[str]:
    return page.locator('#joi-chat [data-testid="user"]').all_inner_texts()


def dialogue_texts(page) -> list[str]:
    """Joi's spoken lines (not the greeting, not the thoughts blocks)."""
    return [t for t in bot_texts(page)[1:] if not t.startswith(THOUGHTS_TITLE)]


def chat_is_idle(page) -> bool:
    text = page.inner_text("#joi-chat")
    return "queued" not in text and page.locator("#joi-thoughts .joi-status").count() == 0


def wait_for_replies(page, count: int, timeout: float = 400) -> list[str]:
    """Wait until Joi has finished ``count`` replies on the page; returns the dialogue lines."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = dialogue_texts(page)
        if (
            len(lines) >= count
            and all(line.strip() not in ("", "…") for line in lines)
            and chat_is_idle(page)
        ):
            return lines
        time.sleep(0.5)
    raise AssertionError(f"Joi did not finish {count} replies in {timeout}s; page shows {bot_texts(page)}")


def open_memory_tab(page) -> None:
    page.get_by_role("tab", name="Memory").click()
    page.wait_for_selector("#joi-memory-table")
    page.wait_for_timeout(1000)


def refresh_memories(page, query: str = "") -> None:
    page.fill("#joi-memory-search textarea, #joi-memory-search input", query)
    page.click("#joi-memory-refresh")
    page.wait_for_timeout(1500)


def memory_table_text(page) -> str:
    return page.inner_text("#joi-memory-table")


def open_memory_row(page, text: str) -> None:
    page.locator("#joi-memory-table").get_by_text(text, exact=False).first.click()
    page.wait_for_function(
        "t => (document.querySelector('#joi-memory-text textarea') || {}).value?.includes(t)", arg=text[:30]
    )


def status_text(page) -> str:
    return page.inner_text("#joi-memory-status")


def store_rows(data_dir: Path, sql: str, args: tuple = ()) -> list[tuple]:
    """Read a profile store directly (the only profile, or all of them)."""
    rows: list[tuple] = []
    for db in sorted(Path(data_dir).glob("profiles/*/memories.sqlite3")):
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            rows += conn.execute(sql, args).fetchall()
    return rows
