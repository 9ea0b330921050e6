"""The chat queues a page's messages in the order they were sent, whatever order their
requests arrive in (real threads, as gradio's workers run them)."""

from __future__ import annotations

import threading
import time

from extensions.joi_coach.ui.send_order import SendOrder, message_number


def run_sends(order: SendOrder, sends: list[tuple[str | None, int | None]]) -> list:
    """Start one thread per (page, number), in the list's order, each recording when it got in."""
    admitted: list[tuple[str | None, int | None]] = []
    lock = threading.Lock()

    def send(page: str | None, number: int | None) -> None:
        with order.turn(page, number):
            with lock:
                admitted.append((page, number))
            time.sleep(0.005)  # the room queues the message

    threads = []
    for page, number in sends:
        thread = threading.Thread(target=send, args=(page, number))
        thread.start()
        threads.append(thread)
        time.sleep(0.02)  # started in the list's order
    for thread in threads:
        thread.join(10)
    return admitted


def test_messages_arriving_in_reverse_are_queued_in_the_order_sent():
    admitted = run_sends(SendOrder(patience=5), [("page", n) for n in (6, 5, 4, 3, 2, 1)])
    assert admitted == [("page", n) for n in range(1, 7)]


def test_the_fifth_and_sixth_swapped_on_the_way_keep_their_order():
    sends = [("page", n) for n in (1, 2, 3, 4, 6, 5)]
    assert run_sends(SendOrder(patience=5), sends) == [("page", n) for n in range(1, 7)]


def test_one_page_waiting_does_not_hold_another_page_or_an_unnumbered_send():
    order = SendOrder(patience=5)
    admitted = run_sends(order, [("a", 2), ("b", 1), (None, None), ("a", 1)])
    assert admitted.index(("b", 1)) < admitted.index(("a", 2))
    assert admitted.index((None, None)) < admitted.index(("a", 2))
    assert admitted.index(("a", 1)) < admitted.index(("a", 2))


def test_a_number_that_never_comes_holds_the_next_only_for_the_patience_then_nothing_is_lost():
    order = SendOrder(patience=0.4)
    started = time.monotonic()
    assert run_sends(order, [("page", 1), ("page", 3)]) == [("page", 1), ("page", 3)]
    waited = time.monotonic() - started
    assert 0.35 < waited < 3
    started = time.monotonic()
    assert run_sends(order, [("page", 2), ("page", 4)]) == [("page", 2), ("page", 4)]
    assert time.monotonic() - started < 0.3  # the late one and the next go straight in


def test_the_page_number_is_read_strictly():
    assert message_number("5") == 5
    assert message_number(" 12 ") == 12
    for not_a_number in ("", None, "-1", "1.5", "x", "9" * 20, "²", "٣"):
        assert message_number(not_a_number) is None
