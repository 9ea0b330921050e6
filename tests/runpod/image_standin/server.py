"""Stand-in for text-generation-webui's server.py: records how the pod launched it, then exits.

Appends its arguments, working folder, the environment variables the pod sets (a passphrase
only by name), and whether the volume's lock is held while it runs, to ``$STANDIN_CALLS``.
"""

import fcntl
import json
import os
import sys


def volume_locked() -> bool:
    """Is the entrypoint's lock held (by this process, which inherited it)?"""
    user_data = sys.argv[sys.argv.index("--user-data-dir") + 1]
    probe = os.open(os.path.join(os.path.dirname(user_data), "in-use.lock"), os.O_RDWR)
    try:
        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(probe)
    return False


WATCHED = (
    "HF_HOME",
    "HF_HUB_DISABLE_TELEMETRY",
    "GRADIO_ANALYTICS_ENABLED",
    "DO_NOT_TRACK",
    "HF_TOKEN",
    "JOI_PASSPHRASE_FILE",  # where Joi's extension reads the passphrase at setup
)
SECRETS = ("JOI_PASSPHRASE", "JOI_NEW_PASSPHRASE")  # recorded by name only: never inherited
with open(os.environ["STANDIN_CALLS"], "a", encoding="utf-8") as calls:
    record = {
        "program": "server.py",
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "env": {name: os.environ.get(name) for name in WATCHED},
        "secrets_in_env": [name for name in SECRETS if name in os.environ],
        "volume_locked": volume_locked(),
    }
    calls.write(json.dumps(record) + "\n")
