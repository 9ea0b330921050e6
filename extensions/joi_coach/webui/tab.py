"""The "Joi Coach" tab inside text-generation-webui: the shared memory tab, per profile.

A profile is a person talking to a character (``"You & Joi"``). The tab follows the host's
own "Your name" and "Character" fields where the page has them, and a menu lists every
profile Joi has memories for (the API's ones included). The choice is per browser session.
(No ``from __future__ import annotations``: gradio reads ``gr.Request`` annotations.)
"""

import threading
from typing import Any

import gradio as gr

from ..ui.compat import listen, make
from ..ui.memory_tab import MemoryTab
from ..ui.notice import first_start_notice
from ..ui.safety_tab import SafetyTab
from .extension import JoiExtension
from .turns import profile_of

HOST_FIELDS = ("name1", "character_menu")  # the host's components the tab follows


class WebuiTab:
    """Builds the tab in the host's current Blocks context (the host opens the gr.Tab)."""

    def __init__(self, extension: JoiExtension, host_components: dict[str, Any]) -> None:
        self.extension = extension
        self.host_components = host_components
        self._chosen: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def default_profile(self) -> str:
        return profile_of("You", str(self.extension.params.get("character") or "Joi"))

    def profile_of(self, request: gr.Request) -> str:
        with self._lock:
            return self._chosen.get(getattr(request, "session_hash", None) or "", self.default_profile)

    def user_name_of(self, request: gr.Request) -> str:
        return self.profile_of(request).split(" & ", 1)[0]

    def choose(self, profile: str, request: gr.Request):
        profile = (profile or "").strip() or self.default_profile
        with self._lock:
            self._chosen[getattr(request, "session_hash", None) or ""] = profile
        return gr.update(choices=self._choices(profile), value=profile)

    def list_profiles(self, current: str):
        return gr.update(choices=self._choices(current or self.default_profile))

    def follow_host(self, name1: str, character: str, request: gr.Request):
        return self.choose(profile_of(name1 or "You", character or "Joi"), request)

    def _choices(self, current: str) -> list[str]:
        known = self.extension.turns.known_profiles() if self.extension.turns else []
        return sorted(set(known) | {current, self.default_profile})

    def build(self) -> None:
        coach = self.extension.coach
        if coach is None:
            gr.Markdown("Joi Coach did not start; the server log says why.")
            return
        gr.Markdown("Joi acts when the **Joi** character is selected (chat or chat-instruct mode).")
        with make(
            gr.Accordion, label="Before you start: what Joi is, and where your memories live", open=True
        ):
            make(
                gr.Markdown,
                value=first_start_notice(coach.data_dir, where="this tab"),
                elem_id="joi-first-start-text",
            )
        with gr.Row():
            profile = make(
                gr.Dropdown,
                choices=self._choices(self.default_profile),
                value=self.default_profile,
                allow_custom_value=True,
                label="Whose memories (person & character)",
                scale=3,
                elem_id="joi-profile",
            )
            always_on = make(
                gr.Checkbox,
                value=bool(self.extension.params.get("always_on")),
                label="Joi on every chat (any character and mode)",
                scale=2,
                elem_id="joi-always-on",
            )
        memory = MemoryTab(coach, self.profile_of, self.user_name_of).build()
        with make(gr.Accordion, label="Safety plan and crisis lines", open=False, elem_id="joi-safety"):
            safety = SafetyTab(coach, self.profile_of).build()
        listen(always_on.change, self.extension.set_always_on, [always_on], None)
        listen(profile.focus, self.list_profiles, [profile], [profile])  # people who talked since
        chosen = listen(profile.input, self.choose, [profile], [profile])
        chosen.then(memory.refresh, memory.refresh_inputs, memory.refresh_outputs)
        chosen.then(safety.refresh, None, safety.refresh_outputs)
        followed = [self.host_components[k] for k in HOST_FIELDS if k in self.host_components]
        if len(followed) == len(HOST_FIELDS):
            for field in followed:
                changed = listen(field.change, self.follow_host, followed, [profile])
                changed.then(memory.refresh, memory.refresh_inputs, memory.refresh_outputs)
                changed.then(safety.refresh, None, safety.refresh_outputs)
