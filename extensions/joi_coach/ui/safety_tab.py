"""The Safety tab: the person's safety plan, their crisis lines, and what Joi shows in a crisis.

Used by the standalone app and inside the webui's Joi Coach tab. (No ``from __future__
import annotations``: gradio finds ``gr.Request`` parameters by their real annotation.)
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..coach import Coach
from ..safety.detection import CrisisKind, CrisisSignal
from ..safety.plan import SECTIONS, SafetyPlan, load_plan, save_plan
from ..safety.response import build_card
from ..safety.settings import MAX_CONTACTS
from .compat import listen, make

ProfileOf = Callable[[gr.Request], str]
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
INTRO = (
    "**If you are in danger right now, call your local emergency number.**\n\n"
    "When something you write sounds like a crisis, Joi shows the crisis lines for your country, "
    "your own contacts and this plan above its reply. Write the plan on a calm day: "
    "what tells you a hard time is coming, what helps, and who you can turn to. "
    "It stays in your profile on this machine, with your memories (exported and forgotten with them)."
)
PREVIEW_SIGNAL = CrisisSignal(CrisisKind.SUICIDAL, 1.0, "preview")
# One queue for everything that reads or writes the plan's fields: a refresh that read the store
# before a save must not land after the save's reply and put the old plan back on screen.
SAFETY_QUEUE = "joi-safety"


@dataclass(frozen=True)
class SafetyTabParts:
    refresh: Callable[..., Any]
    refresh_outputs: list[Any]
    queue: str = SAFETY_QUEUE  # pass as ``concurrency_id`` to every listener that runs ``refresh``


class SafetyTab:
    """Builds the safety components and handlers inside the current gradio Blocks."""

    def __init__(self, coach: Coach, profile_of: ProfileOf) -> None:
        self.coach = coach
        self.profile_of = profile_of

    def _preview(self, profile: str) -> str:
        settings = self.coach.settings_for(profile).safety
        plan = self._plan(profile)
        card = build_card(PREVIEW_SIGNAL, self.coach.crisis_lines, settings, plan)
        return card.markdown()

    def _plan(self, profile: str) -> SafetyPlan:
        try:
            return load_plan(self.coach.bank(profile))
        except ValueError:
            return SafetyPlan()

    # -- handlers -----------------------------------------------------------------------
    def refresh(self, request: gr.Request) -> tuple[Any, ...]:
        profile = self.profile_of(request)
        safety = self.coach.settings_for(profile).safety
        plan = self._plan(profile)
        return (
            safety.country or "INTL",
            safety.language,
            "\n".join(safety.own_contacts),
            *(getattr(plan, s.key) for s in SECTIONS),
            self._preview(profile),
        )

    def save(
        self,
        country: str,
        language: str,
        contacts: str,
        warning_signs: str,
        what_helps: str,
        distractions: str,
        people_to_ask: str,
        professionals: str,
        safer_surroundings: str,
        request: gr.Request,
    ) -> tuple[str, str]:
        sections = (warning_signs, what_helps, distractions, people_to_ask, professionals, safer_surroundings)
        profile = self.profile_of(request)
        lines = [line.strip() for line in (contacts or "").splitlines() if line.strip()]
        try:
            plan = SafetyPlan.from_sections(
                {s.key: str(text or "") for s, text in zip(SECTIONS, sections, strict=True)}
            )
            self.coach.update_settings(
                profile,
                {
                    "safety": {
                        "country": "" if country in (None, "INTL") else str(country),
                        "language": str(language or ""),
                        "own_contacts": lines,
                    }
                },
            )
        except ValueError as exc:
            raise gr.Error(f"Not saved: {exc}") from exc
        save_plan(self.coach.bank(profile), plan, time.time())
        return self._preview(
            profile
        ), "Saved. This is what Joi shows if something you write sounds like a crisis."

    def clear_plan(self, request: gr.Request) -> tuple[Any, ...]:
        profile = self.profile_of(request)
        save_plan(self.coach.bank(profile), SafetyPlan(), time.time())
        return (*("" for _ in SECTIONS), self._preview(profile), "Your safety plan was cleared.")

    # -- layout -------------------------------------------------------------------------
    def build(self) -> SafetyTabParts:
        make(gr.Markdown, value=INTRO, elem_id="joi-safety-intro")
        directory = self.coach.crisis_lines
        languages = [("Same as the country", "")] + [
            (LANGUAGE_NAMES.get(code, code), code) for code in sorted(directory.texts)
        ]
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("#### My safety plan")
                sections = [
                    make(
                        gr.Textbox,
                        label=s.title,
                        placeholder=s.hint,
                        lines=2,
                        max_lines=8,
                        elem_id=f"joi-plan-{s.key.replace('_', '-')}",
                    )
                    for s in SECTIONS
                ]
                gr.Markdown("#### My crisis lines")
                with gr.Row():
                    country = make(
                        gr.Dropdown,
                        choices=directory.choices(),
                        value="INTL",
                        label="Where I am (which crisis lines to show)",
                        elem_id="joi-safety-country",
                    )
                    language = make(
                        gr.Dropdown,
                        choices=languages,
                        value="",
                        label="Language of the message",
                        elem_id="joi-safety-language",
                    )
                contacts = make(
                    gr.Textbox,
                    label=f"My own contacts, one per line (up to {MAX_CONTACTS})",
                    placeholder="My sister Ana: 07700 900123\nCommunity crisis team: 0300 123 4567",
                    lines=3,
                    max_lines=10,
                    elem_id="joi-safety-contacts",
                )
                with gr.Row():
                    save = make(gr.Button, value="Save", variant="primary", elem_id="joi-safety-save")
                    clear = make(gr.Button, value="Clear my plan", variant="stop", elem_id="joi-safety-clear")
                status = make(gr.Markdown, value="", elem_id="joi-safety-status")
            with gr.Column(scale=2):
                gr.Markdown("#### What Joi shows in a crisis")
                preview = make(gr.Markdown, value="", elem_id="joi-safety-preview")

        fields = [country, language, contacts, *sections]
        listen(save.click, self.save, fields, [preview, status], concurrency_id=SAFETY_QUEUE)
        listen(clear.click, self.clear_plan, None, [*sections, preview, status], concurrency_id=SAFETY_QUEUE)
        return SafetyTabParts(self.refresh, [country, language, contacts, *sections, preview])
