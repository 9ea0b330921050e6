"""The weekly review: done and missed from the ledger (never from the model), one pattern that
must cite the person's lines, one question; kept as a reflection with its evidence."""

from __future__ import annotations

from joi_coach.cognition.review import REVIEW_MARK, make_review, review_due, store_review
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream

NOW = 1_780_000_000.0
DAY = 86400.0


def week(tmp_path, embedder) -> tuple[MemoryBank, list[int]]:
    bank = MemoryBank(tmp_path, embedder, progress=False)
    texts = [
        "I'll run on Monday and Thursday",
        "mornings are so hard for me",
        "skipped Thursday, too tired in the morning",
    ]
    bank.add([NewMemory(Stream.DIALOGUE, "I want to get fitter this spring", NOW - 10 * DAY, speaker="Ann")])
    ids = bank.add(
        [NewMemory(Stream.DIALOGUE, t, NOW - (6 - i * 2) * DAY, speaker="Ann") for i, t in enumerate(texts)]
    )
    monday = bank.plans.add("commitment", "run on Monday", NOW - 6 * DAY, evidence=[ids[0]], by="joi")
    thursday = bank.plans.add("commitment", "run on Thursday", NOW - 6 * DAY, evidence=[ids[0]], by="joi")
    bank.plans.set_status(monday.id, "done", NOW - 5 * DAY)
    bank.plans.set_status(thursday.id, "missed", NOW - 3 * DAY, evidence=[ids[2]])
    return bank, ids


def test_a_review_names_what_was_done_and_missed_and_cites_its_pattern(tmp_path, embedder):
    bank, ids = week(tmp_path, embedder)
    try:
        assert review_due(bank, "Joi", NOW)
        answer = "PATTERN: Mornings are the hard part of Ann's week [2, 3]\nQUESTION: What could make mornings easier?"
        review = make_review(bank, lambda messages, params: answer, "Ann", "Joi", NOW)
        assert review is not None
        assert "Done: run on Monday." in review.text and "Missed: run on Thursday." in review.text
        assert (
            "Pattern: Mornings are the hard part" in review.text
            and "Question: What could make mornings easier?" in review.text
        )
        assert set(review.evidence) == {ids[0], ids[1], ids[2]}
        memory = store_review(bank, review, NOW)
        assert memory.stream is Stream.REFLECTION and set(memory.evidence) == set(review.evidence)
        assert bank.get_meta(REVIEW_MARK) == str(NOW) and not review_due(bank, "Joi", NOW + DAY)
    finally:
        bank.close()


def test_a_pattern_that_cites_no_line_shown_is_dropped(tmp_path, embedder):
    bank, _ = week(tmp_path, embedder)
    try:
        review = make_review(
            bank, lambda m, p: "PATTERN: Ann hates running [42]\nQUESTION: Why?", "Ann", "Joi", NOW
        )
        assert review is not None and "Pattern" not in review.text and "hates" not in review.text
    finally:
        bank.close()
