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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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


def measure_sizes(
    sizes: Sequence[int], queries_n: int, cases: Path, embedder: Embedder, character: Character
) -> list[dict[str, Any]]:
    """Per size: overhead per turn (median, p95), opening with and without the cache, ingest time."""
    lines, queries = load_lines(cases)
    vectors = embedder.embed_passages(lines)
    settings = CoachSettings()
    rng = np.random.default_rng(0)
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="joi-overhead-") as folder:
            started = time.perf_counter()
            bank = MemoryBank(Path(folder), embedder, settings.retrieval, progress=False)
            fill(bank, size, lines, vectors, rng)
            ingest_s = time.perf_counter() - started
            bank.close()
            started = time.perf_counter()
            bank = MemoryBank(Path(folder), embedder, settings.retrieval, progress=False)
            open_s = time.perf_counter() - started
            cached = bool(bank.cache_was_loaded)
            timings = []
            for query in queries[:queries_n]:
                t0 = time.perf_counter()
                recalled = bank.recall(query, settings.k)
                build_messages(character, "Sam", recalled, [], query, time.time())
                timings.append((time.perf_counter() - t0) * 1000)
            bank.close()
            for path in Path(folder).glob("vectors*"):  # the rebuild path after a crash
                path.unlink()
            started = time.perf_counter()
            MemoryBank(Path(folder), embedder, settings.retrieval, progress=False).close()
            rebuild_s = time.perf_counter() - started
        row = {
            "memories": size,
            "overhead_median_ms": statistics.median(timings),
            "overhead_p95_ms": percentile(timings, 95),
            "queries": len(timings),
            "open_cached_s": open_s,
            "opened_from_cache": cached,
            "open_rebuild_s": rebuild_s,
            "ingest_s": ingest_s,
        }
        rows.append(row)
        print(
            f"  {size:>7,} memories: overhead median {row['overhead_median_ms']:.1f} ms, "
            f"p95 {row['overhead_p95_ms']:.1f} ms ({len(timings)} queries); open {open_s:.2f} s "
            f"(cache{'' if cached else ' NOT used'}) / {rebuild_s:.2f} s (rebuild); ingest {ingest_s:.1f} s",
            flush=True,
        )
    return rows


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

    embedder = Embedder()
    rows = measure_sizes(
        [int(s) for s in args.sizes.split(",")], args.queries, args.cases, embedder, Character.load()
    )
    print("\n| memories | overhead median (ms) | p95 (ms) | open with cache (s) | open, cache rebuilt (s) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['memories']:,} | {r['overhead_median_ms']:.1f} | {r['overhead_p95_ms']:.1f} "
            f"| {r['open_cached_s']:.2f} | {r['open_rebuild_s']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
