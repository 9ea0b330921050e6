"""Messages sent back to back are all kept, in order (real app, real model, real browser).

Gradio may read the textbox a moment after Enter; before the page took each message at
the instant it was sent, a message typed quickly after another was read in its place and
the first one was lost (seen in CI, and in 2 of 10 tries here). The requests can also reach
the server out of order (seen in CI: the sixth queued before the fifth); the page numbers
each message and the server queues them by number.
"""

from __future__ import annotations

import time

import pytest

from .conftest import AppServer
from .joi_page import open_app, send, user_texts

pytestmark = pytest.mark.llm
MESSAGES = [f"Quick note number {n}: I walked {n} km today." for n in range(1, 7)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quick")
    app = AppServer(folder / "data", folder / "app.log", "--reply-tokens", "16", "--user-name", "Sam")
    app.start()
    yield app
    app.stop()  # the messages still queued are dropped with the app; none was stored yet


def wait_for_user_lines(page, count: int, timeout: float = 60) -> list[str]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        lines = [line.strip() for line in user_texts(page)]
        if len(lines) >= count:
            return lines
        time.sleep(0.2)
    return [line.strip() for line in user_texts(page)]


def test_messages_sent_back_to_back_all_arrive_in_order(server, page, browser):
    open_app(page, server.url)
    for n, text in enumerate(MESSAGES):
        if n == 3:  # one by the Send button, the rest by Enter
            page.fill("#joi-input textarea", text)
            page.click("#joi-send")
        else:
            send(page, text)
    assert wait_for_user_lines(page, len(MESSAGES)) == MESSAGES
    assert page.input_value("#joi-input textarea") == ""

    # Another tab (or a reload) sees the same queue: nothing was only on the first page.
    other = browser.new_context().new_page()
    open_app(other, server.url)
    assert wait_for_user_lines(other, len(MESSAGES)) == MESSAGES
    other.context.close()


def test_a_message_typed_while_joi_answers_is_neither_lost_nor_mixed(server, page):
    open_app(page, server.url)
    before = len(user_texts(page))
    send(page, "First thought.")
    page.keyboard.type("Second thought, typed by hand.", delay=20)
    page.keyboard.press("Enter")
    lines = wait_for_user_lines(page, before + 2)
    assert lines[before:] == ["First thought.", "Second thought, typed by hand."]


def test_a_message_whose_request_reaches_the_server_late_keeps_its_place(server, page):
    """The network may deliver two quick sends out of order: the later one waits for the earlier."""
    open_app(page, server.url)
    before = len(user_texts(page))
    held, passed = [], []

    def hold_the_first(route) -> None:
        if "Overtaken on the way" in (route.request.post_data or "") and not held:
            held.append(route)  # let go below, after the next message has reached the server
        else:
            route.continue_()
            passed.append(route.request.post_data or "")

    page.route("**/queue/join*", hold_the_first)
    send(page, "Overtaken on the way.")
    send(page, "Sent second, arrived first.")
    deadline = time.time() + 30
    while not (held and any("arrived first" in body for body in passed)) and time.time() < deadline:
        page.wait_for_timeout(100)
    assert held, "the first message's request was not seen (gradio's queue URL changed?)"
    page.wait_for_timeout(800)  # the second is at the server, waiting for the first
    held[0].continue_()
    lines = wait_for_user_lines(page, before + 2)
    assert lines[before:] == ["Overtaken on the way.", "Sent second, arrived first."]
