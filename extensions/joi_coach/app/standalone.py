"""The standalone page: a chat tab and the shared memory tab, one profile per signed-in user.

(No ``from __future__ import annotations``: gradio finds ``gr.Request`` parameters by their
real annotation.)
"""

import gradio as gr

from ..chat_room import ChatRooms
from ..coach import Coach
from ..person_name import chosen_name
from ..ui.chat_tab import CAPTURE_SENDS_JS, ChatTab
from ..ui.compat import GRADIO_MAJOR, listen, make
from ..ui.memory_tab import MemoryTab
from ..ui.safety_tab import SafetyTab
from ..ui.views import UI_CSS

LOCAL_PROFILE = "local"


def local_theme() -> gr.themes.Base:
    """A theme with the system's fonts: the page never fetches anything from the internet."""
    return gr.themes.Soft(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "monospace"],
    )


class StandaloneApp:
    """Owns the chat rooms and builds the page; ``blocks`` is what gets launched."""

    def __init__(self, coach: Coach, *, user_name: str = "User") -> None:
        self.coach = coach
        self.default_user_name = user_name
        self.rooms = ChatRooms(coach)
        self.blocks = self._build()

    # Without auth everyone on this machine is the one local person; with auth each
    # signed-in user is their own profile and sees nothing of anyone else's.
    @staticmethod
    def profile_of(request: gr.Request) -> str:
        return _signed_in(request) or LOCAL_PROFILE

    def user_name_of(self, request: gr.Request) -> str:
        """The name the person chose, else their sign-in name, else the app's default."""
        chosen = chosen_name(self.coach.bank(self.profile_of(request)))
        return chosen or _signed_in(request) or self.default_user_name

    def _build(self) -> gr.Blocks:
        # delete_cache: gradio's copies of downloads (exports) go after ten minutes.
        blocks_kwargs = {"title": "Joi — your coach", "analytics_enabled": False, "delete_cache": (600, 600)}
        if GRADIO_MAJOR < 6:
            blocks_kwargs.update(css=UI_CSS, theme=local_theme())
        with make(gr.Blocks, **blocks_kwargs) as blocks:
            with gr.Tab("Chat", elem_id="joi-tab-chat"):
                chat = ChatTab(self.rooms, self.coach.character, self.profile_of, self.user_name_of)
                load_chat, chat_outputs = chat.build()
            with gr.Tab("Memory", elem_id="joi-tab-memory") as memory_tab_handle:
                memory = MemoryTab(self.coach, self.profile_of, self.user_name_of).build()
            with gr.Tab("Safety", elem_id="joi-tab-safety") as safety_tab_handle:
                safety = SafetyTab(self.coach, self.profile_of).build()
            listen(blocks.load, None, None, None, js=CAPTURE_SENDS_JS)
            listen(blocks.load, load_chat, None, chat_outputs, concurrency_limit=None)
            listen(blocks.load, chat.notice_needed, None, [chat.first_start])
            listen(blocks.load, chat.names_shown, None, chat.name_boxes)
            for opened in (safety_tab_handle.select, blocks.load):
                listen(opened, safety.refresh, None, safety.refresh_outputs, concurrency_id=safety.queue)
            listen(memory_tab_handle.select, memory.refresh, memory.refresh_inputs, memory.refresh_outputs)
            listen(blocks.load, memory.refresh, memory.refresh_inputs, memory.refresh_outputs)
        return blocks

    def launch_kwargs(self) -> dict:
        """Arguments for ``blocks.launch`` that depend on the gradio version."""
        return {"css": UI_CSS, "theme": local_theme()} if GRADIO_MAJOR >= 6 else {}

    def close(self) -> None:
        self.rooms.close()


def _signed_in(request: gr.Request | None) -> str | None:
    """The signed-in user's name, or None when the app runs without auth."""
    return getattr(request, "username", None) if request is not None else None
