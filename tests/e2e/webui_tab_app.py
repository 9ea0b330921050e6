"""The extension's tab inside a page laid out like text-generation-webui's, for browser tests.

Run as ``python tests/e2e/webui_tab_app.py PORT USER_DATA``: the extension is loaded by the
host stand-in exactly as the webui loads it, the page has the host's own "Your name" and
"Character" components (``shared.gradio['name1']``, ``['character_menu']``), and the tab is
built the way the webui builds extension tabs (``gr.Tab(display_name)`` around ``ui()``).
"""

import sys
from pathlib import Path

import gradio as gr

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "webui" / "host_standin"))

from modules import extensions, shared  # noqa: E402


def main() -> None:
    port, user_data = int(sys.argv[1]), Path(sys.argv[2])
    shared.user_data_dir = user_data
    shared.args.extensions = ["joi_coach"]
    shared.settings = {"joi_coach-background": False}
    extensions.load_extensions()
    script = extensions.state["joi_coach"][2]
    with gr.Blocks(css=script.custom_css(), analytics_enabled=False) as page:
        with gr.Tab("Chat"):
            shared.gradio["name1"] = gr.Textbox(value="You", label="Your name", elem_id="host-name1")
            shared.gradio["character_menu"] = gr.Dropdown(
                choices=["Assistant", "Joi"], value="Joi", label="Character", elem_id="host-character"
            )
        with gr.Tab(script.params["display_name"], elem_classes="extension-tab"):
            script.ui()
    page.queue()
    page.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True)
    print("Joi is ready at", f"http://127.0.0.1:{port}/", flush=True)
    page.block_thread()


if __name__ == "__main__":
    main()
