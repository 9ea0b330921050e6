"""The "Joi Coach" tab inside text-generation-webui: the shared memory tab, per profile.

A profile is a person talking to a character (``"You & Joi"``). The tab follows the host's
own "Your name" and "Character" fields where the page has them, and a menu lists every
profile Joi has memories for (the API's ones included). The choice is per browser session.

While the data folder is encrypted and locked, the tab shows only a passphrase field
("Unlock Joi's memories"); everything else appears once it is unlocked, and nothing in the
tab opens a store before that.
(No ``from __future__ import annotations``: gradio reads ``gr.Request`` annotations.)
"""

import functools
import threading
from collections.abc import Callable
from typing import Any

import gradio as gr
from gradio.context import Context

from ..ui.compat import listen, make
from ..ui.memory_tab import MemoryTab
from ..ui.notice import first_start_notice
from ..ui.safety_tab import SafetyTab
from .extension import JoiExtension
from .turns import profile_of

HOST_FIELDS = ("name1", "character_menu")  # the host's components the tab follows
LOCKED_TEXT = (
    "**Joi's memories are encrypted.** Type their passphrase to unlock them. Until then Joi "
    "stays out of the chat: the webui answers as it would without Joi, and nothing is remembered. "
    "(The passphrase is set or changed with `joi-coach encrypt` / `joi-coach change-passphrase` "
    "while the webui is stopped; it can also be given at start in `JOI_PASSPHRASE_FILE` or "
    "`JOI_PASSPHRASE`.)"
)


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

    def unlock(self, passphrase: str, request: gr.Request):
        """The unlock button: the passphrase box emptied, what happened, and the tab's parts."""
        message = self.extension.unlock(passphrase)
        locked = self.extension.locked
        return (
            gr.update(value=""),
            message,
            gr.update(visible=locked),
            gr.update(visible=not locked),
            gr.update(choices=self._choices(self.profile_of(request))),
        )

    def show_lock_state(self):
        """On each page load: the passphrase field while locked, the tab's parts once unlocked."""
        locked = self.extension.locked
        return gr.update(visible=locked), gr.update(visible=not locked)

    def while_unlocked(self, fn: Callable[..., Any], outputs: int) -> Callable[..., Any]:
        """``fn`` (a refresh of the tab's parts), leaving its outputs as they are while locked:
        the host's name and character fields fire it before anyone unlocks."""

        @functools.wraps(fn)  # gradio reads the signature (and gr.Request) through __wrapped__
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.extension.locked:
                unchanged = tuple(gr.update() for _ in range(outputs))
                return unchanged[0] if outputs == 1 else unchanged
            return fn(*args, **kwargs)

        return guarded

    def _choices(self, current: str) -> list[str]:
        known = self.extension.turns.known_profiles() if self.extension.turns else []
        return sorted(set(known) | {current, self.default_profile})

    def build(self) -> None:
        coach = self.extension.coach
        if coach is None:
            gr.Markdown("Joi Coach did not start; the server log says why.")
            return
        locked = self.extension.locked
        with make(gr.Column, visible=locked, elem_id="joi-unlock") as unlock_box:
            make(gr.Markdown, value=LOCKED_TEXT, elem_id="joi-locked-text")
            with gr.Row():
                passphrase = make(
                    gr.Textbox,
                    type="password",
                    label="Unlock Joi's memories",
                    placeholder="passphrase",
                    scale=3,
                    elem_id="joi-passphrase",
                )
                unlock_button = make(
                    gr.Button, value="Unlock", variant="primary", scale=1, elem_id="joi-unlock-button"
                )
            unlock_status = make(gr.Markdown, value="", elem_id="joi-unlock-status")
        with make(gr.Column, visible=not locked, elem_id="joi-unlocked") as unlocked:
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
        refresh_memory = self.while_unlocked(memory.refresh, len(memory.refresh_outputs))
        refresh_safety = self.while_unlocked(safety.refresh, len(safety.refresh_outputs))

        def then_refresh(event: Any) -> None:
            event.then(refresh_memory, memory.refresh_inputs, memory.refresh_outputs)
            event.then(refresh_safety, None, safety.refresh_outputs, concurrency_id=safety.queue)

        unlock_outputs = [passphrase, unlock_status, unlock_box, unlocked, profile]
        for trigger in (unlock_button.click, passphrase.submit):
            then_refresh(listen(trigger, self.unlock, [passphrase], unlock_outputs))
        page = Context.root_block  # the host's page: a page opened after an unlock shows the tab
        if page is not None:
            listen(page.load, self.show_lock_state, None, [unlock_box, unlocked], show_progress="hidden")
        listen(always_on.change, self.extension.set_always_on, [always_on], None)
        listen(profile.focus, self.list_profiles, [profile], [profile])  # people who talked since
        then_refresh(listen(profile.input, self.choose, [profile], [profile]))
        followed = [self.host_components[k] for k in HOST_FIELDS if k in self.host_components]
        if len(followed) == len(HOST_FIELDS):
            for field in followed:
                then_refresh(listen(field.change, self.follow_host, followed, [profile]))
