"""Export and import of a profile's memories: real embedder, real SQLite and FAISS files."""

from __future__ import annotations

import copy
import json

import pytest
from joi_coach.memory import bank as bank_module
from joi_coach.memory import transfer
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import ALL_STREAMS, NewMemory, Stream
from joi_coach.memory.transfer import (
    FORMAT,
    ImportedMemory,
    TransferError,
    dumps_export,
    export_json,
    export_markdown,
    import_memories,
    parse_import,
)

NOW = 1_700_000_000.0
HOUR = 3600.0
HOSTILE = (
    "<script>alert(1)</script> & friends\n"
    "# Not a heading\n"
    "1. not a list\n"
    "    not code\n"
    "**bold** [link](javascript:alert(1)) `code` | table |\n"
    "😀 שלום עולם مرحبا بالعالم"
)


def build_source(bank: MemoryBank) -> dict[str, int]:
    """Dialogue in two conversations, both thought streams and a 2-level reflection tree."""
    d = bank.add(
        [
            NewMemory(
                Stream.DIALOGUE, "My dog Biscuit died last spring.", NOW, speaker="Dana", conversation="c1"
            ),
            NewMemory(
                Stream.DIALOGUE,
                "That sounds painful. What do you miss most?",
                NOW + 60,
                speaker="Joi",
                context="My dog Biscuit died last spring.",
                conversation="c1",
            ),
            NewMemory(
                Stream.DIALOGUE,
                "I want to run a half marathon in October.",
                NOW + HOUR,
                speaker="Dana",
                conversation="c2",
            ),
            NewMemory(Stream.DIALOGUE, HOSTILE, NOW + 2 * HOUR, speaker="Dana", conversation="c2"),
        ]
    )
    e, t = bank.add(
        [
            NewMemory(Stream.EMPATHETIC, "Dana is still grieving her dog.", NOW + 61, speaker="Joi"),
            NewMemory(
                Stream.THERAPEUTIC, "Running could give Dana structure while grieving.", NOW + HOUR + 1
            ),
        ]
    )
    r1, r2 = bank.add(
        [
            NewMemory(
                Stream.REFLECTION,
                "Loss of her dog weighs on Dana.",
                NOW + 3 * HOUR,
                evidence=(d[0], e),
                depth=1,
            ),
            NewMemory(
                Stream.REFLECTION,
                "Dana sets ambitious fitness goals.",
                NOW + 3 * HOUR,
                evidence=(d[2],),
                depth=1,
            ),
        ]
    )
    [r3] = bank.add(
        [
            NewMemory(
                Stream.REFLECTION,
                "Dana channels grief into running.",
                NOW + 4 * HOUR,
                evidence=(r1, r2, t),
                depth=2,
                context="How does Dana cope?",
            )
        ]
    )
    bank.set_importance({d[0]: 8, d[1]: 3, d[2]: 6, r1: 7, r2: 5}, "llm")
    bank.set_importance({r3: 9}, "person")
    bank.touch([d[0], r3], NOW + 5 * HOUR)
    return {"d0": d[0], "d1": d[1], "d2": d[2], "hostile": d[3], "e": e, "t": t, "r1": r1, "r2": r2, "r3": r3}


@pytest.fixture
def source(tmp_path, embedder):
    bank = MemoryBank(tmp_path / "source", embedder)
    ids = build_source(bank)
    yield bank, ids
    bank.close()


@pytest.fixture
def target(tmp_path, embedder):
    bank = MemoryBank(tmp_path / "target", embedder)
    # unrelated earlier memories, so imported ids cannot coincide with the file's
    bank.add(
        [NewMemory(Stream.DIALOGUE, f"Older unrelated note {i}.", NOW - 10 * HOUR + i) for i in range(3)]
    )
    yield bank
    bank.close()


def by_text(bank: MemoryBank):
    return {m.text: m for m in bank.all_memories()}


def index_counts(bank: MemoryBank) -> dict[Stream, int]:
    return {s: bank.indexed(s) for s in ALL_STREAMS}


def valid_export() -> dict:
    return {
        "format": FORMAT,
        "version": 1,
        "memories": [
            {
                "id": 1,
                "stream": "dialogue",
                "text": "I started journaling.",
                "created_at": NOW,
                "importance": 4,
            },
            {
                "id": 2,
                "stream": "reflection",
                "text": "Dana builds habits.",
                "created_at": NOW + 1,
                "evidence": [1],
            },
        ],
    }


