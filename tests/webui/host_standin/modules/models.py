"""What ``modules/models.py`` keeps about generations and the loaded model."""

import threading
import time

from modules import shared

active_generation_count = 0
_generation_count_lock = threading.Lock()
last_generation_time = time.time()
reloads = 0  # how often a generation loaded an idle-unloaded model again


def load_model_if_idle_unloaded():
    global last_generation_time, reloads
    if shared.args.idle_timeout > 0 and shared.model is None and shared.model_name not in (None, "None"):
        shared.model = shared.idle_unloaded_model  # the stand-in "loads" what it unloaded
        reloads += 1
        last_generation_time = time.time()


def unload_model(keep_model_name=False):
    """No lock, as in the host: a generation in flight may still be running."""
    if shared.model is None:
        return
    shared.idle_unloaded_model = shared.model
    shared.model = shared.tokenizer = None
    if not keep_model_name:
        shared.model_name = "None"
