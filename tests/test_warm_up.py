"""Warming the models up at start: each embedding model runs once, and nothing of it is kept."""

from __future__ import annotations

import logging

from joi_coach.coach import Coach
from scripted_llm import ScriptedLLM


def test_warming_up_runs_each_model_once_and_keeps_nothing(tmp_path, embedder, monkeypatch, caplog):
    coach = Coach(ScriptedLLM([]), embedder, tmp_path / "data")
    detector = coach.crisis_detector
    encoded: list[list[str]] = []
    real_encode = embedder._encode
    monkeypatch.setattr(
        embedder, "_encode", lambda texts, *a: encoded.append(texts) or real_encode(texts, *a)
    )
    across = detector._across
    assert across is not None, "the shipped classifier reads across languages"
    read_across: list[list[str]] = []
    real_across = across.embed
    monkeypatch.setattr(across, "embed", lambda texts: read_across.append(texts) or real_across(texts))
    with caplog.at_level(logging.INFO, logger="joi_coach.coach"):
        coach.warm_up_in_background().join(timeout=60)
    assert len(encoded) == 2 and len(read_across) == 1  # recall's query, the screen's passage, USE
    assert "models warmed up" in caplog.text
    assert not detector._concerns, "no message was screened or remembered"
    assert not (tmp_path / "data" / "profiles").exists() or not any(
        (tmp_path / "data" / "profiles").iterdir()
    )
    assert coach.llm.backend.calls == []


def test_a_failed_warm_up_is_logged_and_harmless(tmp_path, embedder, monkeypatch, caplog):
    coach = Coach(ScriptedLLM([]), embedder, tmp_path / "data")

    def broken(texts, *args):
        raise RuntimeError("no model")

    monkeypatch.setattr(embedder, "_encode", broken)
    with caplog.at_level(logging.WARNING, logger="joi_coach.coach"):
        coach.warm_up()
    assert "warming the models up failed (RuntimeError)" in caplog.text
