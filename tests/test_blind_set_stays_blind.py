"""The crisis blind set stays blind: none of its messages, and no run of 8 words of one, appears in
anything the detector was built or tested with (rules, tables, exemplars, training data, dev
sets, tests, coaching scenarios). And the file is the one committed before tuning."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from joi_coach.safety.text_prep import clean, fold

REPO = Path(__file__).resolve().parents[1]
BLIND = REPO / "benchmarks" / "safety" / "blind" / "crisis-blind.jsonl"
BLIND_SHA256 = "84eecd876dbe3a59a5a031057d1613485a5827efa8854dc0980711a172400932"  # docs/benchmarks.md
RUN = 8
SHORTEST = 5  # a shorter message ("ok, thanks") is common talk, not a sign of a leak
SAFETY_CODE = REPO / "extensions" / "joi_coach" / "safety"
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(clean(text)))


def built_with() -> dict[str, str]:
    """Every file the detector was written, trained, tuned or tested with: its words, joined."""
    paths = [
        *SAFETY_CODE.glob("*.py"),
        *SAFETY_CODE.glob("*.yaml"),
        *(SAFETY_CODE / "patterns").glob("*.yaml"),
        *(REPO / "benchmarks" / "safety").glob("*.jsonl"),
        *(REPO / "benchmarks" / "safety" / "train").glob("*.jsonl"),
        *(REPO / "benchmarks" / "scenarios").glob("*.json"),
        *(p for p in (REPO / "tests").rglob("*.py") if p.name != Path(__file__).name),
    ]
    return {p.name: " ".join(words(p.read_text(encoding="utf-8"))) for p in paths}


def blind_messages() -> list[str]:
    items = [json.loads(line) for line in BLIND.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [text for item in items for text in [item["text"], *item.get("context", [])]]


def test_the_blind_set_is_the_file_committed_before_tuning():
    assert hashlib.sha256(BLIND.read_bytes()).hexdigest() == BLIND_SHA256


def test_no_blind_message_or_run_of_8_words_reached_what_the_detector_was_built_with():
    sources = built_with()
    runs: dict[tuple[str, ...], str] = {}
    for name, text in sources.items():
        tokens = text.split()
        for i in range(len(tokens) - RUN + 1):
            runs.setdefault(tuple(tokens[i : i + RUN]), name)
    leaks = []
    for number, message in enumerate(blind_messages(), 1):
        tokens = words(message)
        if len(tokens) < SHORTEST:
            continue
        if len(tokens) < RUN:  # a short message: the whole of it, as a run of words
            needle = f" {' '.join(tokens)} "
            leaks += [
                f"message {number} in {name}" for name, text in sources.items() if needle in f" {text} "
            ]
            continue
        for i in range(len(tokens) - RUN + 1):
            if tuple(tokens[i : i + RUN]) in runs:
                leaks.append(f"message {number} (words {i}–{i + RUN}) in {runs[tuple(tokens[i : i + RUN])]}")
                break
    assert not leaks, "blind-set text found (texts not printed, to keep it blind):\n" + "\n".join(leaks)


def test_the_leak_check_catches_a_copied_message(tmp_path, monkeypatch):
    """The check above can fail: a training file holding one blind message is caught."""
    message = blind_messages()[0]
    train = tmp_path / "benchmarks" / "safety" / "train"
    train.mkdir(parents=True)
    (train / "written-xx.jsonl").write_text(json.dumps({"text": f"so {message} ok", "crisis": True}) + "\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    sources = built_with()
    tokens = words(message)
    needle = " ".join(tokens[:RUN]) if len(tokens) >= RUN else " ".join(tokens)
    assert any(needle in text for text in sources.values())