# -- export ----------------------------------------------------------------------------------
def test_export_json_shape_and_paging(source, monkeypatch):
    bank, ids = source
    bank.delete([ids["d1"]])  # a gap in the ids
    monkeypatch.setattr(bank_module, "PAGE_SIZE", 2)
    data = export_json(bank, settings={"k": 3})
    assert data["format"] == FORMAT and data["version"] == 1 and data["settings"] == {"k": 3}
    assert data["embedding_model"] == bank.embedder.model_id and data["exported_at"].endswith("+00:00")
    got = [m["id"] for m in data["memories"]]
    assert got == sorted(got) and len(got) == bank.count() and ids["d1"] not in got
    r3 = next(m for m in data["memories"] if m["id"] == ids["r3"])
    assert set(r3) == set(transfer._FIELDS) and "vector" not in json.dumps(data)
    assert r3["evidence"] == sorted([ids["r1"], ids["r2"], ids["t"]])
    assert (r3["importance"], r3["importance_source"], r3["depth"]) == (9, "person", 2)
    assert r3["last_accessed"] == NOW + 5 * HOUR and isinstance(r3["created_at"], float)
    assert "settings" not in export_json(bank)


def test_markdown_is_readable_and_neutralises_memory_text(source):
    bank, ids = source
    md = export_markdown(bank)
    headings = [line for line in md.splitlines() if line.lstrip().startswith("#")]
    assert headings == [
        "# Joi Coach memories",
        "## Reflections",
        "## Conversations",
        "### Conversation “c1”",
        "### Conversation “c2”",
        "## Empathetic thoughts",
        "## Therapist thoughts",
    ]
    assert "- Dialogue: 4" in md and "- Reflections: 3" in md
    assert "\n\n\n" not in md
    assert "<" not in md and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends" in md
    assert "> \\# Not a heading" in md and "> 1\\. not a list" in md and "\\*\\*bold\\*\\*" in md
    assert "😀 שלום עולם مرحبا بالعالم" in md
    # every line of the hostile text stays inside a blockquote
    hostile_at = md.index("&lt;script&gt;")
    block = md[md.rindex("\n", 0, hostile_at) + 1 :].split("\n")[:6]
    assert all(line.startswith("  > ") for line in block)
    # the reflection tree: r3 at the top, r1 and r2 nested, dialogue quoted under them
    tree = md[md.index("## Reflections") : md.index("## Conversations")]
    assert f"- **Reflection #{ids['r3']}** · importance 9 · depth 2" in tree
    assert f"  - **Reflection #{ids['r1']}** · importance 7 · depth 1" in tree
    assert (
        f"    - #{ids['d0']} · dialogue · Dana · 2023-11-14 22:13: “My dog Biscuit died last spring.”" in tree
    )
    assert tree.index(f"Reflection #{ids['r3']}") < tree.index(f"Reflection #{ids['r1']}")
    # dialogue in time order with UTC times and speakers
    c1 = md[md.index("### Conversation “c1”") : md.index("### Conversation “c2”")]
    assert c1.index("**2023-11-14 22:13 · Dana**") < c1.index("**2023-11-14 22:14 · Joi**")


# -- round trip ------------------------------------------------------------------------------
def test_round_trip_into_a_fresh_bank(source, target):
    bank, _ = source
    before = target.count()
    items = parse_import(dumps_export(export_json(bank)))
    report = import_memories(target, items)
    assert (report.added, report.skipped_duplicates) == (9, 0)
    assert target.count() == before + 9
    old, new = by_text(bank), by_text(target)
    for text, m in old.items():
        n = new[text]
        assert n.id != m.id
        assert (n.stream, n.created_at, n.last_accessed, n.importance, n.importance_source) == (
            m.stream,
            m.created_at,
            m.last_accessed,
            m.importance,
            m.importance_source,
        )
        assert (n.speaker, n.context, n.conversation, n.depth) == (
            m.speaker,
            m.context,
            m.conversation,
            m.depth,
        )
        old_cited = sorted(old_m.text for old_m in bank.get(list(m.evidence)))
        assert sorted(c.text for c in target.get(list(n.evidence))) == old_cited
        assert report.id_map[m.id] == n.id
    assert new[HOSTILE].text == HOSTILE  # verbatim, HTML and all
    assert new["Dana channels grief into running."].depth == 2
    assert index_counts(target)[Stream.REFLECTION] == 3


