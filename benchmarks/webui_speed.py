"""The webui's generation speed with Joi's reply steps, against the same host without Joi.

    .venv/bin/python benchmarks/webui_speed.py [--turns 8] [--max-new-tokens 160]

Both runs drive the test stand-in of text-generation-webui's ``modules`` (the host's chat
pipeline and generation functions) with the host's llama.cpp loader stood in by the embedded
GGUF in this process, on the same messages, settings and seed:

* **without Joi**: no extension; the Joi character card as the context, so the prompt is as long;
* **with Joi**: the extension enabled (background work off, so that only the reply is timed).

Every call of the loader is timed: its decode speed (tokens after the first ÷ the time from
the first token to the last) and its time to the first token (prompt reading). Printed: the
decode speed with Joi ÷ without (what Joi's per-token work costs: the stop cutter, the guard,
the growing reply handed back to the host), the reply's time to its first token and whole
time (Joi's steps read three prompts where the host reads one), and the generated tokens.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "webui" / "host_standin"))
sys.path.insert(0, str(REPO / "tests"))

from joi_coach.llm.embedded import EmbeddedLLM  # noqa: E402
from modules import chat, extensions, shared  # noqa: E402
from webui.conftest import StandInModel, StandInTokenizer, chat_state  # noqa: E402

MESSAGES = [
    "I ran 3k today, the first time in months.",
    "My sister Maya wants to run the 10k with me in May.",
    "I skipped my run yesterday because work ran late again.",
    "I keep saying yes to extra work and then I have no evenings left.",
    "My manager asked me to lead a new project and I don't know if I can say no.",
    "I slept badly and felt flat all day.",
    "I want to start cooking at home more, but I'm tired in the evenings.",
    "I called my dad on Sunday, which I had been putting off for weeks.",
]


class TimedModel(StandInModel):
    """The stood-in loader, timing each call: (tokens, first-token time, decode time, time the
    caller held the stream between tokens). The last part is what the code above the loader
    (the host's chat pipeline, and Joi's steps when enabled) spends per token."""

    def __init__(self, llama) -> None:
        super().__init__(llama)
        self.calls: list[tuple[int, float, float, float]] = []

    def generate_with_streaming(self, prompt, state):
        started, first, last, tokens, held, hold = time.perf_counter(), None, None, 0, 0.0, 0.0
        try:
            for text in super().generate_with_streaming(prompt, state):
                now = time.perf_counter()
                first = now if first is None else first
                last, tokens = now, tokens + 1
                yield text
                hold = time.perf_counter() - now
                held += hold
        finally:
            if first is not None and last is not None:  # the hold after the last token is outside
                self.calls.append((tokens, first - started, last - first, held - hold))


def run(llm: EmbeddedLLM, with_joi: bool, turns: int, max_new_tokens: int, seed: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="joi-webui-speed-"))
    (folder / "extensions").mkdir()
    (folder / "extensions" / "joi_coach").symlink_to(REPO / "extensions" / "joi_coach")
    shared.user_data_dir = folder
    shared.args.extensions = ["joi_coach"] if with_joi else []
    shared.settings = {"joi_coach-background": False}
    model = TimedModel(llm._llama)
    shared.model, shared.model_name = model, "embedded"
    shared.tokenizer = StandInTokenizer(llm._llama)
    extensions.setup_called.clear()
    extensions.load_extensions()
    state = chat_state("Joi", "Sam", "chat")
    state.update(unique_id="speed", seed=seed, max_new_tokens=max_new_tokens, temperature=0.7)
    if not with_joi:
        state["mode"] = "chat-instruct"  # as Joi runs chat mode
    firsts, wholes = [], []
    for message in MESSAGES[:turns]:
        started, first = time.perf_counter(), None
        history = state["history"]
        for history in chat.generate_chat_reply(message, copy.deepcopy(state)):
            if first is None and history["internal"] and history["internal"][-1][1].strip():
                first = time.perf_counter()
        wholes.append(time.perf_counter() - started)
        firsts.append((first or time.perf_counter()) - started)
        state["history"] = history
    if with_joi:
        extensions.state["joi_coach"][2].joi.close()
    decoding = [(n - 1, t, held) for n, _, t, held in model.calls if n > 1 and t > 0]
    decode_s = sum(t for _, t, _ in decoding)
    return {
        "decode_tokens_per_s": sum(n for n, _, _ in decoding) / decode_s,
        "held_share": sum(held for _, _, held in decoding) / decode_s,
        "loader_calls": len(model.calls),
        "tokens": sum(n for n, _, _, _ in model.calls),
        "first_token_s": statistics.median(firsts),
        "whole_reply_s": statistics.median(wholes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=len(MESSAGES))
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    llm = EmbeddedLLM()
    without = run(llm, False, args.turns, args.max_new_tokens, args.seed)
    with_joi = run(llm, True, args.turns, args.max_new_tokens, args.seed)
    print(f"turns: {args.turns}; max new tokens {args.max_new_tokens}; seed {args.seed}")
    print("| | host without Joi | with Joi (steps) |")
    print("|---|---|---|")
    for key, label, unit in (
        ("decode_tokens_per_s", "decode speed", "tokens/s"),
        ("held_share", "share of decode time spent above the loader", ""),
        ("loader_calls", "loader calls", ""),
        ("tokens", "tokens generated", ""),
        ("first_token_s", "reply's first token, median", "s"),
        ("whole_reply_s", "whole reply, median", "s"),
    ):
        digits = 4 if key == "held_share" else 2
        print(f"| {label} | {without[key]:.{digits}f} {unit} | {with_joi[key]:.{digits}f} {unit} |")
    ratio = with_joi["decode_tokens_per_s"] / without["decode_tokens_per_s"]
    print(f"decode speed with Joi ÷ without: {ratio:.3f} (target ≥ 0.95)")
    # The decode speeds above also differ by prompt length (Joi's prompts carry memories and
    # steps; a longer context decodes slower on a CPU). What Joi's own per-token work costs, with
    # the prompts' length set aside: the loader's speed if the code above it took no time.
    own = (1 - with_joi["held_share"]) / (1 - without["held_share"])
    print(f"speed left after the per-token work above the loader, with Joi ÷ without: {own:.3f}")


if __name__ == "__main__":
    main()
