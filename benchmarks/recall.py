"""Memory-recall benchmark: hit@k and recall@k of Joi's real retrieval on recall-cases data.

Each case's memories go through the real store (SQLite + FAISS + FTS5) with their given
times; each query goes through the real retrieval with "now" = the query's time.

    python benchmarks/recall.py --cases ../shared/data/recall-cases/locomo-dev.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.embeddings import DEFAULT_EMBEDDING_MODEL, Embedder
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.memory.retrieval import RetrievalSettings
from joi_coach.memory.scoring import ScoreWeights

# The cases' times are written without a zone and read as UTC; the days a question names
# ("on May 2nd") are read in the local zone, so the process runs in UTC too.
os.environ["TZ"] = "UTC"
time.tzset()


def parse_time(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def cached_embeddings(embedder: Embedder, texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """Passage vectors, optionally cached on disk as .npy (no pickle)."""
    if cache_dir is None:
        return embedder.embed_passages(texts, show_progress=False)
    digest = hashlib.sha256(("\x00".join(texts) + embedder.model_id).encode()).hexdigest()[:24]
    path = cache_dir / f"{digest}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    vectors = embedder.embed_passages(texts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors, allow_pickle=False)
    return vectors


def rate_importance_with_llm(bank: MemoryBank, llm_model: str | None) -> None:
    """Fill in importance with the real LLM (slow: one call per 8 memories)."""
    from joi_coach.cognition.importance import ImportanceRater
    from joi_coach.llm.embedded import EmbeddedLLM

    llm = EmbeddedLLM(llm_model)
    rater = ImportanceRater(lambda messages, params: "".join(llm.stream_chat(messages, params)))
    while batch := bank.unrated(limit=rater.batch_size):
        for scores, source in rater.rate(batch):
            bank.set_importance(scores, source)


def run_case(
    case: dict, embedder: Embedder, settings: RetrievalSettings, max_k: int, args: argparse.Namespace
) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="joi-recall-") as folder:
        bank = MemoryBank(Path(folder), embedder, settings, progress=False)
        memories, previous = [], ""
        for item in case["memories"]:
            memories.append(
                NewMemory(
                    stream=Stream.DIALOGUE,
                    text=item["text"],
                    created_at=parse_time(item["time"]),
                    speaker=item.get("speaker", ""),
                    context=previous,
                )
            )
            previous = item["text"]
        texts = [m.text for m in memories]
        vectors = cached_embeddings(embedder, texts, args.embedding_cache)
        ids = bank.add(memories, vectors)
        case_id_of = {memory_id: item["id"] for memory_id, item in zip(ids, case["memories"], strict=True)}
        if args.importance == "llm":
            rate_importance_with_llm(bank, args.llm_model)
        results = []
        for query in case["queries"]:
            recalled = bank.recall(
                query["text"], {Stream.DIALOGUE: max_k}, now=parse_time(query["time"]), touch=args.touch
            )[Stream.DIALOGUE]
            results.append(
                {
                    "category": query.get("category", "all"),
                    "ranked": [case_id_of[r.memory.id] for r in recalled],
                    "relevant": set(query["relevant"]),
                }
            )
        bank.close()
    return results


def summarise(results: list[dict], ks: list[int]) -> dict:
    groups: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        groups[result["category"]].append(result)
        groups["overall"].append(result)
    table = {}
    for name, rows in groups.items():
        entry = {"n": len(rows)}
        for k in ks:
            hits = [bool(set(r["ranked"][:k]) & r["relevant"]) for r in rows]
            recalls = [len(set(r["ranked"][:k]) & r["relevant"]) / max(len(r["relevant"]), 1) for r in rows]
            entry[f"hit@{k}"] = round(float(np.mean(hits)), 4)
            entry[f"recall@{k}"] = round(float(np.mean(recalls)), 4)
        table[name] = entry
    return table


def print_table(table: dict, ks: list[int]) -> None:
    header = ["category", "n"] + [f"hit@{k}" for k in ks] + [f"recall@{k}" for k in ks]
    print(" | ".join(f"{h:>11}" for h in header))
    order = [*sorted(c for c in table if c != "overall"), "overall"]
    for name in order:
        row = table[name]
        cells = [name, str(row["n"])] + [f"{row[f'hit@{k}']:.3f}" for k in ks]
        cells += [f"{row[f'recall@{k}']:.3f}" for k in ks]
        print(" | ".join(f"{c:>11}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=Path, required=True, help="a recall-cases JSON file")
    parser.add_argument("--k", default="1,3,5,10", help="comma-separated cut-offs")
    parser.add_argument("--json", action="store_true", help="also print one JSON object on the last line")
    parser.add_argument("--importance", choices=["neutral", "llm"], default="neutral")
    parser.add_argument("--llm-model", default=None, help="GGUF path for --importance llm")
    parser.add_argument("--embedding-model", default=DEFAULT_EMBEDDING_MODEL)
    parser.add_argument("--embedding-cache", type=Path, default=None, help="folder to cache vectors in")
    parser.add_argument("--touch", action="store_true", help="let each query refresh last access")
    parser.add_argument("--weights", default=None, help="relevance,lexical,recency,importance")
    parser.add_argument("--decay", type=float, default=None, help="recency decay per hour")
    parser.add_argument("--context-weight", type=float, default=None)
    parser.add_argument(
        "--named-day-weight",
        type=float,
        default=None,
        help="bonus for a memory made on a day the query names",
    )
    parser.add_argument("--limit-cases", type=int, default=None)
    args = parser.parse_args(argv)

    ks = sorted({int(k) for k in args.k.split(",")})
    settings = RetrievalSettings()
    if args.weights:
        settings = replace(settings, weights=ScoreWeights(*[float(w) for w in args.weights.split(",")]))
    if args.decay is not None:
        settings = replace(settings, decay_per_hour=args.decay)
    if args.context_weight is not None:
        settings = replace(settings, context_weight=args.context_weight)
    if args.named_day_weight is not None:
        settings = replace(settings, named_day_weight=args.named_day_weight)

    data = json.loads(args.cases.read_text(encoding="utf-8"))
    cases = data["cases"][: args.limit_cases]
    embedder = Embedder(args.embedding_model)
    started = time.perf_counter()
    results = []
    for case in cases:
        results.extend(run_case(case, embedder, settings, max(ks), args))
    table = summarise(results, ks)
    print(
        f"{data.get('name', args.cases.name)}: {len(cases)} cases, {len(results)} queries, "
        f"{time.perf_counter() - started:.1f}s; settings {settings}"
    )
    print_table(table, ks)
    if args.json:
        print(json.dumps({"cases": str(args.cases), "settings": repr(settings), "results": table}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
