"""Where does a reply's prompt first differ from what was read ahead while the person typed?

    .venv/bin/python benchmarks/read_ahead_probe.py [--turns 8] [--typing 8] [--words]

The memory-on conversation of ``latency.py`` (the same messages, reading and typing), on the
real coach and embedded model. Before each send it waits for the read-ahead to stop, then prints
the reply's first prompt in tokens, how many of them the model's KV cache already holds, how many
the last draft's prompt (the message without its last word) shares with it, and the words where
the unread part starts. With ``--words``, also each word's draft against the one before it: how
many tokens of its prompt are new (about 16 when only the last word changed; more when the draft
recalled another memory, from that memory on). Timings are not measured here: the wait before
each send changes them.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from joi_coach.coach import Coach
from joi_coach.config import CoachSettings
from joi_coach.memory.embeddings import Embedder
from joi_coach.persona import Character
from latency import MESSAGES, PROFILE, USER, load_llm, person_types, release
from llama_cpp import Llama


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=len(MESSAGES))
    parser.add_argument("--reading", type=float, default=4.0)
    parser.add_argument("--typing", type=float, default=8.0)
    parser.add_argument("--words", action="store_true", help="tokens each word's draft reads anew")
    args = parser.parse_args()
    base = CoachSettings()
    settings = replace(base, reply=replace(base.reply, temperature=0.0, seed=0))
    llm = load_llm()
    model = llm.backend
    with tempfile.TemporaryDirectory(prefix="joi-read-ahead-") as folder:
        coach = Coach(llm, Embedder(), Path(folder), character=Character.load(), settings=settings)
        coach.bank(PROFILE)
        coach.warm_up()

        def tokens(draft: str) -> list[int]:
            built = coach.draft_prompt(PROFILE, draft, USER, "default")
            assert built is not None
            messages, prefix = built
            return model._prompt_tokens(model.template.render(messages, add_generation_prompt=True) + prefix)

        def anew_per_word(text: str) -> list[str]:
            """Each draft's new tokens and where they start, the drafts built afresh in order."""
            held = dict(coach._drafted)
            coach._drafted.clear()
            words, before, rows = text.split(), None, []
            for n in range(1, len(words) + 1):
                now = tokens(" ".join(words[:n]))
                if before is not None:
                    shared = Llama.longest_token_prefix(before, now)
                    start = model._llama.detokenize(now[shared : shared + 6]).decode("utf-8", "replace")
                    rows.append(f"{len(now) - shared} {start!r}")
                before = now
            coach._drafted.clear()
            coach._drafted.update(held)
            return rows

        try:
            for n, text in enumerate(MESSAGES[: args.turns]):
                if n:
                    time.sleep(args.reading)
                person_types(text, args.typing, lambda draft: coach.prepare(PROFILE, draft, user_name=USER))
                coach._warmer.drop()
                coach._warmer.wait_idle(10)
                held = list(model._llama.input_ids[: model._llama.n_tokens])
                final, last_draft = tokens(text), tokens(" ".join(text.split()[:-1]))
                read = Llama.longest_token_prefix(held, final)
                shared = Llama.longest_token_prefix(last_draft, final)
                rest = model._llama.detokenize(final[read : read + 14]).decode("utf-8", "replace")
                print(
                    f"turn {n + 1}: prompt {len(final)} tokens, read ahead {read}, the last draft shares "
                    f"{shared}; unread from {rest!r}",
                    flush=True,
                )
                if args.words:
                    print(f"  words: {' | '.join(anew_per_word(text))}", flush=True)
                for _ in coach.reply(PROFILE, text, user_name=USER):
                    pass
        finally:
            coach.stop_thinking(30)
            release(llm)


if __name__ == "__main__":
    main()