def test_importing_twice_adds_nothing_the_second_time(source, target):
    raw = dumps_export(export_json(source[0]))
    import_memories(target, parse_import(raw))
    count, indexed = target.count(), index_counts(target)
    report = import_memories(target, parse_import(raw))
    assert (report.added, report.skipped_duplicates) == (0, 9)
    assert target.count() == count and index_counts(target) == indexed


def test_evidence_pointing_at_a_skipped_memory_uses_the_stored_one(target):
    [existing] = target.add([NewMemory(Stream.DIALOGUE, "I started journaling.", NOW)])
    report = import_memories(target, parse_import(json.dumps(valid_export())))
    assert (report.added, report.skipped_duplicates) == (1, 1)
    reflection = target.get([report.id_map[2]])[0]
    assert reflection.evidence == (existing,) and reflection.depth == 1
    assert report.id_map[1] == existing


def test_imported_memories_are_recalled(source, target):
    import_memories(target, parse_import(dumps_export(export_json(source[0]))))
    recalled = target.recall(
        "Is Dana training for a race?", {Stream.DIALOGUE: 1, Stream.REFLECTION: 1}, now=NOW
    )
    assert recalled[Stream.DIALOGUE][0].memory.text == "I want to run a half marathon in October."
    assert recalled[Stream.REFLECTION][0].memory.text in {
        "Dana sets ambitious fitness goals.",
        "Dana channels grief into running.",
    }


def test_depth_is_recomputed_not_trusted():
    data = valid_export()
    data["memories"][0]["depth"] = 4
    data["memories"][1]["depth"] = 9
    assert [m.depth for m in parse_import(json.dumps(data))] == [0, 1]


def test_text_is_nfc_normalised_and_importance_source_defaults(target):
    data = valid_export()
    data["memories"][0]["text"] = "Cafe\u0301 journaling."
    [first, _] = items = parse_import(json.dumps(data))
    assert first.text == "Caf\u00e9 journaling."
    report = import_memories(target, items)
    assert target.get([report.id_map[1]])[0].importance_source == "import"


# -- invalid files ---------------------------------------------------------------------------
def mutated(change) -> bytes:
    data = copy.deepcopy(valid_export())
    change(data)
    return json.dumps(data).encode()


def item(n: int, **fields):
    def change(data):
        data["memories"][n].update(fields)

    return change


def cycle(data):
    data["memories"][1]["evidence"] = [3]
    data["memories"].append(
        {"id": 3, "stream": "reflection", "text": "Loop.", "created_at": NOW, "evidence": [2]}
    )


