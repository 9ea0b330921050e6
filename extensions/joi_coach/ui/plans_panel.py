"""The Plans section: the person's goals, commitments, limits, people, triggers and what helps,
to add, edit, complete, drop and undo, each with its history and the turns it came from.

Used in the Memory tab of the standalone app and of the webui's Joi Coach tab. (No ``from
__future__ import annotations``: gradio finds ``gr.Request`` parameters by their annotation.)
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import gradio as gr

from ..coach import Coach
from ..cognition.due_dates import resolve_due
from ..memory.plans import PlanError, PlanKind, PlanStatus
from .compat import listen, make
from .plan_views import KIND_TITLES, entry_label, plan_history, plans_list, review_html

ProfileOf = Callable[[gr.Request], str]
KIND_CHOICES = [(title, kind.value) for kind, title in KIND_TITLES.items()]
ACTIONS = {"done": PlanStatus.DONE, "missed": PlanStatus.MISSED, "dropped": PlanStatus.DROPPED}
_ID = re.compile(r"^#(\d+)\b")


@dataclass(frozen=True)
class PlansParts:
    refresh: Callable[..., Any]
    refresh_outputs: list[Any]


def parse_due(text: str, now: float) -> float | None:
    """A due time typed by the person: a date (2026-03-15) or words ("Sunday", "tomorrow")."""
    text = (text or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        except ValueError:
            raise gr.Error(f"{text} is not a date: write it as 2026-03-15.") from None
        return day.replace(hour=23, minute=59).timestamp()
    due = resolve_due(text, now)
    if due is None:
        raise gr.Error(
            f"Joi did not understand the due time {text[:40]!r}: write a date (2026-03-15) or a day."
        )
    return due


class PlansPanel:
    """Builds the Plans components and handlers inside the current gradio Blocks."""

    def __init__(self, coach: Coach, profile_of: ProfileOf) -> None:
        self.coach = coach
        self.profile_of = profile_of

    def _ledger(self, request: gr.Request):
        return self.coach.bank(self.profile_of(request)).plans

    def _view(self, request: gr.Request, status: str = "", chosen: str | None = None) -> tuple[Any, ...]:
        entries = self._ledger(request).entries()
        labels = [entry_label(e) for e in entries]
        if chosen is not None:
            chosen = next((label for label in labels if label.startswith(chosen.split(" ")[0] + " ")), None)
        return (
            plans_list(entries, self.coach.clock()),
            gr.update(choices=labels, value=chosen),
            status,
        )

    def _chosen_id(self, choice: str | None) -> int:
        match = _ID.match(choice or "")
        if not match:
            raise gr.Error("Choose an entry first.")
        return int(match.group(1))

    # -- handlers -----------------------------------------------------------------------
    def refresh(self, request: gr.Request) -> tuple[Any, ...]:
        return self._view(request)

    def add(self, kind: str, text: str, due: str, request: gr.Request) -> tuple[Any, ...]:
        now = self.coach.clock()
        try:
            entry = self._ledger(request).add(
                kind or PlanKind.GOAL.value, text or "", now, due_at=parse_due(due, now)
            )
        except PlanError as exc:
            raise gr.Error(f"Not added: {exc}.") from exc
        return (*self._view(request, f"Added #{entry.id}.", f"#{entry.id}"), "", "")

    def act(self, choice: str, action: str, request: gr.Request) -> tuple[Any, ...]:
        plan_id, now, ledger = self._chosen_id(choice), self.coach.clock(), self._ledger(request)
        try:
            if action == "undo":
                ledger.undo(plan_id, now)
                done = f"Took back the last change to #{plan_id}."
            else:
                ledger.set_status(plan_id, ACTIONS[action], now)
                done = f"#{plan_id} is now {ACTIONS[action].value}."
        except (PlanError, KeyError) as exc:
            raise gr.Error(str(exc).strip("'")) from exc
        return self._view(request, done, f"#{plan_id}")

    def _acting(self, action: str) -> Callable[..., tuple[Any, ...]]:
        def handler(choice: str, request: gr.Request) -> tuple[Any, ...]:
            return self.act(choice, action, request)

        return handler

    def edit(self, choice: str, text: str, due: str, request: gr.Request) -> tuple[Any, ...]:
        plan_id, now = self._chosen_id(choice), self.coach.clock()
        try:
            self._ledger(request).edit(plan_id, text or "", now, due_at=parse_due(due, now))
        except (PlanError, KeyError) as exc:
            raise gr.Error(f"Not saved: {exc}.") from exc
        return self._view(request, f"Saved #{plan_id}.", f"#{plan_id}")

    def review(self, request: gr.Request) -> tuple[Any, ...]:
        profile = self.profile_of(request)
        memory = self.coach.review_now(profile)
        if memory is None:
            return (*self._view(request, "Too little was said this week for a review."), "")
        return (*self._view(request, "The review is kept with the reflections."), review_html(memory.text))

    def show(self, choice: str, request: gr.Request) -> tuple[Any, ...]:
        if not _ID.match(choice or ""):
            return "", "", ""
        ledger = self._ledger(request)
        try:
            entry = ledger.get(self._chosen_id(choice))
        except KeyError:
            return "", "", ""
        turns = self.coach.bank(self.profile_of(request)).get(list(entry.evidence))
        due = (
            datetime.fromtimestamp(entry.due_at, tz=timezone.utc).strftime("%Y-%m-%d") if entry.due_at else ""
        )
        return plan_history(entry, ledger.history(entry.id), turns), entry.text, due

    # -- layout -------------------------------------------------------------------------
    def build(self) -> PlansParts:
        listing = make(gr.HTML, value="", elem_id="joi-plans-list")
        with gr.Row():
            kind = make(
                gr.Dropdown,
                choices=KIND_CHOICES,
                value="goal",
                label="Kind",
                scale=1,
                elem_id="joi-plan-kind",
            )
            text = make(
                gr.Textbox,
                label="New entry",
                placeholder="e.g. walk 20 minutes after lunch",
                scale=3,
                elem_id="joi-plan-text",
            )
            due = make(
                gr.Textbox,
                label="Due (optional)",
                placeholder="2026-03-15 or Sunday",
                scale=1,
                elem_id="joi-plan-due",
            )
            add = make(gr.Button, value="Add", variant="primary", scale=1, elem_id="joi-plan-add")
        chosen = make(gr.Dropdown, choices=[], label="Entry", elem_id="joi-plan-choice")
        with gr.Row():
            buttons = {
                action: make(gr.Button, value=label, elem_id=f"joi-plan-{action}")
                for action, label in (
                    ("done", "Done"),
                    ("missed", "Missed"),
                    ("dropped", "Drop"),
                    ("undo", "Undo"),
                )
            }
        with gr.Row():
            edit_text = make(gr.Textbox, label="Words", scale=3, elem_id="joi-plan-edit-text")
            edit_due = make(gr.Textbox, label="Due", scale=1, elem_id="joi-plan-edit-due")
            save = make(gr.Button, value="Save edit", scale=1, elem_id="joi-plan-save")
        status = make(gr.Markdown, value="", elem_id="joi-plan-status")
        history = make(gr.HTML, value="", elem_id="joi-plan-history")
        review = make(gr.Button, value="Review the last 7 days", elem_id="joi-plan-review")
        reviewed = make(gr.HTML, value="", elem_id="joi-plan-reviewed")

        view = [listing, chosen, status]
        opened = [history, edit_text, edit_due]
        listen(add.click, self.add, [kind, text, due], [*view, text, due]).then(self.show, [chosen], opened)
        for action, button in buttons.items():
            listen(button.click, self._acting(action), [chosen], view).then(self.show, [chosen], opened)
        listen(save.click, self.edit, [chosen, edit_text, edit_due], view).then(self.show, [chosen], opened)
        listen(chosen.input, self.show, [chosen], opened)
        listen(review.click, self.review, None, [*view, reviewed])
        return PlansParts(self.refresh, view)
