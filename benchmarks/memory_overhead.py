"""Per-turn memory overhead and store opening time at 1k / 10k / 100k memories.

    python benchmarks/memory_overhead.py [--sizes 1000,10000,100000] [--queries 50] [--variants plain,encrypted]
    python benchmarks/memory_overhead.py --compare-encryption --sizes 1000,10000

Memories are real LoCoMo dialogue lines (reused with variations to reach the size), spread
over the four streams; their vectors are the real MiniLM embeddings of those lines with a
little noise per copy, so nothing has to embed 100k texts. A "turn" here is what the reply
path does before the model runs: embed the message, retrieve every stream, build the prompt;
"store" is what it does after: the message, the reply and its two thoughts written in one
transaction each (message; reply with thoughts), as the coach does. The "encrypted" variant
runs the same in a data folder with a passphrase (SQLCipher store, sealed cache files).
The overhead is reported whole and without the query embedding (timed apart, the rest given
the vector), with the load average of the machine while it ran.

    python benchmarks/memory_overhead.py --levers --sizes 10000,100000 [--queries 50]

measures the retrieval levers on one store per size, query by query in alternation (so each
sees the same machine load): the previous retrieval (one FTS5 query per stream with every
word, every candidate read whole, FAISS on its default OpenMP threads) against today's, and
the lexical step alone four ways (per stream / one query, every word / common words left
out), and how often both retrievals recall the same memories.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
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
from joi_coach.memory.bank import STORE_FILE, MemoryBank
from joi_coach.memory.embeddings import Embedder
from joi_coach.memory.migrations import CHECKSUM_MISMATCH, register_functions
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.retrieval import Recollection
from joi_coach.memory.scoring import SECONDS_PER_HOUR, combine
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


def load() -> float:
    """The 1-minute load average (on 2 cores, above 2 means the timings wait for a core)."""
    return os.getloadavg()[0]


def bank_folder(root: Path, encrypted: bool) -> str:
    """The profile folder to measure in: inside an encrypted data folder for that variant."""
    if not encrypted:
        return str(root)
    from joi_coach.memory import encryption

    encryption.set_passphrase(root, "benchmark passphrase", cost=2**14)
    return str(root / "profiles" / "bench")


def checksum_scan_s(database: Path) -> float:
    """The time of the check every open makes: each memory's words against their checksum."""
    db = sqlite3.connect(database)
    try:
        register_functions(db)
        started = time.perf_counter()
        db.execute(f"SELECT COUNT(*) FROM memories WHERE {CHECKSUM_MISMATCH}").fetchone()
        return time.perf_counter() - started
    finally:
        db.close()


def store_turn(bank: MemoryBank, vectors: np.ndarray, rng: np.random.Generator, query: str) -> None:
    """What the coach writes for one turn: the message, then the reply with its two thoughts."""
    now = time.time()
    picks = rng.integers(0, len(vectors), size=4)
    bank.add([NewMemory(Stream.DIALOGUE, query, now, speaker="Sam")], vectors[picks[:1]])
    bank.add(
        [
            NewMemory(Stream.DIALOGUE, "Reply line.", now, speaker="Joi", context=query),
            NewMemory(Stream.EMPATHETIC, "Empathetic thought.", now, speaker="Joi", context=query),
            NewMemory(Stream.THERAPEUTIC, "Therapeutic thought.", now, speaker="Joi", context=query),
        ],
        vectors[picks[1:]],
    )


