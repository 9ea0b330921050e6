"""While a person types in the browser, Joi's model reads the reply's prompt ahead (real
app, real model, real browser), and the message is answered as it was typed."""

from __future__ import annotations

import time

import pytest

from .conftest import AppServer
from .joi_page import open_app, user_texts, wait_for_replies

pytestmark = pytest.mark.llm
MESSAGE = "I skipped my run again this morning, and I am annoyed with myself."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("read-ahead")
    app = AppServer(
        folder / "data",
        folder / "app.log",
        "--reply-tokens",
        "32",
        "--user-name",
        "Sam",
        "--log-level",
        "debug",
    )
    app.start()
    yield app
    app.stop()


def read_ahead_lines(server: AppServer) -> list[str]:
    text = server.log_path.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if "read ahead:" in line]


def test_typing_has_the_prompt_read_ahead_and_the_message_is_answered_as_typed(server, page):
    open_app(page, server.url)
    assert read_ahead_lines(server) == []
    box = "#joi-input textarea"
    page.type(box, MESSAGE[:40], delay=60)  # a person typing, word by word
    deadline = time.time() + 60
    while time.time() < deadline and not any("read whole" in line for line in read_ahead_lines(server)):
        time.sleep(0.5)
    assert any("read whole" in line for line in read_ahead_lines(server)), server.log_tail()
    page.type(box, MESSAGE[40:], delay=60)
    page.press(box, "Enter")
    [reply] = wait_for_replies(page, 1)
    assert reply.strip()
    assert [line.strip() for line in user_texts(page)] == [MESSAGE]
    assert page.input_value(box) == ""
    assert MESSAGE not in "\n".join(read_ahead_lines(server))  # the log never holds the words
