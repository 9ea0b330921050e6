"""Stand-in for text-generation-webui's server.py: records how the pod launched it, then exits.

Appends its arguments, working folder and the environment variables the pod sets to
``$STANDIN_CALLS``.
"""

import json
import os
import sys

WATCHED = ("HF_HOME", "HF_HUB_DISABLE_TELEMETRY", "GRADIO_ANALYTICS_ENABLED", "DO_NOT_TRACK", "HF_TOKEN")
with open(os.environ["STANDIN_CALLS"], "a", encoding="utf-8") as calls:
    record = {
        "program": "server.py",
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "env": {name: os.environ.get(name) for name in WATCHED},
    }
    calls.write(json.dumps(record) + "\n")
