"""Issue 24's faster retrieval gives the answers of the slower one: one FTS5 query for all
streams, common words left out of it, the stream map and cached vectors, top-k scoring."""

from __future__ import annotations

import numpy as np
import pytest
from joi_coach.memory import sqlite_store
from joi_coach.memory.models import ALL_STREAMS, NewMemory, Stream
from joi_coach.memory.retrieval import RetrievalSettings, Retriever
from joi_coach.memory.scoring import DayMatch, ScoreWeights, combine, top_k
from joi_coach.memory.sqlite_store import SqliteMemoryStore
from joi_coach.memory.time_hints import named_days
from joi_coach.memory.vector_index import VectorIndex

DIM = 16
MODEL = "test#16"
NOW = 1_700_000_000.0
# a few words in most lines, the rest rarer and rarer (Zipf-like), as in real talk
COMMON = ["sam", "work", "feel", "today"]
RARE = [f"w{n}" for n in range(300)]
QUERIES = [
    "Sam felt tired at work yesterday",
    "w3 and w17 with sam",
    "w250 w251",
    "feel today",  # only common words: the rarest of them is kept
    "sam",
    "nothing matches zzz",
    "!!! ???",
]


def sentence(rng: np.random.Generator) -> str:
    words = [w for w in COMMON if rng.random() < 0.3]
    words += [RARE[int(min(rng.zipf(1.3), len(RARE))) - 1] for _ in range(4)]
    return " ".join(words) or "w1"


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def on_day(created_at: float, days) -> bool:
    return any(start <= created_at < end for start, end in days)


@pytest.fixture
def filled(tmp_path):
    """A real store (800 memories over the four streams) and its vector cache."""
    rng = np.random.default_rng(7)
    store = SqliteMemoryStore(tmp_path / "memories.sqlite3")
    streams = rng.choice(len(ALL_STREAMS), size=800, p=[0.5, 0.2, 0.2, 0.1])
    memories = [
        NewMemory(
            ALL_STREAMS[s],
            sentence(rng),
            NOW - (800 - i) * 600.0,
            context=sentence(rng) if i % 3 == 0 else "",
            importance=int(rng.integers(1, 11)) if i % 2 else None,
        )
        for i, s in enumerate(streams)
    ]
    vectors = unit(rng, len(memories))
    store.insert(memories, vectors, MODEL)
    index = VectorIndex(tmp_path, store, MODEL, DIM)
    yield store, index, vectors
    store.close()


@pytest.fixture
def low_floor(monkeypatch):
    """Common words are left out from 20 memories on (800 is above the default's floor)."""
    monkeypatch.setattr(sqlite_store, "COMMON_TERM_MIN_DOCS", 20)


@pytest.mark.parametrize("drop_common", [False, True])
def test_one_query_ranks_as_one_query_per_stream(filled, low_floor, drop_common):
    store, index, _ = filled
    compared = 0
    for query in QUERIES:
        for limit in (3, 100):
            limits = dict.fromkeys(ALL_STREAMS, limit)
            for stream_of in (index.streams_of, None):  # the map, or the streams read from the table
                together = store.lexical_search_streams(
                    limits, query, 0.5, stream_of=stream_of, drop_common=drop_common
                )
                for stream in ALL_STREAMS:
                    alone = store.lexical_search(stream, query, limit, 0.5, drop_common=drop_common)
                    assert [i for i, _ in together[stream]] == [i for i, _ in alone]
                    assert [s for _, s in together[stream]] == pytest.approx([s for _, s in alone])
                    compared += len(alone)
    assert compared > 1000  # the comparison saw real rankings, not empty lists


def test_common_words_are_left_out_by_their_share(filled, low_floor):
    store, _, _ = filled
    assert {"sam", "work", "feel", "today"} <= store.common_words([*COMMON, "w250"])
    assert "w250" not in store.common_words(["w250"])
    assert store.lexical_words("Sam felt tired at work today, w120") == ["felt", "tired", "w120"]
    # every word common: the rarest stays, so lexical search still has something to match
    kept = store.lexical_words("feel today sam")
    assert len(kept) == 1 and kept[0] in {"feel", "today", "sam"}
    assert store.lexical_words("feel today sam", drop_common=False) == ["feel", "today", "sam"]
    # fewer matches than with every word, and all of them hold a word that was kept
    fewer = store.lexical_search(Stream.DIALOGUE, "sam w3", 1000)
    every = store.lexical_search(Stream.DIALOGUE, "sam w3", 1000, drop_common=False)
    assert 0 < len(fewer) < len(every)
    assert all("w3" in m.text.split() + m.context.split() for m in store.get([i for i, _ in fewer]))