INVALID = {
    "not json": (b"{not json", "not valid JSON: .* line 1, column 2"),
    "not utf-8": (b'{"format": "\xff"}', "not UTF-8"),
    "nan": (mutated(item(0, created_at=float("nan"))), "NaN"),
    "not an object": (b"[]", "not a JSON object"),
    "wrong format": (mutated(lambda d: d.update(format="something-else")), "not a Joi Coach memory export"),
    "future version": (mutated(lambda d: d.update(version=2)), "version 2; this Joi reads version 1"),
    "memories not a list": (mutated(lambda d: d.update(memories={})), "'memories' must be a list"),
    "duplicate key": (b'{"format": "a", "format": "b"}', "key 'format' twice"),
    "unknown stream": (
        mutated(item(0, stream="dreams")),
        r"memory 1 \(id 1\): stream must be one of .*\"dreams\"",
    ),
    "unknown field": (mutated(item(0, vector=[1, 2])), r"memory 1 \(id 1\): unknown field 'vector'"),
    "empty text": (mutated(item(0, text="  \n ")), r"memory 1 \(id 1\): text must not be empty"),
    "text not a string": (mutated(item(0, text=5)), r"memory 1 \(id 1\): text must be a string"),
    "NUL in text": (
        mutated(item(0, text="a\x00b")),
        r"memory 1 \(id 1\): text contains a control character \(U\+0000\)",
    ),
    "text too long": (
        mutated(item(0, text="x" * 20_001)),
        r"text is 20,001 characters long; the limit is 20,000",
    ),
    "importance 11": (
        mutated(item(1, importance=11)),
        r"memory 2 \(id 2\): importance must be a whole number from 1 to 10 or null, not 11",
    ),
    "importance true": (mutated(item(1, importance=True)), r"importance must be a whole number .* not true"),
    "importance string": (
        mutated(item(1, importance="5")),
        r"importance must be a whole number .* not \"5\"",
    ),
    "missing created_at": (
        mutated(lambda d: d["memories"][0].pop("created_at")),
        r"memory 1 \(id 1\): created_at is missing",
    ),
    "time a string": (
        mutated(item(0, last_accessed="yesterday")),
        r"last_accessed must be a number of seconds",
    ),
    "id not positive": (mutated(item(0, id=0)), r"memory 1: id must be a positive whole number"),
    "duplicate ids": (
        mutated(item(1, id=1, evidence=[])),
        r"memory 2 \(id 1\): id 1 is used twice \(also by memory 1\)",
    ),
    "missing evidence": (
        mutated(item(1, evidence=[1, 99])),
        r"memory 2 \(id 2\): evidence cites id 99, which is not in the file",
    ),
    "evidence not ids": (mutated(item(1, evidence=["1"])), r"evidence must be a list of memory ids"),
    "evidence on dialogue": (
        mutated(item(0, evidence=[2])),
        r"memory 1 \(id 1\): only reflections cite evidence",
    ),
    "self citation": (mutated(item(1, evidence=[2])), r"memory 2 \(id 2\): evidence forms a cycle \(2 → 2\)"),
    "cycle": (mutated(cycle), r"evidence forms a cycle \((2 → 3 → 2|3 → 2 → 3)\)"),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_files_are_refused_clearly_and_change_nothing(name, target):
    raw, message = INVALID[name]
    before, indexed = target.count(), index_counts(target)
    with pytest.raises(TransferError, match=message):
        import_memories(target, parse_import(raw))
    assert target.count() == before and index_counts(target) == indexed


def test_limits_on_size_and_count(target):
    raw = json.dumps(valid_export())
    with pytest.raises(TransferError, match=r"the file is \d+ bytes; the import limit is 100"):
        parse_import(raw.encode(), max_bytes=100)
    with pytest.raises(TransferError, match=r"over 100 bytes"):
        parse_import(raw, max_bytes=100)
    with pytest.raises(TransferError, match=r"holds 2 memories; the limit is 1"):
        parse_import(raw, max_memories=1)
    with pytest.raises(TransferError, match="nested too deeply"):
        parse_import("[" * 100_000 + "]" * 100_000, max_bytes=10**6)
    assert target.count() == 3


# -- all or nothing --------------------------------------------------------------------------
class FailingOnSecondBatch:
    def __init__(self, embedder) -> None:
        self.inner, self.calls = embedder, 0
        self.model_id, self.dim = embedder.model_id, embedder.dim

    def embed_passages(self, texts):
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("embedding failed")
        return self.inner.embed_passages(texts)


def test_failure_while_embedding_stores_nothing(source, target, monkeypatch, embedder):
    items = parse_import(dumps_export(export_json(source[0])))
    monkeypatch.setattr(transfer, "EMBED_BATCH", 2)
    monkeypatch.setattr(target, "embedder", FailingOnSecondBatch(embedder))
    before, indexed = target.count(), index_counts(target)
    with pytest.raises(RuntimeError, match="embedding failed"):
        import_memories(target, items)
    assert target.count() == before and index_counts(target) == indexed


def test_failure_in_the_index_rolls_everything_back(source, target, monkeypatch):
    items = parse_import(dumps_export(export_json(source[0])))
    before, indexed, last_id = target.count(), index_counts(target), target.max_id()
    real_add = target._index.add
    calls = []

    def flaky_add(stream, ids, vectors):
        calls.append(stream)
        if len(calls) == 2:
            raise MemoryError("index full")
        real_add(stream, ids, vectors)

    monkeypatch.setattr(target._index, "add", flaky_add)
    with pytest.raises(MemoryError):
        import_memories(target, items)
    assert target.count() == before and index_counts(target) == indexed
    assert all(m.id <= last_id for m in target.all_memories())
    monkeypatch.setattr(target._index, "add", real_add)
    report = import_memories(target, items)  # a retry works and leaves no ghost vectors
    assert report.added == 9 and sum(index_counts(target).values()) == target.count()


def test_failure_inside_the_transaction_stores_nothing(target):
    good = ImportedMemory(
        id=1, stream=Stream.DIALOGUE, text="Fine memory.", created_at=NOW, last_accessed=NOW
    )
    bad = ImportedMemory(  # bypasses parse_import: the store's CHECK refuses it mid-transaction
        id=2, stream=Stream.DIALOGUE, text="Bad rating.", created_at=NOW, last_accessed=NOW, importance=11
    )
    before, indexed = target.count(), index_counts(target)
    with pytest.raises(Exception, match="CHECK"):
        import_memories(target, [good, bad])
    assert target.count() == before and index_counts(target) == indexed
