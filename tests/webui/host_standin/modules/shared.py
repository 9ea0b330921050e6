"""The host's global state that extensions read (``modules/shared.py``)."""

import threading
from argparse import Namespace
from pathlib import Path

args = Namespace(extensions=[], verbose=False, parallel=1, idle_timeout=0)
settings: dict = {}
default_settings: dict = {"name1": "You", "character": "Assistant"}
user_data_dir = Path("user_data")
gradio: dict = {}
model = None
model_name = "None"
idle_unloaded_model = None  # stand-in only: what models.unload_model took away
tokenizer = None
bos_token = "<s>"
eos_token = "</s>"
stop_everything = False
generation_lock = threading.Lock()
processing_message = "*Is typing...*"