def test_a_small_store_keeps_every_word(tmp_path):
    store = SqliteMemoryStore(tmp_path / "s.sqlite3")
    rng = np.random.default_rng(1)
    store.insert([NewMemory(Stream.DIALOGUE, f"sam said w{i}", NOW) for i in range(50)], unit(rng, 50), MODEL)
    assert store.common_words(["sam", "said"]) == set()  # in every memory, but 50 < the floor
    assert len(store.lexical_search(Stream.DIALOGUE, "sam", 100)) == 50


def test_word_counts_follow_forgetting(filled, low_floor):
    store, _, _ = filled
    assert "w250" not in store.common_words(["w250"])
    rng = np.random.default_rng(2)
    ids = store.insert([NewMemory(Stream.DIALOGUE, "w250", NOW) for _ in range(300)], unit(rng, 300), MODEL)
    assert "w250" in store.common_words(["w250"])  # the store grew by more than 5 %: recounted
    store.forget(ids)
    assert "w250" not in store.common_words(["w250"])


def test_stream_map_and_cached_vectors_follow_changes(filled, tmp_path):
    store, index, vectors = filled
    ids = np.arange(1, 801)
    codes = index.streams_of(ids)
    truth = [ALL_STREAMS.index(m.stream) for m in store.get(ids.tolist())]
    assert codes.tolist() == truth
    assert index.streams_of(np.array([0, 5000, -3])).tolist() == [-1, -1, -1]
    rng = np.random.default_rng(3)
    [new] = store.insert([NewMemory(Stream.REFLECTION, "new insight", NOW)], unit(rng, 1), MODEL)
    index.add(Stream.REFLECTION, [new], store.vectors_for([new])[new][None])
    assert index.streams_of(np.array([new])).tolist() == [ALL_STREAMS.index(Stream.REFLECTION)]
    index.remove([new, 1])
    assert index.streams_of(np.array([new, 1])).tolist() == [-1, -1]
    # cosine from the cache: the stored vectors' own, for ids of that stream only
    query = unit(rng, 1)[0]
    dialogue = [int(i) for i, c in zip(ids, codes, strict=True) if c == 0][:20]
    other = [int(i) for i, c in zip(ids, codes, strict=True) if c == 1][:5]
    sims = index.similarities(Stream.DIALOGUE, dialogue + other + [new], query)
    assert set(sims) == set(dialogue) - {1}
    for memory_id, sim in sims.items():
        assert sim == pytest.approx(float(vectors[memory_id - 1] @ query), abs=1e-5)
    # the map is rebuilt from a saved cache as well
    index.save()
    reopened = VectorIndex(tmp_path, store, MODEL, DIM)
    assert reopened.loaded_from_cache
    assert reopened.streams_of(ids).tolist() == index.streams_of(ids).tolist()


def test_top_k_ranks_as_combine_then_sort():
    rng = np.random.default_rng(4)
    n = 300
    args = dict(
        similarity=rng.random(n),
        bm25=np.where(rng.random(n) < 0.5, 0.0, rng.random(n) * 9),
        hours_since_access=rng.random(n) * 500,
        importance=np.where(rng.random(n) < 0.3, np.nan, rng.integers(1, 11, n).astype(float)),
        weights=ScoreWeights(),
        decay_per_hour=0.995,
        neutral_importance=5,
    )
    args["similarity"][:40] = 0.5  # ties on the total, broken by time then id
    args["bm25"][:40] = 1.0
    args["hours_since_access"][:40] = 10.0
    args["importance"][:40] = 5.0
    created = np.round(rng.random(n) * 3) * 1000.0
    ids = rng.permutation(n) + 1
    scores = combine(**args)
    expected = sorted(range(n), key=lambda i: (-scores[i].total, -created[i], -ids[i]))[:50]
    best = top_k(**args, k=50, created_at=created, ids=ids)
    assert [i for i, _ in best] == expected
    assert [b for _, b in best] == [scores[i] for i in expected]
    assert top_k(**args, k=0, created_at=created, ids=ids) == []


