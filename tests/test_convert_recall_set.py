"""scripts/convert_memorybank.py on a tiny hand-written sample in MemoryBank's own format."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "convert_memorybank.py"
_spec = importlib.util.spec_from_file_location("convert_memorybank", SCRIPT)
assert _spec is not None and _spec.loader is not None
convert_memorybank = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(convert_memorybank)

BANK = {
    " Ada ": {
        "name": "Ada",
        "summary": {},
        "personality": {},
        "overall_history": "",
        "history": {
            "2023-04-28": [
                {
                    "query": "I watched \u201cTaxi Driver\u201d today.",
                    "response": "What did you think of it?",
                },
                {"query": "Dark, but Taxi  driver scenes stay with you.", "response": "They do."},
            ],
            "2023-04-27": [
                {"query": "Hi, I'm Ada. I went hiking in Xiamen.", "response": "Nice to meet you, Ada."},
            ],
            "2023-04-29": [],
        },
        "meta_information": {},
    },
    "Bo": {
        "history": {"2023-05-01": [{"query": "I baked bread.", "response": ""}]},
    },
}
QUESTIONS = [
    {
        " Ada ": [
            "On April 27th, where did I go hiking?",  # dated: the whole day
            '"I mentioned a film called "Taxi Driver". What is it about?"',  # named, outer quotes
            "What did I say about Green Wheat Park?",  # named but never said: dropped
            "What do I like?",  # no date, no name: dropped
            "What did I do on April 29th?",  # a day with no chat: dropped
            "On April 27th and April 28th, what did we discuss?",  # two dates: dropped
            "On April 28th, what did I say about Xiamen?",  # date and name disagree: dropped
        ]
    },
    {"Bo": ["On May 1st, what did I bake?"]},
]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    folder = tmp_path / "eval_data" / "en"
    folder.mkdir(parents=True)
    (folder / "memory_bank_en.json").write_text(json.dumps(BANK), encoding="utf-8")
    lines = "\n".join(json.dumps(q) for q in QUESTIONS) + "\n"
    (folder / "probing_questions_en.jsonl").write_text(lines, encoding="utf-8")
    return tmp_path


def test_structure_memories_and_times(sample: Path) -> None:
    data, totals = convert_memorybank.convert(sample)
    assert {"name", "source", "license", "cases"} <= set(data)
    assert "MIT" in data["license"]
    assert totals == {"dated": 2, "named": 1, "dropped": 5}
    ada, bo = data["cases"]
    assert ada["id"] == "memorybank-ada" and bo["id"] == "memorybank-bo"
    ids = [m["id"] for m in ada["memories"]]
    assert ids == ["D1:1", "D1:2", "D2:1", "D2:2", "D2:3", "D2:4"]  # dates sorted, day 3 empty
    first = ada["memories"][0]
    assert first == {
        "id": "D1:1",
        "text": "Ada: Hi, I'm Ada. I went hiking in Xiamen.",
        "time": "2023-04-27T20:00:00",
        "speaker": "Ada",
    }
    assert ada["memories"][1]["speaker"] == "AI" and ada["memories"][1]["text"].startswith("AI: ")
    assert ada["memories"][5]["time"] == "2023-04-28T20:03:00"
    assert [m["id"] for m in bo["memories"]] == ["D1:1"]  # the empty response is not a memory
    for query in ada["queries"]:
        assert query["time"] == "2023-04-29T20:03:00"  # one day after the last memory
        assert set(query) == {"id", "text", "time", "relevant", "category"}


def test_gold_evidence(sample: Path) -> None:
    data, _ = convert_memorybank.convert(sample)
    ada, bo = data["cases"]
    by_id = {q["id"]: q for q in ada["queries"]}
    assert list(by_id) == ["memorybank-ada-q0", "memorybank-ada-q1"]
    assert by_id["memorybank-ada-q0"]["relevant"] == ["D1:1", "D1:2"]
    assert by_id["memorybank-ada-q0"]["category"] == "dated"
    named = by_id["memorybank-ada-q1"]
    assert named["category"] == "named"
    assert named["text"].startswith("I mentioned")  # the outer quotes are gone
    # "Taxi  driver" matches (case and spacing ignored); "What did you think of it?" does not
    assert named["relevant"] == ["D2:1", "D2:3"]
    assert bo["queries"][0]["relevant"] == ["D1:1"]


def test_main_writes_the_same_bytes_twice(sample: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert convert_memorybank.main([str(sample), "-o", str(first)]) == 0
    assert convert_memorybank.main([str(sample / "eval_data" / "en"), "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_text(encoding="utf-8"))["cases"][0]["queries"][0]["relevant"] == [
        "D1:1",
        "D1:2",
    ]


def test_missing_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        convert_memorybank.convert(tmp_path)
