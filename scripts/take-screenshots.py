#!/usr/bin/env python3
"""Retake docs/screenshots/ (chat, memory, safety, crisis) from a real run on the embedded model.

    .venv/bin/python scripts/take-screenshots.py [--out docs/screenshots] [--keep DIR]

An earlier session (nine days ago) goes through the real coach first, with its background
importance ratings and reflection; then the app starts on that data folder and a person,
in Debian's headless chromium, writes to Joi about the same goal and then asks about something
said in it, so the chat shows Joi's thoughts, an answer from memory and what it recalled from
the earlier session. Then they write a safety plan in the Safety tab, and, in a new
conversation, a message that signals a crisis. Takes a few minutes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from e2e.conftest import CHROMIUM_ARGS, AppServer  # noqa: E402
from e2e.joi_page import open_app, open_memory_tab, send, wait_for_replies  # noqa: E402

USER = "Sam"
EARLIER = [
    "I signed up for a 5k in May. My sister Maya is running it with me.",
    "I'm worried I'll be the slowest one there, I've only run 2k so far.",
]
NOW = [
    "I skipped two runs this week and I feel like I'm letting Maya down.",
    "How far had I run when I signed up, did I tell you?",
]
CRISIS = "Honestly some nights I think everyone would be better off if I just wasn't here anymore."
PLAN = {
    "#joi-plan-warning-signs textarea": "Not sleeping, skipping runs, cancelling on Maya",
    "#joi-plan-what-helps textarea": "A slow walk with headphones; a hot shower",
    "#joi-plan-people-to-ask textarea": "Maya: 07700 900123",
}


def seed(data_dir: Path) -> None:
    """The earlier session, nine days ago, through the real coach (importance and reflection too)."""
    from joi_coach.coach import Coach, collect
    from joi_coach.llm.embedded import EmbeddedLLM
    from joi_coach.memory.embeddings import Embedder

    coach = Coach(EmbeddedLLM(), Embedder(), data_dir)
    start = time.time() - 9 * 86_400
    try:
        for n, message in enumerate(EARLIER):
            collect(
                coach.reply("local", message, user_name=USER, conversation="earlier", now=start + 120 * n)
            )
        coach.wait_idle(timeout=900)
        coach.reflect_now("local", user_name=USER)
    finally:
        coach.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--keep", type=Path, help="keep the data folder here")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="joi-shots-"))
    data_dir = folder / "data"
    seed(data_dir)
    server = AppServer(data_dir, folder / "app.log", "--user-name", USER)
    server.start()
    try:
        from playwright.sync_api import sync_playwright

        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            open_app(page, server.url)
            args.out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out / "first-start.png"))
            page.click("#joi-first-start-ok")
            page.click("#joi-new-conversation")
            page.wait_for_timeout(1000)
            for n, message in enumerate(NOW, 1):
                send(page, message)
                wait_for_replies(page, n, timeout=600)
            page.get_by_text("Recalled for the last message").click()
            page.wait_for_timeout(1000)
            page.screenshot(path=str(args.out / "chat.png"), full_page=True)
            open_memory_tab(page)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(args.out / "memory.png"), full_page=True)
            page.get_by_role("tab", name="Safety").click()
            page.wait_for_selector("#joi-safety-preview")
            for selector, text in PLAN.items():
                page.fill(selector, text)
            page.locator("#joi-safety-country input").fill("United Kingdom")
            page.keyboard.press("Enter")
            page.click("#joi-safety-save")
            page.wait_for_function(
                "() => document.querySelector('#joi-safety-status').innerText.includes('Saved')"
            )
            page.screenshot(path=str(args.out / "safety.png"), full_page=True)
            page.get_by_role("tab", name="Chat").click()
            page.click("#joi-new-conversation")
            page.wait_for_timeout(1000)
            send(page, CRISIS)
            wait_for_replies(page, 1, timeout=600)
            page.screenshot(path=str(args.out / "crisis.png"), full_page=True)
            browser.close()
    finally:
        server.stop()
        if args.keep:
            shutil.copytree(data_dir, args.keep, dirs_exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"wrote first-start, chat, memory, safety and crisis screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