def test_retrieve_many_and_retrieve_agree_and_follow_writes(filled, low_floor):
    store, index, _ = filled
    retriever = Retriever(store, index, RetrievalSettings())
    rng = np.random.default_rng(5)
    k = {Stream.DIALOGUE: 4, Stream.EMPATHETIC: 2, Stream.THERAPEUTIC: 2, Stream.REFLECTION: 3}
    for query in QUERIES:
        vector = unit(rng, 1)[0]
        many = retriever.retrieve_many(k, query, vector, NOW, exclude=[2, 3])
        for stream, n in k.items():
            one = retriever.retrieve(stream, query, vector, n, NOW, exclude=[2, 3])
            assert [(r.memory.id, r.score) for r in one] == [(r.memory.id, r.score) for r in many[stream]]
            assert len(one) == n and not {2, 3} & {r.memory.id for r in one}
    # a memory written after a recall is found by the same message (nothing stale reused)
    vector = unit(rng, 1)[0]
    before = retriever.retrieve(Stream.REFLECTION, "zebra w250", vector, 1, NOW)
    [new] = store.insert([NewMemory(Stream.REFLECTION, "zebra zebra", NOW)], vector[None], MODEL)
    index.add(Stream.REFLECTION, [new], vector[None])
    after = retriever.retrieve(Stream.REFLECTION, "zebra w250", vector, 1, NOW)
    assert new not in [r.memory.id for r in before]
    assert [r.memory.id for r in after] == [new] and after[0].score.lexical == 1.0


def test_retrieval_ranks_as_before(filled):
    """Against a plain re-statement of the previous retrieval (per stream, every candidate
    read whole and scored by ``combine``), on a store below the floor (every word kept)."""
    store, index, _ = filled
    settings = RetrievalSettings()
    retriever = Retriever(store, index, settings)
    rng = np.random.default_rng(6)
    for query in QUERIES[:3]:
        vector = unit(rng, 1)[0]
        for stream in ALL_STREAMS:
            similarity = dict(index.search(stream, vector, 100))
            bm25 = dict(store.lexical_search(stream, query, 100, drop_common=False))
            candidates = set(similarity) | set(bm25)
            candidates |= set(store.most_recent(stream, 25)) | set(store.most_important(stream, 25))
            days = named_days(query, NOW)  # "yesterday" in the first query
            candidates |= {m.id for m in store.memories(stream, limit=1000) if on_day(m.created_at, days)}
            for i, v in store.vectors_for([i for i in candidates if i not in similarity]).items():
                similarity[i] = float(v @ vector)
            memories = store.get(sorted(candidates))
            scores = combine(
                np.array([similarity[m.id] for m in memories]),
                np.array([bm25.get(m.id, 0.0) for m in memories]),
                np.array([(NOW - m.last_accessed) / 3600 for m in memories]),
                np.array([np.nan if m.importance is None else m.importance for m in memories]),
                settings.weights,
                settings.decay_per_hour,
                settings.neutral_importance,
                DayMatch(np.array([on_day(m.created_at, days) for m in memories]), settings.named_day_weight)
                if days
                else None,
            )
            expected = sorted(
                zip(memories, scores, strict=True),
                key=lambda p: (-p[1].total, -p[0].created_at, -p[0].id),
            )[:5]
            assert store.lexical_words(query) == store.lexical_words(query, drop_common=False)
            ranked = retriever.retrieve(stream, query, vector, 5, NOW)
            assert [r.memory.id for r in ranked] == [m.id for m, _ in expected]
            for r, (_, score) in zip(ranked, expected, strict=True):
                assert r.score.total == pytest.approx(score.total, abs=1e-6)


def test_models_counted_at_open_answer_until_the_vectors_change(tmp_path):
    path = tmp_path / "memories.sqlite3"
    store = SqliteMemoryStore(path)
    rng = np.random.default_rng(8)
    ids = store.insert([NewMemory(Stream.DIALOGUE, f"line {i}", NOW) for i in range(6)], unit(rng, 6), "a#16")
    store.close()
    store = SqliteMemoryStore(path)  # counted in the checksum scan at open
    assert store.count_with_other_model("a#16") == 0 and store.count_with_other_model("b#16") == 6
    store.replace_vectors([(ids[0], unit(rng, 1)[0]), (ids[1], unit(rng, 1)[0])], "b#16")
    assert store.count_with_other_model("b#16") == 4 and store.count_with_other_model("a#16") == 2
    store.close()
    store = SqliteMemoryStore(path)  # two models: the scan at open leaves the count to SQL
    assert store.count_with_other_model("b#16") == 4 and store.count_with_other_model("c#16") == 6
    store.close()
