"""The learned opinion: its weights file, its training, and what it adds on the real embedder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from joi_coach.safety.classifier import CLASSES, SHIPPED_WEIGHTS, ClassifierError, CrisisClassifier
from joi_coach.safety.detection import CrisisDetector

REPO = Path(__file__).resolve().parents[1]


def random_classifier(seed: int = 0) -> CrisisClassifier:
    rng = np.random.default_rng(seed)
    sparse = np.zeros((len(CLASSES), 1 << 12), np.float32)
    columns = rng.choice(1 << 12, 300, replace=False)
    sparse[:, columns] = rng.normal(size=(len(CLASSES), 300))
    dense = rng.normal(size=(len(CLASSES), 8)).astype(np.float32)
    return CrisisClassifier(
        sparse,
        dense,
        rng.normal(size=len(CLASSES)).astype(np.float32),
        bits=12,
        dense_scale=1.5,
        embedder_id="e",
    )


def test_weights_come_back_from_their_file_as_they_were_written(tmp_path):
    model = random_classifier()
    model.save(tmp_path / "w.safetensors", {"note": "test"})
    again = CrisisClassifier.load(tmp_path / "w.safetensors")
    assert np.abs(again.sparse - model.sparse).max() < 0.01  # float16 on disk
    assert np.abs(again.dense - model.dense).max() < 0.01
    assert again.bits == 12 and again.embedder_id == "e"
    vector = np.ones(8, np.float32) / np.sqrt(8)
    assert again.opinion("hello there", vector).crisis == pytest.approx(
        model.opinion("hello there", vector).crisis, abs=0.01
    )


def test_a_file_that_is_not_weights_is_refused_clearly(tmp_path):
    bad = tmp_path / "w.safetensors"
    bad.write_bytes(b"\x00" * 16)
    with pytest.raises(ClassifierError, match="cannot use the crisis classifier"):
        CrisisClassifier.load(bad)
    with pytest.raises(ClassifierError):
        CrisisClassifier.load(tmp_path / "missing.safetensors")


def test_the_detector_works_on_without_a_usable_classifier(embedder, monkeypatch):
    other = random_classifier()  # trained with another embedding model: not used
    detector = CrisisDetector(embedder, classifier=other)
    assert not detector.uses_classifier
    assert detector.check("I am going to kill myself tonight") is not None


def test_the_training_script_rebuilds_the_shipped_weights():
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "train_crisis_classifier.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "largest weight difference" in done.stdout


def test_the_shipped_model_was_trained_with_the_project_embedder(embedder):
    shipped = CrisisClassifier.load(SHIPPED_WEIGHTS)
    assert shipped.embedder_id == embedder.model_id
    assert CrisisDetector(embedder).uses_classifier


@pytest.mark.parametrize(
    "text",
    [
        "Ich hab die Tabletten schon seit Wochen gesammelt und heute ist der Tag.",
        "Je n'ai plus aucune raison de rester, j'ai tout réglé pour après.",
        "Ya dejé todo ordenado para cuando no esté, nadie me va a extrañar.",
    ],
)
def test_crises_in_other_languages_are_caught_by_the_learned_opinion_or_the_tables(embedder, text):
    assert CrisisDetector(embedder).check(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "Heute bin ich zum ersten Mal seit Monaten wieder 5 km gelaufen.",
        "Je voudrais me coucher plus tôt et lire un peu avant de dormir.",
        "Mañana empiezo a ir al gimnasio con mi hermana, qué ilusión.",
    ],
)
def test_everyday_messages_in_other_languages_are_left_alone(embedder, text):
    assert CrisisDetector(embedder).check(text) is None


VEILED = "soon none of this will be my problem"


def test_a_veiled_message_is_read_with_the_persons_earlier_turns(embedder):
    detector = CrisisDetector(embedder)
    assert detector.check(VEILED) is None, "alone, it is not enough"
    worrying = [
        "I have given away most of my things this week",
        "I wrote goodbye letters to my family last night",
    ]
    signal = detector.check(VEILED, worrying)
    assert signal is not None and signal.reason.startswith("context:")
    harmless = ["our team went out of the cup tonight", "the coach shouted at us all evening"]
    assert detector.check(VEILED, harmless) is None


@pytest.mark.parametrize(
    ("earlier", "text"),
    [
        (
            ["I have given away most of my things this week", "I sorted out who gets what"],
            "ok. what should I do",
        ),
        (["j'ai rendu les clés et donné mes affaires", "j'ai tout rangé chez moi"], "c'est calme ici"),
    ],
)
def test_a_short_flat_message_is_read_with_its_turns_even_when_it_scores_low_alone(embedder, earlier, text):
    """A flat message ("what should I do") scores near nothing alone, and the veiled turns
    before it brought no card either; together they decide (the context rule once skipped
    every message scoring under 0.3 alone)."""
    detector = CrisisDetector(embedder)
    assert [detector.check(turn) for turn in earlier] == [None, None]
    assert detector.check(text) is None
    signal = detector.check(text, earlier)
    assert signal is not None and signal.reason.startswith("context:"), signal


def test_a_turn_that_brought_the_card_does_not_flag_the_messages_after_it(embedder):
    """The card was shown for the explicit turn; the next message is judged on its own."""
    detector = CrisisDetector(embedder)
    crisis = "I don't want to be alive anymore. I've been thinking about how I would do it."
    assert detector.check(crisis) is not None
    after = "This deadline is killing me, but I think I'll make it if I start early tomorrow."
    assert detector.check(after, [crisis]) is None


def test_the_coach_screens_a_message_with_the_turns_before_it(tmp_path, embedder):
    from dataclasses import replace

    from joi_coach.coach import Coach
    from joi_coach.config import CoachSettings
    from joi_coach.llm.priority import PriorityLLM
    from joi_coach.memory.models import Stream
    from scripted_llm import ScriptedLLM

    settings = replace(CoachSettings(), background=False)
    coach = Coach(
        PriorityLLM(ScriptedLLM([]), idle_before_background=0.0), embedder, tmp_path, settings=settings
    )
    try:
        bank = coach.bank("sam")
        for n, text in enumerate(
            [
                "I took my cat to my brother for good this morning",
                "I have written a letter to each of my kids",
            ]
        ):
            coach.remember_message(bank, text, "Sam", "c1", 1_700_000_000 + n, embedder.embed_query(text))
        assert coach.earlier_messages(bank, "c1", "Sam", VEILED) == [
            "I took my cat to my brother for good this morning",
            "I have written a letter to each of my kids",
        ]
        assert coach.earlier_messages(bank, "other", "Sam", VEILED) == []
        assert [m.text for m in bank.memories(Stream.DIALOGUE, conversation="c1")]
    finally:
        coach.close()
