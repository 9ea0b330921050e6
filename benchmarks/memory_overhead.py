"""Per-turn memory overhead and store opening time at 1k / 10k / 100k memories.

    python benchmarks/memory_overhead.py [--sizes 1000,10000,100000] [--queries 50]

Memories are real LoCoMo dialogue lines (reused with variations to reach the size), spread
over the four streams; their vectors are the real MiniLM embeddings of those lines with a
little noise per copy, so nothing has to embed 100k texts. A "turn" here is what the reply
path does before the model runs: embed the message, retrieve every stream, build the prompt.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from joi_coach.cognition.prompt import build_messages
from joi_coach.config import CoachSettings
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.embeddings import Embedder
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.persona import Character

STREAM_SHARE = [
    (Stream.DIALOGUE, 0.5),
    (Stream.EMPATHETIC, 0.2),
    (Stream.THERAPEUTIC, 0.2),
    (Stream.REFLECTION, 0.1),
]


def load_lines(cases: Path) -> tuple[list[str], list[str]]:
    data = json.loads(cases.read_text(encoding="utf-8"))
    lines = [m["text"] for case in data["cases"] for m in case["memories"]]
    queries = [q["text"] for case in data["cases"] for q in case["queries"]]
    return lines, queries


def fill(
    bank: MemoryBank, size: int, lines: list[str], vectors: np.ndarray, rng: np.random.Generator
) -> None:
    now = time.time()
    streams = rng.choice([s.value for s, _ in STREAM_SHARE], size=size, p=[p for _, p in STREAM_SHARE])
    for start in range(0, size, 2000):
        batch = range(start, min(size, start + 2000))
        picks = rng.integers(0, len(lines), size=len(batch))
        noisy = vectors[picks] + rng.normal(scale=0.02, size=(len(batch), vectors.shape[1])).astype(
            np.float32
        )
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        memories = [
            NewMemory(
                Stream(streams[i]),
                f"{lines[p]} (#{i})",
                now - (size - i) * 600.0,
                importance=int(rng.integers(1, 11)),
                importance_source="bench",
            )
            for i, p in zip(batch, picks, strict=True)
        ]
        bank.add(memories, noisy.astype(np.float32))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared/data/recall-cases/locomo-dev.json",
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()

    lines, queries = load_lines(args.cases)
    embedder = Embedder()
    vectors = embedder.embed_passages(lines)
    settings = CoachSettings()
    character = Character.load()
    rng = np.random.default_rng(0)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="joi-overhead-") as folder:
            started = time.perf_counter()
            bank = MemoryBank(Path(folder), embedder, settings.retrieval, progress=False)
            fill(bank, size, lines, vectors, rng)
            ingest_s = time.perf_counter() - started
            bank.close()
            started = time.perf_counter()
            bank = MemoryBank(Path(folder), embedder, settings.retrieval, progress=False)
            open_s = time.perf_counter() - started
            assert bank.index.loaded_from_cache
            timings = []
            for query in queries[: args.queries]:
                t0 = time.perf_counter()
                recalled = bank.recall(query, settings.k)
                build_messages(character, "Sam", recalled, [], query, time.time())
                timings.append((time.perf_counter() - t0) * 1000)
            bank.store.close()
            # the same store without its cache files: the rebuild path after a crash
            for path in Path(folder).glob("vectors*"):
                path.unlink()
            started = time.perf_counter()
            MemoryBank(Path(folder), embedder, settings.retrieval, progress=False).store.close()
            rebuild_s = time.perf_counter() - started
        rows.append((size, statistics.median(timings), percentile(timings, 95), open_s, rebuild_s, ingest_s))
        print(
            f"{size:>7} memories: turn overhead median {rows[-1][1]:.1f} ms, p95 {rows[-1][2]:.1f} ms; "
            f"open {open_s:.2f} s (cache) / {rebuild_s:.2f} s (rebuild); ingest {ingest_s:.1f} s",
            flush=True,
        )
    print("\n| memories | overhead median (ms) | p95 (ms) | open with cache (s) | open, cache rebuilt (s) |")
    print("|---|---|---|---|---|")
    for size, median, p95, open_s, rebuild_s, _ in rows:
        print(f"| {size:,} | {median:.1f} | {p95:.1f} | {open_s:.2f} | {rebuild_s:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
