"""Convert MemoryBank's English evaluation data to the recall-cases format of ``benchmarks/recall.py``.

MemoryBank (Zhong et al., AAAI 2024, "MemoryBank: Enhancing Large Language Models with Long-Term
Memory") ships ChatGPT-simulated user <-> AI-companion chats over ten days for 15 users
(``eval_data/en/memory_bank_en.json``) and 100 hand-written probing questions
(``eval_data/en/probing_questions_en.jsonl``). Licence: MIT (the repository's ``LICENSE``, which
covers the whole repository, data included; copyright 2023 Wanjun Zhong).

Nothing is downloaded here. Fetch the data yourself, then convert::

    git clone https://github.com/zhongwanjun/MemoryBank-SiliconFriend /tmp/MemoryBank-SiliconFriend
    git -C /tmp/MemoryBank-SiliconFriend checkout cf61c4196e4cfdb0f2b7a0316249fa40312dc3a9
    .venv/bin/python scripts/convert_memorybank.py /tmp/MemoryBank-SiliconFriend \\
        -o benchmarks/recall_sets/memorybank-en.json

(the positional path may be the repository root or its ``eval_data/en`` folder).

**Memories.** Every utterance is one memory: each ``query`` (the user, speaker = the user's name)
and each ``response`` (speaker ``AI``), text ``"<speaker>: <utterance>"``. Ids are ``D<day>:<n>``
(day = the date's rank in the user's history from 1, n = the utterance's place in that day from
1: odd the user, even the AI), as in LoCoMo. Times: the day at 20:00 plus one minute per utterance
(the data has dates only). Each user is one case; the questions are asked one day after the
user's last memory.

**Gold evidence.** The data has no answers and no evidence labels, so a question keeps a label
only under one of two conservative rules, and every other question is dropped:

* ``dated``: the question names a calendar date ("On May 2nd, ...") that is one of the user's
  chat days: relevant = every utterance of that day (a day-level label: a day is one short chat,
  3-6 exchanges, mostly on one topic; so hit@k is lenient, and chance is high: the script prints
  a random ranking's expected hit@k per rule, see ``chance_hit_at``). A question naming two dates, or a date with no chat, is dropped.
* ``named``: the question names an item — a quoted title ("Taxi Driver", 'The Shawshank
  Redemption') or a capitalised name that does not open a sentence (Xiamen, Mount Yuntai) — and
  the item occurs verbatim (case and spacing ignored) in the user's chats: relevant = every
  utterance that contains it. If any named item is never said, the question is dropped.
* A question with both a date and a named item keeps only the utterances of that day that contain
  the item (dropped if there are none).

Output is deterministic: users and questions in file order, ``json.dumps(indent=1)``. Query ids
keep the question's place in its user's list (``memorybank-emily-q5``), so a dropped question
leaves a gap.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

BANK_FILE = "memory_bank_en.json"
QUESTIONS_FILE = "probing_questions_en.jsonl"
AI_SPEAKER = "AI"
DAY_START = "20:00:00"
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DATE_PATTERN = re.compile(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?\b")
DOUBLE_QUOTED = re.compile(r'"([^"]+)"')
SINGLE_QUOTED = re.compile(r"(?<!\w)'([A-Z][^']*)'(?!\w)")
CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*\b")
NOT_NAMES = frozenset({"I", "AI", *MONTHS})
SOURCE = "zhongwanjun/MemoryBank-SiliconFriend eval_data/en (commit cf61c41)"
LICENSE = "MIT (copyright 2023 Wanjun Zhong; see benchmarks/recall_sets/memorybank-en.SOURCE.md)"


def normalise(text: str) -> str:
    """Lower-cased, straight-quoted, single-spaced text for verbatim matching."""
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")
    return " ".join(text.lower().split())


def strip_outer_quotes(question: str) -> str:
    """Many questions are wrapped whole in double quotes: remove one such pair."""
    question = question.strip()
    if len(question) > 1 and question[0] == '"' and question[-1] == '"':
        question = question[1:-1].strip()
    return question


def named_dates(question: str) -> set[tuple[int, int]]:
    """(month, day) pairs the question names."""
    return {(MONTHS.index(month) + 1, int(day)) for month, day in DATE_PATTERN.findall(question)}


def named_items(question: str) -> list[str]:
    """Quoted titles and capitalised names that do not open a sentence, in order, without repeats."""
    items = DOUBLE_QUOTED.findall(question) + SINGLE_QUOTED.findall(question)
    outside = SINGLE_QUOTED.sub(" ", DOUBLE_QUOTED.sub(" ", question))
    outside = DATE_PATTERN.sub(" ", outside)
    for match in CAPITALISED_RUN.finditer(outside):
        before = outside[: match.start()].rstrip()
        if not before or before[-1] in ".?!:":
            continue  # opens a sentence: capitalised for grammar, not a name
        words = [w for w in match.group().split() if w not in NOT_NAMES]
        if words:
            items.append(" ".join(words))
    unique: list[str] = []
    for item in (i.strip() for i in items):
        if item and normalise(item) not in {normalise(u) for u in unique}:
            unique.append(item)
    return unique


def convert_user(name: str, user: dict, questions: list[str]) -> tuple[dict, dict[str, int]]:
    """One recall case for one user, and how many questions each rule kept or dropped."""
    case_id = "memorybank-" + "-".join(name.lower().split())
    memories: list[dict] = []
    ids_by_date: dict[str, list[str]] = {}
    for day_number, date in enumerate(sorted(user["history"]), start=1):
        start = datetime.fromisoformat(f"{date}T{DAY_START}")
        place = 0
        for exchange in user["history"][date]:
            for speaker, key in ((name, "query"), (AI_SPEAKER, "response")):
                place += 1
                utterance = " ".join(str(exchange.get(key) or "").split())
                if not utterance:
                    continue
                memory_id = f"D{day_number}:{place}"
                memories.append(
                    {
                        "id": memory_id,
                        "text": f"{speaker}: {utterance}",
                        "time": (start + timedelta(minutes=place - 1)).isoformat(),
                        "speaker": speaker,
                    }
                )
                ids_by_date.setdefault(date, []).append(memory_id)
    asked = (datetime.fromisoformat(memories[-1]["time"]) + timedelta(days=1)).isoformat()
    text_of = {m["id"]: normalise(m["text"].split(": ", 1)[1]) for m in memories}
    dates_by_month_day = {(int(d[5:7]), int(d[8:10])): d for d in ids_by_date}
    counts = {"dated": 0, "named": 0, "dropped": 0}
    queries = []
    for index, raw in enumerate(questions):
        question = strip_outer_quotes(raw)
        dates, items = named_dates(question), named_items(question)
        candidates: list[str] | None = None
        if len(dates) > 1 or (dates and next(iter(dates)) not in dates_by_month_day):
            candidates = []
        elif dates:
            candidates = list(ids_by_date[dates_by_month_day[next(iter(dates))]])
        if items and candidates != []:
            pool = candidates if candidates is not None else [m["id"] for m in memories]
            holders = [[i for i in pool if normalise(item) in text_of[i]] for item in items]
            candidates = [i for i in pool if any(i in h for h in holders)] if all(holders) else []
        if not candidates:
            counts["dropped"] += 1
            continue
        category = "dated" if dates else "named"
        counts[category] += 1
        queries.append(
            {
                "id": f"{case_id}-q{index}",
                "text": question,
                "time": asked,
                "relevant": candidates,
                "category": category,
            }
        )
    return {"id": case_id, "memories": memories, "queries": queries}, counts


def chance_hit_at(data: dict, k: int) -> dict[str, float]:
    """Expected hit@k of a random ranking, per category and overall: 1 - C(N-r, k) / C(N, k)."""
    by_category: dict[str, list[float]] = {}
    for case in data["cases"]:
        total = len(case["memories"])
        for query in case["queries"]:
            cut = min(k, total)
            miss = math.comb(total - len(query["relevant"]), cut) / math.comb(total, cut)
            for name in (query["category"], "overall"):
                by_category.setdefault(name, []).append(1.0 - miss)
    return {name: round(sum(v) / len(v), 3) for name, v in sorted(by_category.items())}


def find_inputs(source: Path) -> tuple[Path, Path]:
    """The two English files under a repository checkout or its eval_data/en folder."""
    for folder in (source, source / "eval_data" / "en"):
        if (folder / BANK_FILE).is_file() and (folder / QUESTIONS_FILE).is_file():
            return folder / BANK_FILE, folder / QUESTIONS_FILE
    raise FileNotFoundError(f"{BANK_FILE} and {QUESTIONS_FILE} not found in {source} or its eval_data/en")


def convert(source: Path) -> tuple[dict, dict[str, int]]:
    """The whole recall-cases object, and the counts kept per rule and dropped."""
    bank_path, questions_path = find_inputs(source)
    bank = {name.strip(): user for name, user in json.loads(bank_path.read_text(encoding="utf-8")).items()}
    cases, totals = [], {"dated": 0, "named": 0, "dropped": 0}
    for line in questions_path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        for name, questions in json.loads(line).items():
            case, counts = convert_user(name.strip(), bank[name.strip()], questions)
            cases.append(case)
            totals = {k: totals[k] + counts[k] for k in totals}
    data = {
        "name": "MemoryBank (en) probing questions",
        "source": SOURCE,
        "license": LICENSE,
        "gold_rule": (
            "no answers in the data: 'dated' questions name a chat day (relevant = that day's "
            "utterances); 'named' questions name a quoted title or proper name said verbatim "
            "(relevant = the utterances containing it); all other questions dropped"
        ),
        "cases": cases,
    }
    return data, totals


def main(argv: list[str] | None = None) -> int:
    """Command line: convert, write, print what was kept."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="MemoryBank-SiliconFriend checkout (or its eval_data/en)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="recall-cases JSON to write")
    args = parser.parse_args(argv)
    data, totals = convert(args.source)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    memories = sum(len(c["memories"]) for c in data["cases"])
    queries = sum(len(c["queries"]) for c in data["cases"])
    print(
        f"{args.output}: {len(data['cases'])} cases, {memories} memories, {queries} queries kept "
        f"(dated {totals['dated']}, named {totals['named']}), {totals['dropped']} dropped",
        file=sys.stderr,
    )
    for k in (1, 3, 5, 10):
        print(f"random ranking, expected hit@{k}: {chance_hit_at(data, k)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
