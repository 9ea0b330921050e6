"""The one place prompts may be logged: off unless the person running Joi turns it on.

Prompts hold what people confide, so by default they reach no log, at any level. The
``--debug-prompts`` switch (``JOI_DEBUG_PROMPTS=1``) turns on the ``joi_coach.prompts`` logger,
which then logs each prompt sent to the model at INFO, for debugging on one's own machine.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from .base import ChatMessage

PROMPT_LOGGER = "joi_coach.prompts"
_log = logging.getLogger(PROMPT_LOGGER)
_log.disabled = True  # not even DEBUG on the root logger shows prompts


def show_prompts(enabled: bool) -> None:
    """Turn prompt logging on or off for this process."""
    _log.disabled = not enabled
    if enabled and _log.level == logging.NOTSET:
        _log.setLevel(logging.INFO)


def prompts_shown() -> bool:
    return not _log.disabled


def log_prompt(kind: str, messages: Sequence[ChatMessage], assistant_prefix: str = "") -> None:
    """Log a prompt (only when prompt logging is on)."""
    if _log.disabled:
        return
    shown = json.dumps(list(messages), ensure_ascii=False, indent=1)
    _log.info(
        "%s prompt:\n%s%s",
        kind,
        shown,
        f"\n(assistant starts with) {assistant_prefix}" if assistant_prefix else "",
    )
