"""A real multi-turn conversation with Joi on the embedded CPU model, showing the memory at work.

    python scripts/demo_conversation.py [--data-dir DIR] [--model PATH.gguf]

Prints each reply as it streams (thoughts apart from the dialogue), what was recalled and
why, then the importance ratings filled in afterwards and the reflections with evidence.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from joi_coach.coach import Coach, Recalled, TurnDone
from joi_coach.cognition.voices import Section, VoiceDelta
from joi_coach.config import CoachSettings
from joi_coach.llm.embedded import EmbeddedLLM
from joi_coach.memory.embeddings import Embedder
from joi_coach.memory.models import Stream

MESSAGES = [
    "My grandmother passed away last month and I keep putting off calling my mum about the funeral costs.",
    "Also I had toast for breakfast, nothing special.",
    "I want to start running again, I used to run 5k three times a week before all this.",
    "Work has been rough too, my manager keeps moving my deadlines.",
    "Do you remember what I told you about my family?",
]


def show_recalled(event: Recalled) -> None:
    for stream, items in event.memories.items():
        for item in items:
            s = item.score
            print(
                f"   recalled [{stream.value:<11}] #{item.memory.id:<3} total={s.total:.2f} "
                f"rel={s.relevance:.2f} lex={s.lexical:.2f} rec={s.recency:.2f} imp={s.importance:.2f}  "
                f"{item.memory.text[:60]!r}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--model", default=None, help="a GGUF file (default: the embedded model)")
    parser.add_argument("--reflection-threshold", type=int, default=25)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="joi-demo-"))
    settings = CoachSettings()
    settings = replace(settings, reflection=replace(settings.reflection, threshold=args.reflection_threshold))
    coach = Coach(EmbeddedLLM(args.model), Embedder(), data_dir, settings=settings)
    now = time.time()
    for n, message in enumerate(MESSAGES):
        print(f"\nYou: {message}")
        current = None
        for event in coach.reply("demo", message, user_name="Sam", now=now + n * 600):
            if isinstance(event, Recalled):
                show_recalled(event)
            elif isinstance(event, VoiceDelta):
                if event.section is not current:
                    current = event.section
                    label = {Section.EMPATHETIC: "(empathetic)", Section.THERAPEUTIC: "(therapist)"}
                    print(f"\n   {label.get(current, 'Joi:')} ", end="")
                print(event.text, end="", flush=True)
            elif isinstance(event, TurnDone):
                t = event.turn.timings_ms
                print(
                    f"\n   [recall {t['recall']:.0f} ms, first token {t.get('first_token', 0):.0f} ms, "
                    f"total {t['total']:.0f} ms]"
                )
        coach.wait_idle(timeout=600)
    bank = coach.bank("demo")
    print("\nImportance filled in after the replies:")
    for memory in bank.memories(limit=200, newest_first=False):
        if memory.stream is not Stream.REFLECTION:
            print(
                f"   #{memory.id:<3} {memory.stream.value:<11} importance={memory.importance} "
                f"({memory.importance_source})  {memory.text[:60]!r}"
            )
    print("\nReflections (with their evidence):")
    for memory in bank.memories(Stream.REFLECTION, limit=50, newest_first=False):
        print(f"   #{memory.id} depth={memory.depth} evidence={list(memory.evidence)}  {memory.text!r}")
    counts = {s.value: bank.count(s) for s in Stream}
    print(f"\nMemories per stream: {counts}\nData folder: {data_dir}")
    coach.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
