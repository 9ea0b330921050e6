"""The engine stays host-independent and safe to hand user files to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "extensions" / "joi_coach"


def test_engine_imports_neither_gradio_nor_the_host():
    code = (
        "import sys, joi_coach.coach, joi_coach.llm.embedded, joi_coach.llm.openai_compat\n"
        "import joi_coach.webui.extension, joi_coach.webui.turns, joi_coach.webui.host_generation\n"
        "bad = [m for m in sys.modules if m == 'gradio' or m.startswith(('gradio.', 'modules.'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_unsafe_deserialisation_in_the_product():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in (
            "import pickle",
            "import cPickle",
            "import dill",
            "import joblib",
            "torch.load(",
            "allow_dangerous_deserialization=True",
            "allow_pickle=True",
        ):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []
