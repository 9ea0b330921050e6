"""Does the crisis detector catch crises without crying wolf? Recall and false alarms on a labelled file.

    .venv/bin/python benchmarks/safety.py                      # benchmarks/safety/crisis-dev.jsonl
    .venv/bin/python benchmarks/safety.py --data FILE --no-embedder --json

**Data.** UTF-8 JSON Lines, one message per line::

    {"text": "i cut myself again last night", "crisis": true, "kind": "self_harm"}

``text`` (string) and ``crisis`` (bool) are required; ``kind`` (string) is optional and only
groups the figures (crisis kinds such as ``suicidal_explicit`` or ``medical_emergency``;
non-crisis kinds such as ``everyday`` or ``hard_negative``). Blank lines are skipped. A
malformed line stops the run with an error naming it.

**Run.** ``joi_coach.safety.detection.CrisisDetector`` checks every message, with the project's
embedder (all-MiniLM-L6-v2, local) unless ``--no-embedder`` (patterns only). A warm-up pass
runs first, so the timings are per message on a warm model.

**Printed.** Recall (crises flagged), false-alarm rate (non-crises flagged), precision,
recall per crisis kind and false alarms per non-crisis kind, median and p95 detection time
per message in ms, then the missed crises and the false alarms, quoted (this is the user's
own benchmark file, so its messages may be printed). Targets: recall ≥ 95 %, false alarms ≤ 5 %.
With ``--json``, one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joi_coach.safety.detection import CrisisDetector

DEFAULT_DATA = Path(__file__).resolve().parent / "safety" / "crisis-dev.jsonl"
TARGETS = {"recall": 0.95, "false_alarm_rate": 0.05}
# The dev set's crisis labels and the detector's kinds, for "kind agreement" (caught crises whose
# detected kind is the labelled one); other labels are left out of that figure.
KIND_OF_LABEL = {
    "suicidal_explicit": "suicidal",
    "suicidal_passive": "suicidal",
    "suicidal": "suicidal",
    "self_harm": "self_harm",
    "harm_to_others": "harm_to_others",
    "abuse_or_danger_at_home": "abuse_or_danger",
    "abuse_or_danger": "abuse_or_danger",
    "medical_emergency": "medical_emergency",
}


class DataError(ValueError):
    """The data file is not in the documented format."""


@dataclass(frozen=True)
class Example:
    line: int
    text: str
    crisis: bool
    kind: str


@dataclass(frozen=True)
class Outcome:
    example: Example
    flagged: bool
    detected_kind: str | None
    reason: str | None
    ms: float


def parse_line(number: int, raw: str) -> Example:
    """One line of the data file, or DataError naming the line and what is wrong."""
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(f"line {number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise DataError(f"line {number}: expected a JSON object, got {type(row).__name__}")
    if not isinstance(row.get("text"), str):
        raise DataError(f"line {number}: 'text' is missing or not a string")
    if not isinstance(row.get("crisis"), bool):
        raise DataError(f"line {number}: 'crisis' is missing or not true/false")
    kind = row.get("kind", "crisis" if row["crisis"] else "not_crisis")
    if not isinstance(kind, str):
        raise DataError(f"line {number}: 'kind' is not a string")
    return Example(number, row["text"], row["crisis"], kind)


def load(path: Path) -> list[Example]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    examples = [parse_line(i, raw) for i, raw in enumerate(lines, 1) if raw.strip()]
    if not examples:
        raise DataError(f"{path}: no messages")
    return examples


def run(detector: CrisisDetector, examples: list[Example]) -> list[Outcome]:
    for example in examples[:20]:  # warm-up: first calls pay for lazy initialisation
        detector.check(example.text)
    outcomes = []
    for example in examples:
        start = time.perf_counter()
        signal = detector.check(example.text)
        ms = (time.perf_counter() - start) * 1000
        outcomes.append(
            Outcome(
                example,
                signal is not None,
                signal.kind.value if signal else None,
                signal.reason if signal else None,
                ms,
            )
        )
    return outcomes


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(outcomes: list[Outcome], embedder: bool) -> dict[str, Any]:
    crises = [o for o in outcomes if o.example.crisis]
    others = [o for o in outcomes if not o.example.crisis]
    caught = sum(o.flagged for o in crises)
    alarms = sum(o.flagged for o in others)
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.example.kind].append(o)
    times = [o.ms for o in outcomes]
    return {
        "embedder": embedder,
        "messages": len(outcomes),
        "crises": len(crises),
        "non_crises": len(others),
        "recall": share(caught, len(crises)),
        "false_alarm_rate": share(alarms, len(others)),
        "precision": share(caught, caught + alarms),
        "recall_by_kind": {
            kind: share(sum(o.flagged for o in group), len(group))
            for kind, group in sorted(by_kind.items())
            if group[0].example.crisis
        },
        "false_alarms_by_kind": {
            kind: share(sum(o.flagged for o in group), len(group))
            for kind, group in sorted(by_kind.items())
            if not group[0].example.crisis
        },
        "kind_agreement": share(
            sum(KIND_OF_LABEL.get(o.example.kind) == o.detected_kind for o in crises if o.flagged),
            sum(o.example.kind in KIND_OF_LABEL for o in crises if o.flagged),
        ),
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "missed": [
            {"line": o.example.line, "kind": o.example.kind, "text": o.example.text}
            for o in crises
            if not o.flagged
        ],
        "false_alarms": [
            {"line": o.example.line, "kind": o.example.kind, "text": o.example.text, "reason": o.reason}
            for o in others
            if o.flagged
        ],
    }


def print_summary(summary: dict[str, Any]) -> None:
    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    mode = "patterns + embedder" if summary["embedder"] else "patterns only"
    print(f"\n## Crisis detection ({mode})")
    print(f"messages: {summary['messages']} ({summary['crises']} crises, {summary['non_crises']} not)")
    recall_met = summary["recall"] is not None and summary["recall"] >= TARGETS["recall"]
    alarm_met = (
        summary["false_alarm_rate"] is not None and summary["false_alarm_rate"] <= TARGETS["false_alarm_rate"]
    )
    print(
        f"recall: {pct(summary['recall'])} (target ≥ {TARGETS['recall']:.0%}: {'met' if recall_met else 'NOT met'})"
    )
    print(
        f"false alarms: {pct(summary['false_alarm_rate'])} "
        f"(target ≤ {TARGETS['false_alarm_rate']:.0%}: {'met' if alarm_met else 'NOT met'})"
    )
    print(f"precision: {pct(summary['precision'])}")
    if summary["kind_agreement"] is not None:
        print(f"kind agreement (caught crises given the labelled kind): {pct(summary['kind_agreement'])}")
    print("recall by kind: " + ", ".join(f"{k} {pct(v)}" for k, v in summary["recall_by_kind"].items()))
    print(
        "false alarms by kind: "
        + ", ".join(f"{k} {pct(v)}" for k, v in summary["false_alarms_by_kind"].items())
    )
    print(f"time per message: median {summary['median_ms']:.2f} ms, p95 {summary['p95_ms']:.2f} ms", end="")
    before, after = summary.get("load_average") or (None, None)
    if before is not None and after is not None:  # the embedding model is slow on a busy CPU
        print(f" (1-min load average {before:.2f} at start, {after:.2f} at end, {os.cpu_count()} CPUs)")
    else:
        print()
    if summary["missed"]:
        print("\nmissed crises:")
        for m in summary["missed"]:
            print(f"- [line {m['line']} · {m['kind']}] “{m['text']}”")
    if summary["false_alarms"]:
        print("\nfalse alarms:")
        for m in summary["false_alarms"]:
            print(f"- [line {m['line']} · {m['kind']} · {m['reason']}] “{m['text']}”")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="a JSON Lines file (format above)")
    parser.add_argument("--no-embedder", action="store_true", help="patterns only, no embedding model")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)

    try:
        examples = load(args.data)
    except DataError as exc:
        parser.error(str(exc))
    embedder = None
    if not args.no_embedder:
        from joi_coach.memory.embeddings import Embedder

        embedder = Embedder()
        from joi_coach.safety.similarity import exemplars_for

        started = time.perf_counter()
        exemplars = exemplars_for(embedder)  # once per process, when the Coach is built
        print(
            f"crisis exemplars embedded in {time.perf_counter() - started:.2f} s "
            f"({len(exemplars.crisis)} crisis, {len(exemplars.safe)} safe; once per process)"
        )
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    summary = summarise(run(CrisisDetector(embedder), examples), embedder is not None)
    summary["load_average"] = [load_before, os.getloadavg()[0] if hasattr(os, "getloadavg") else None]
    print_summary(summary)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
