"""Plan-noting benchmark: what the model proposes for the ledger, against labelled dialogues.

Each dialogue (``benchmarks/plans/extraction-dev.jsonl``: its turns, the ledger entries
known before them, and the expected new entries and status changes) goes through the real
noting step (:func:`joi_coach.cognition.plan_keeping.proposals_for`: the noting prompt, the
model, the checking parser, then one question per touched entry on its status) on the configured model (default: the embedded one).

    python benchmarks/plans.py [--cases FILE] [--limit N] [--show]

Scores (a proposed entry matches an expected one of the same kind when every keyword group
has a word in its text; a status change matches when its status is one of those accepted):

- **precision**: proposals (entries and changes) that match an expected item;
- **recall**: expected items some proposal matches;
- **status-change accuracy**: expected changes proposed with an accepted status;
- **invented due dates**: entries given a due time where the person named none; **wrong
  due dates**: a due time on another day than the one the person named;
- **quiet**: dialogues with nothing to note where nothing was proposed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from joi_coach.cognition.plan_keeping import proposals_for
from joi_coach.cognition.plan_notes import Line, NewEntry, Proposal, StatusChange
from joi_coach.memory.plans import PlanEntry, PlanKind, PlanStatus

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "benchmarks" / "plans" / "extraction-dev.jsonl"


def parse_time(text: str) -> float:
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def day_of(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, tz=timezone.utc).date().isoformat()


@dataclass
class Case:
    id: str
    user: str
    now: float
    lines: list[Line]
    known: list[PlanEntry]
    refs: dict[str, int]
    new: list[dict]
    changes: list[dict]


def load(path: Path) -> list[Case]:
    cases = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            continue
        item = json.loads(raw)
        now = parse_time(item["now"])
        refs, known = {}, []
        for index, entry in enumerate(item.get("known", []), 1):
            refs[entry["ref"]] = index
            due = parse_time(entry["due"] + "T23:59:00") if entry.get("due") else None
            known.append(
                PlanEntry(
                    index,
                    PlanKind(entry["kind"]),
                    entry["text"],
                    PlanStatus(entry.get("status", "active")),
                    due,
                    now - 7 * 86400,
                    now - 7 * 86400,
                    "joi",
                )
            )
        user = item.get("user") or "Sam"
        lines, number = [], 0
        for turn in item["turns"]:  # numbered as the app numbers them: the person's lines 1, 2, 3…
            number += turn["who"] == "person"
            lines.append(Line(number if turn["who"] == "person" else 0, turn["text"], now))
        expect = item.get("expect", {})
        cases.append(
            Case(item["id"], user, now, lines, known, refs, expect.get("new", []), expect.get("changes", []))
        )
    return cases


def matches(entry: NewEntry, expected: dict) -> bool:
    if entry.kind.value != expected["kind"]:
        return False
    text = entry.text.lower()
    return all(any(word.lower() in text for word in group) for group in expected.get("keywords", []))


@dataclass
class Tally:
    proposals: int = 0
    correct: int = 0
    expected: int = 0
    found: int = 0
    changes_expected: int = 0
    changes_right: int = 0
    invented_due: int = 0
    wrong_due: int = 0
    quiet_cases: int = 0
    quiet_kept: int = 0
    seconds: list[float] = field(default_factory=list)


def score(case: Case, proposals: list[Proposal], tally: Tally, show: bool) -> None:
    new = [p for p in proposals if isinstance(p, NewEntry)]
    changes = [p for p in proposals if isinstance(p, StatusChange)]
    expected_changes = {case.refs[c["ref"]]: c["status"] for c in case.changes}
    # a REPLACE is a status change (superseded) and a new entry
    superseded = {p.replaces for p in new if p.replaces is not None}
    tally.proposals += len(new) + len(changes) + len(superseded)
    tally.expected += len(case.new) + len(case.changes)
    tally.changes_expected += len(case.changes)
    unmatched = list(range(len(case.new)))
    for entry in new:
        hit = next((i for i in unmatched if matches(entry, case.new[i])), None)
        if hit is None:
            if show:
                print(f"  {case.id}: unexpected {entry.kind.value}: {entry.text!r}")
            continue
        unmatched.remove(hit)
        tally.correct += 1
        tally.found += 1
        want = case.new[hit].get("due")
        if entry.due_at is not None and not want:
            tally.invented_due += 1
            if show:
                print(f"  {case.id}: invented due {day_of(entry.due_at)} for {entry.text!r}")
        elif entry.due_at is not None and want and day_of(entry.due_at) != want:
            tally.wrong_due += 1
            if show:
                print(f"  {case.id}: due {day_of(entry.due_at)}, expected {want}")
    for index in unmatched:
        if show:
            print(f"  {case.id}: missed {case.new[index]['kind']} {case.new[index].get('keywords')}")
    proposed = {c.plan_id: c.status.value for c in changes}
    proposed.update(dict.fromkeys(superseded, "superseded"))
    for plan_id, status in proposed.items():
        if status in expected_changes.get(plan_id, []):
            tally.correct += 1
        elif show:
            print(f"  {case.id}: change #{plan_id} -> {status}, expected {expected_changes.get(plan_id)}")
    for plan_id, accepted in expected_changes.items():
        if proposed.get(plan_id) in accepted:
            tally.found += 1
            tally.changes_right += 1
        elif show and plan_id not in proposed:
            print(f"  {case.id}: missed change #{plan_id} -> {accepted}")
    if not case.new and not case.changes:
        tally.quiet_cases += 1
        tally.quiet_kept += not proposals


def share(part: int, whole: int) -> str:
    return f"{part / whole:.2f} ({part}/{whole})" if whole else "—"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--limit", type=int, default=0, help="only the first N dialogues")
    parser.add_argument("--show", action="store_true", help="print every miss and unexpected proposal")
    parser.add_argument("--model", help="a GGUF file instead of the embedded default")
    args = parser.parse_args(argv)
    from joi_coach.llm.embedded import EmbeddedLLM
    from joi_coach.llm.priority import PriorityLLM

    llm = PriorityLLM(EmbeddedLLM(args.model))
    cases = load(args.cases)[: args.limit or None]
    tally = Tally()
    for case in cases:
        started = time.perf_counter()
        proposals = proposals_for(llm.complete_background, case.user, case.lines, case.known)
        tally.seconds.append(time.perf_counter() - started)
        score(case, proposals, tally, args.show)
    print(
        f"# Plan noting: {len(cases)} dialogues from {args.cases.name} (model: {args.model or 'embedded default'})"
    )
    print(f"precision: {share(tally.correct, tally.proposals)} (target ≥ .85)")
    print(f"recall: {share(tally.found, tally.expected)} (target ≥ .75)")
    print(f"status-change accuracy: {share(tally.changes_right, tally.changes_expected)}")
    print(f"invented due dates: {tally.invented_due}; wrong due dates: {tally.wrong_due}")
    print(f"nothing proposed where nothing was to note: {share(tally.quiet_kept, tally.quiet_cases)}")
    print(
        f"time per dialogue: median {statistics.median(tally.seconds):.1f} s (background, off the reply's path)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