def measure_sizes(
    sizes: Sequence[int],
    queries_n: int,
    cases: Path,
    embedder: Embedder,
    character: Character,
    *,
    encrypted: bool = False,
) -> list[dict[str, Any]]:
    """Per size: overhead per turn (median, p95), opening with and without the cache, ingest time."""
    lines, queries = load_lines(cases)
    vectors = embedder.embed_passages(lines)
    settings = CoachSettings()
    rng = np.random.default_rng(0)
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="joi-overhead-") as root:
            folder = bank_folder(Path(root), encrypted)
            started = time.perf_counter()
            bank = MemoryBank(Path(folder), embedder, settings.retrieval, progress=False)
            fill(bank, size, lines, vectors, rng)
            ingest_s = time.perf_counter() - started
            bank.close()
            started = time.perf_counter()
            bank = MemoryBank(Path(folder), embedder, settings.retrieval, progress=False)
            open_s = time.perf_counter() - started
            cached = bool(bank.cache_was_loaded)
            timings, embeds, rests, stores, loads = [], [], [], [], [load()]
            for query in queries[:queries_n]:
                t0 = time.perf_counter()
                query_vector = embedder.embed_query(query)
                t1 = time.perf_counter()
                recalled = bank.recall(query, settings.k, query_vector=query_vector)
                build_messages(character, "Sam", recalled, [], query, time.time())
                t2 = time.perf_counter()
                embeds.append((t1 - t0) * 1000)
                rests.append((t2 - t1) * 1000)
                timings.append((t2 - t0) * 1000)
                t0 = time.perf_counter()
                store_turn(bank, vectors, rng, query)
                stores.append((time.perf_counter() - t0) * 1000)
            loads.append(load())
            bank.close()
            for path in Path(folder).glob("vectors*"):  # the rebuild path after a crash
                path.unlink()
            started = time.perf_counter()
            MemoryBank(Path(folder), embedder, settings.retrieval, progress=False).close()
            rebuild_s = time.perf_counter() - started
            # (of the open: the checksum scan; a plain store only, SQLCipher needs the key)
            scan_s = None if encrypted else checksum_scan_s(Path(folder) / STORE_FILE)
        row = {
            "variant": "encrypted" if encrypted else "plain",
            "memories": size,
            "store_median_ms": statistics.median(stores),
            "store_p95_ms": percentile(stores, 95),
            "overhead_median_ms": statistics.median(timings),
            "overhead_p95_ms": percentile(timings, 95),
            "embed_median_ms": statistics.median(embeds),
            "no_embed_median_ms": statistics.median(rests),
            "no_embed_p95_ms": percentile(rests, 95),
            "load": max(loads),
            "queries": len(timings),
            "open_cached_s": open_s,
            "opened_from_cache": cached,
            "open_rebuild_s": rebuild_s,
            "checksum_scan_s": scan_s,
            "ingest_s": ingest_s,
        }
        rows.append(row)
        print(
            f"  {row['variant']:>9} {size:>7,} memories: overhead median {row['overhead_median_ms']:.1f} ms, "
            f"p95 {row['overhead_p95_ms']:.1f} ms ({len(timings)} queries; without the embedding "
            f"{row['no_embed_median_ms']:.1f} / {row['no_embed_p95_ms']:.1f} ms, embedding "
            f"{row['embed_median_ms']:.1f} ms; load {row['load']:.1f}); store median "
            f"{row['store_median_ms']:.1f} ms, p95 {row['store_p95_ms']:.1f} ms; open {open_s:.2f} s "
            f"(cache{'' if cached else ' NOT used'}) / {rebuild_s:.2f} s (rebuild)"
            + ("" if scan_s is None else f"; checksum scan (part of every open) {scan_s * 1000:.0f} ms")
            + f"; ingest {ingest_s:.1f} s",
            flush=True,
        )
    return rows


def compare_encryption(
    sizes: Sequence[int], queries_n: int, cases: Path, embedder: Embedder, character: Character
) -> list[dict[str, Any]]:
    """The cost of encryption at rest on a turn: the same store plain and encrypted, measured
    turn by turn in alternation (so both see the same machine load). Per turn: embed the
    message once (shared), then per variant retrieve + build the prompt + store the turn."""
    lines, queries = load_lines(cases)
    vectors = embedder.embed_passages(lines)
    settings = CoachSettings()
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="joi-overhead-") as root:
            banks = {}
            for variant in ("plain", "encrypted"):
                folder = Path(bank_folder(Path(root) / variant, variant == "encrypted"))
                banks[variant] = MemoryBank(folder, embedder, settings.retrieval, progress=False)
                fill(banks[variant], size, lines, vectors, np.random.default_rng(0))
            embed_ms: list[float] = []
            turn_ms: dict[str, list[float]] = {v: [] for v in banks}
            store_ms: dict[str, list[float]] = {v: [] for v in banks}
            for n, query in enumerate(queries[:queries_n]):
                t0 = time.perf_counter()
                query_vector = embedder.embed_query(query)
                embed_ms.append((time.perf_counter() - t0) * 1000)
                order = list(banks) if n % 2 == 0 else list(reversed(banks))
                for variant in order:
                    bank = banks[variant]
                    t0 = time.perf_counter()
                    recalled = bank.recall(query, settings.k, query_vector=query_vector)
                    build_messages(character, "Sam", recalled, [], query, time.time())
                    t1 = time.perf_counter()
                    store_turn(bank, vectors, np.random.default_rng(n), query)
                    t2 = time.perf_counter()
                    turn_ms[variant].append((t2 - t0) * 1000)
                    store_ms[variant].append((t2 - t1) * 1000)
            for bank in banks.values():
                bank.close()
        embed = statistics.median(embed_ms)
        row: dict[str, Any] = {"memories": size, "embed_median_ms": embed, "queries": len(embed_ms)}
        for variant in banks:
            row[f"{variant}_memory_ms"] = statistics.median(turn_ms[variant])
            row[f"{variant}_store_ms"] = statistics.median(store_ms[variant])
            row[f"{variant}_turn_ms"] = embed + row[f"{variant}_memory_ms"]
        row["turn_overhead_pct"] = 100 * (row["encrypted_turn_ms"] / row["plain_turn_ms"] - 1)
        row["memory_overhead_pct"] = 100 * (row["encrypted_memory_ms"] / row["plain_memory_ms"] - 1)
        rows.append(row)
        print(
            f"  {size:>7,} memories: embed {embed:.1f} ms; retrieve+prompt+store plain "
            f"{row['plain_memory_ms']:.1f} ms (store {row['plain_store_ms']:.1f}), encrypted "
            f"{row['encrypted_memory_ms']:.1f} ms (store {row['encrypted_store_ms']:.1f}); turn overhead "
            f"+{row['turn_overhead_pct']:.1f}% (memory part +{row['memory_overhead_pct']:.1f}%)",
            flush=True,
        )
    return rows


