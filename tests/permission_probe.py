"""What Joi does with a data folder it may not write to; run by ``test_damage.py``.

    python tests/permission_probe.py ROOT

``ROOT`` holds ``readonly-profile`` (a complete profile folder: store and vector cache) and
``readonly-data`` (an empty data folder), both already made read-only by the test. This
process must run without the power to ignore file permissions (the test runs it as an
ordinary user, or as root with CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER dropped),
so that every refusal below comes from the kernel, as it would for a person. It prints one
JSON object: for each scenario, the exception raised (type, message, whether it is a
``StoreError``/``ConfigError``) or what happened instead.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["TOKENIZERS_PARALLELISM"] = "false"


def outcome(action) -> dict:
    from joi_coach.app.cli import ConfigError
    from joi_coach.memory.sqlite_store import StoreError

    try:
        result = action()
    except BaseException as exc:
        return {
            "raised": type(exc).__name__,
            "message": str(exc),
            "store_error": isinstance(exc, StoreError),
            "config_error": isinstance(exc, ConfigError),
            "os_error": isinstance(exc, OSError),
        }
    return {"raised": None, "result": result}


def main(root: Path) -> None:
    from joi_coach.app import cli
    from joi_coach.memory.bank import MemoryBank
    from joi_coach.memory.embeddings import Embedder

    report: dict[str, object] = {
        "euid": os.geteuid(),
        "can_write": os.access(root / "readonly-data", os.W_OK),
    }
    embedder = Embedder()

    def open_existing() -> int:
        bank = MemoryBank(root / "readonly-profile", embedder, progress=False)
        try:
            return bank.count()
        finally:
            bank.close()

    def open_new() -> int:
        bank = MemoryBank(root / "readonly-data" / "profiles" / "new-person", embedder, progress=False)
        try:
            return bank.count()
        finally:
            bank.close()

    def reached_the_models(args) -> None:
        raise RuntimeError("the CLI went on to load the models")

    cli.build_coach = reached_the_models  # never load the LLM here

    report["existing profile"] = outcome(open_existing)
    report["new profile"] = outcome(open_new)
    report["cli, data folder cannot be created"] = outcome(
        lambda: cli.main(["--data-dir", str(root / "readonly-data" / "joi")])
    )
    report["cli, data folder read-only"] = outcome(
        lambda: cli.main(["--data-dir", str(root / "readonly-data")])
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
