"""What Joi's hooks add to a webui turn, before and after the host's own generation.

    python benchmarks/webui_hooks.py [--sizes 1000,10000] [--turns 30]

The extension is loaded by the test stand-in of the webui's ``modules`` (no model: the
generation itself is not part of this), the profile is filled with real LoCoMo lines (see
memory_overhead.py), and each turn runs the hooks in the host's order with a real message:
history_modifier -> state_modifier (recall for the last message) -> chat_input_modifier (recall for the new
one, store it) -> bot_prefix_modifier -> output_modifier (split and store a 3-part reply).
"""

from __future__ import annotations

import argparse
import html
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "webui" / "host_standin"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from memory_overhead import fill, load_lines  # noqa: E402
from modules import extensions, shared  # noqa: E402
from webui.conftest import chat_state  # noqa: E402

REPLY = "Sam feels stuck.\nTherapist voice: I will ask about mornings.\n</think>\nWhat do your mornings look like?"


def run(size: int, turns: int, lines: list[str], queries: list[str]) -> dict[str, float]:
    user_data = Path(tempfile.mkdtemp(prefix="joi-hooks-bench-"))
    try:
        (user_data / "extensions").mkdir()
        (user_data / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
        shared.user_data_dir, shared.args.extensions = user_data, ["joi_coach"]
        shared.settings = {"joi_coach-background": False}
        extensions.setup_called.clear()
        extensions.load_extensions()
        script = extensions.state["joi_coach"][2]
        coach = script.joi.coach
        vectors = coach.embedder.embed_passages(lines)
        fill(coach.bank("Sam & Joi"), size, lines, vectors, np.random.default_rng(7))
        timings: dict[str, list[float]] = {"state": [], "chat_input": [], "output": [], "total": []}
        history = {"internal": [["Hello", "Hi Sam."]], "visible": [["Hello", "Hi Sam."]], "metadata": {}}
        for n in range(turns):
            message = queries[n % len(queries)]
            start = time.perf_counter()
            script.history_modifier(history)  # the host starts a chat turn with this hook
            state = script.state_modifier({**chat_state("Joi", "Sam", "chat"), "history": history})
            after_state = time.perf_counter()
            script.chat_input_modifier(message, html.escape(message), state)
            after_input = time.perf_counter()
            script.bot_prefix_modifier("", state)
            script.output_modifier(html.escape(REPLY), state, is_chat=True)
            end = time.perf_counter()
            for key, value in (
                ("state", after_state - start),
                ("chat_input", after_input - after_state),
                ("output", end - after_input),
                ("total", end - start),
            ):
                timings[key].append(value * 1000)
            history = {**history, "internal": [*history["internal"], [message, REPLY]]}
        script.joi.close()
        return {key: statistics.median(values) for key, values in timings.items()}
    finally:
        shutil.rmtree(user_data, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases", type=Path, default=REPO.parent / "shared/data/recall-cases/locomo-dev.json"
    )
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    lines, queries = load_lines(args.cases)
    print(
        "| memories | state_modifier (ms) | chat_input_modifier (ms) | output_modifier (ms) | all hooks (ms) |"
    )
    print("|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        m = run(size, args.turns, lines[:2000], queries)
        print(
            f"| {size:,} | {m['state']:.1f} | {m['chat_input']:.1f} | {m['output']:.1f} | {m['total']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