def previous_recall(
    bank: MemoryBank, query: str, query_vector: np.ndarray, k_per_stream: dict[Stream, int], now: float
) -> dict[Stream, list[Recollection]]:
    """The retrieval as it was before issue 24, for comparison on the same store: per stream
    one FTS5 query with every word, FAISS on its default OpenMP threads, the vectors of the
    other candidates read from SQLite, every candidate read whole and given a breakdown."""
    import faiss

    store, index, settings = bank._store, bank._index, bank.settings  # private parts: a benchmark
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    recalled = {}
    for stream, k in k_per_stream.items():
        pool = max(settings.candidate_pool, 4 * k)
        similarity = dict(index.search(stream, query_vector, pool))
        bm25 = dict(store.lexical_search(stream, query, pool, settings.context_weight, drop_common=False))
        candidates = set(similarity) | set(bm25)
        candidates.update(store.most_recent(stream, pool // 4))
        candidates.update(store.most_important(stream, pool // 4))
        missing = [i for i in candidates if i not in similarity]
        q = query_vector.astype(np.float32).ravel()
        similarity.update((i, float(v @ q)) for i, v in store.vectors_for(missing).items())
        memories = store.get(sorted(candidates))
        scores = combine(
            similarity=np.array([similarity.get(m.id, 0.0) for m in memories]),
            bm25=np.array([bm25.get(m.id, 0.0) for m in memories]),
            hours_since_access=np.array([(now - m.last_accessed) / SECONDS_PER_HOUR for m in memories]),
            importance=np.array([np.nan if m.importance is None else m.importance for m in memories]),
            weights=settings.weights,
            decay_per_hour=settings.decay_per_hour,
            neutral_importance=settings.neutral_importance,
        )
        recalled[stream] = sorted(
            (Recollection(m, sc) for m, sc in zip(memories, scores, strict=True)),
            key=lambda r: (-r.score.total, -r.memory.created_at, -r.memory.id),
        )[:k]
    return recalled


def lexical_ways(bank: MemoryBank, query: str, streams: Sequence[Stream], pool: int) -> dict[str, float]:
    """The lexical step alone (ms), four ways: per stream or one query, every word or not."""
    store, retriever, context = bank._store, bank._retriever, bank.settings.context_weight
    out = {}
    for drop in (False, True):
        tag = "common words left out" if drop else "every word"
        t0 = time.perf_counter()
        for stream in streams:
            store.lexical_search(stream, query, pool, context, drop_common=drop)
        out[f"per stream, {tag}"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        store.lexical_search_streams(
            dict.fromkeys(streams, pool),
            query,
            context,
            stream_of=retriever.index.streams_of,
            drop_common=drop,
        )
        out[f"one query, {tag}"] = (time.perf_counter() - t0) * 1000
    return out


def compare_levers(
    sizes: Sequence[int], queries_n: int, cases: Path, embedder: Embedder, character: Character
) -> list[dict[str, Any]]:
    """Previous vs current retrieval (and the lexical step four ways) on one store per size,
    query by query in alternation; the query embedding is made once and shared. Neither
    refreshes last access (so each sees the same store, and their answers can be compared)."""
    lines, queries = load_lines(cases)
    vectors = embedder.embed_passages(lines)
    settings = CoachSettings()
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="joi-levers-") as root:
            bank = MemoryBank(Path(root), embedder, settings.retrieval, progress=False)
            fill(bank, size, lines, vectors, np.random.default_rng(0))
            query_vectors = [embedder.embed_query(q) for q in queries[:queries_n]]
            turn: dict[str, list[float]] = {"previous": [], "current": []}
            lexical: dict[str, list[float]] = {}
            same, asked, loads = 0, 0, [load()]
            for n, (query, query_vector) in enumerate(zip(queries[:queries_n], query_vectors, strict=True)):
                got = {}
                for way in ("previous", "current") if n % 2 == 0 else ("current", "previous"):
                    now = time.time()
                    t0 = time.perf_counter()
                    if way == "previous":
                        recalled = previous_recall(bank, query, query_vector, settings.k, now)
                    else:
                        recalled = bank.recall(
                            query, settings.k, now=now, query_vector=query_vector, touch=False
                        )
                    build_messages(character, "Sam", recalled, [], query, time.time())
                    turn[way].append((time.perf_counter() - t0) * 1000)
                    got[way] = {s: [r.memory.id for r in items] for s, items in recalled.items()}
                for stream in settings.k:
                    asked += 1
                    same += got["previous"][stream] == got["current"][stream]
                for way, ms in lexical_ways(
                    bank, query, list(settings.k), settings.retrieval.candidate_pool
                ).items():
                    lexical.setdefault(way, []).append(ms)
            loads.append(load())
            bank.close()
        row: dict[str, Any] = {
            "memories": size,
            "queries": len(turn["current"]),
            "load": max(loads),
            "same_top_k_share": same / asked,
            **{f"{way}_median_ms": statistics.median(ms) for way, ms in turn.items()},
            **{f"{way}_p95_ms": percentile(ms, 95) for way, ms in turn.items()},
            "lexical_median_ms": {way: statistics.median(ms) for way, ms in lexical.items()},
        }
        rows.append(row)
        print(
            f"  {size:>7,} memories (load {row['load']:.1f}): retrieve+prompt without the embedding, previous "
            f"{row['previous_median_ms']:.1f} ms (p95 {row['previous_p95_ms']:.1f}), current "
            f"{row['current_median_ms']:.1f} ms (p95 {row['current_p95_ms']:.1f}), x"
            f"{row['previous_median_ms'] / row['current_median_ms']:.1f}; the same memories in "
            f"{100 * row['same_top_k_share']:.0f}% of stream recalls; lexical step: "
            + ", ".join(f"{way} {ms:.1f} ms" for way, ms in row["lexical_median_ms"].items()),
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
    parser.add_argument(
        "--variants",
        default="plain",
        help="plain, encrypted or both (plain,encrypted; needs the 'encryption' extra)",
    )
    parser.add_argument(
        "--levers",
        action="store_true",
        help="previous vs current retrieval and the lexical step four ways, in alternation",
    )
    parser.add_argument(
        "--compare-encryption",
        action="store_true",
        help="the same stores plain and encrypted, turn by turn in alternation: the encryption overhead",
    )
    args = parser.parse_args()

    embedder = Embedder()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.levers:
        compare_levers(sizes, args.queries, args.cases, embedder, Character.load())
        return 0
    if args.compare_encryption:
        rows = compare_encryption(sizes, args.queries, args.cases, embedder, Character.load())
        print(
            "\n| memories | embed (ms) | plain: retrieve+prompt+store (ms) | encrypted (ms) "
            "| store plain / encrypted (ms) | turn overhead of encryption |"
        )
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r['memories']:,} | {r['embed_median_ms']:.1f} | {r['plain_memory_ms']:.1f} "
                f"| {r['encrypted_memory_ms']:.1f} | {r['plain_store_ms']:.1f} / {r['encrypted_store_ms']:.1f} "
                f"| +{r['turn_overhead_pct']:.1f}% |"
            )
        return 0
    rows = []
    for variant in args.variants.split(","):
        rows += measure_sizes(
            sizes, args.queries, args.cases, embedder, Character.load(), encrypted=variant == "encrypted"
        )
    print(
        "\n| variant | memories | overhead median (ms) | p95 (ms) | without embedding median / p95 (ms) "
        "| embedding (ms) | load | store median (ms) | p95 (ms) "
        "| open with cache (s) | open, cache rebuilt (s) | checksum scan at open (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        scan = "n/a" if r["checksum_scan_s"] is None else f"{r['checksum_scan_s'] * 1000:.0f}"
        print(
            f"| {r['variant']} | {r['memories']:,} | {r['overhead_median_ms']:.1f} | {r['overhead_p95_ms']:.1f} "
            f"| {r['no_embed_median_ms']:.1f} / {r['no_embed_p95_ms']:.1f} | {r['embed_median_ms']:.1f} "
            f"| {r['load']:.1f} | {r['store_median_ms']:.1f} | {r['store_p95_ms']:.1f} "
            f"| {r['open_cached_s']:.2f} | {r['open_rebuild_s']:.2f} "
            f"| {scan} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
