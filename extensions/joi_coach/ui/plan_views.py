"""HTML views of the plans ledger: the list, an entry's history and the turns it came from.

Pure functions (no gradio); every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from ..memory.models import Memory
from ..memory.plans import PlanChange, PlanEntry, PlanKind, PlanStatus
from .views import esc

KIND_TITLES = {
    PlanKind.GOAL: "Goal",
    PlanKind.COMMITMENT: "Commitment",
    PlanKind.LIMIT: "Limit",
    PlanKind.PERSON: "Person",
    PlanKind.TRIGGER: "Trigger",
    PlanKind.HELPS: "What helps",
}


def day_text(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%a %d %b %Y")


def entry_label(entry: PlanEntry) -> str:
    """One line naming an entry (for a dropdown)."""
    text = entry.text if len(entry.text) <= 60 else entry.text[:59] + "…"
    return f"#{entry.id} {KIND_TITLES[entry.kind].lower()} ({entry.status.value}): {text}"


def _due(entry: PlanEntry, now: float) -> str:
    if entry.due_at is None:
        return ""
    late = entry.status is PlanStatus.ACTIVE and entry.due_at < now
    return f' <span class="joi-plan-due{" joi-plan-late" if late else ""}">due {esc(day_text(entry.due_at))}</span>'


def plans_list(entries: Sequence[PlanEntry], now: float, *, active_only: bool = False) -> str:
    """The entries, active first, each with its kind, status, due time and who noted it."""
    shown = [e for e in entries if e.active] + ([] if active_only else [e for e in entries if not e.active])
    if not shown:
        return (
            '<p class="joi-plans-empty">No plans yet. Tell Joi what you want to work on, or add one here.</p>'
            if not active_only
            else '<p class="joi-plans-empty">No open plans yet.</p>'
        )
    items = []
    for entry in shown:
        noted = "noted by Joi" if entry.added_by == "joi" else "added by you"
        if entry.evidence:
            noted += " from turn " + ", ".join(f"#{m}" for m in entry.evidence)
        replaced = f", replaced by #{entry.superseded_by}" if entry.superseded_by else ""
        items.append(
            f'<li class="joi-plan joi-plan-{entry.status.value}" data-plan-id="{entry.id}">'
            f"<b>{esc(KIND_TITLES[entry.kind])}</b> #{entry.id}: {esc(entry.text)}{_due(entry, now)} "
            f'<span class="joi-plan-status">{esc(entry.status.value)}{esc(replaced)}</span> '
            f'<small class="joi-plan-noted">({esc(noted)}, {esc(day_text(entry.created_at))})</small></li>'
        )
    return '<ul class="joi-plans">' + "".join(items) + "</ul>"


def plan_history(entry: PlanEntry, history: Sequence[PlanChange], turns: Sequence[Memory]) -> str:
    """An entry's every change, oldest first, and the turns it cites."""
    rows = "".join(
        f"<li>{esc(day_text(c.at))}: {esc(c.change)} by {esc('Joi' if c.by == 'joi' else 'you')} → "
        f"{esc(c.status.value)}: {esc(c.text)}{(' (due ' + esc(day_text(c.due_at)) + ')') if c.due_at else ''}</li>"
        for c in history
    )
    cited = "".join(
        f'<li data-memory-id="{m.id}">turn #{m.id}, {esc(day_text(m.created_at))}: “{esc(m.text)}”</li>'
        for m in turns
    )
    return (
        f'<div class="joi-plan-history"><p><b>#{entry.id}</b> {esc(entry.text)}</p>'
        f"<p>History</p><ol>{rows}</ol>"
        + (f"<p>From these turns</p><ul>{cited}</ul>" if cited else "<p>Added by hand (no turn cited).</p>")
        + "</div>"
    )


def review_html(text: str) -> str:
    """A review, one part a line ("Done: …", "Pattern: …")."""
    parts = [
        p.strip()
        for p in text.replace(". Done:", ".\nDone:")
        .replace(". Missed:", ".\nMissed:")
        .replace(". Still open:", ".\nStill open:")
        .replace(". Pattern:", ".\nPattern:")
        .replace(". Question:", ".\nQuestion:")
        .split("\n")
    ]
    return '<div class="joi-review">' + "".join(f"<p>{esc(p)}</p>" for p in parts if p) + "</div>"


REVIEW_OFFER = (
    '<p class="joi-review-offer">A week has passed since your last review. '
    "<b>Memory → Plans → Review the last 7 days</b> looks back on what you did and what got in the way.</p>"
)
