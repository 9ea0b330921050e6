"""Prompts reach a log only with the debug switch, never by default (not even at DEBUG)."""

from __future__ import annotations

import logging
import subprocess
import sys

from joi_coach.llm.base import GenerationParams
from joi_coach.llm.priority import PriorityLLM
from joi_coach.llm.prompt_log import show_prompts
from scripted_llm import ScriptedLLM

MARKER = "zanzibarquill"


def run_prompt(caplog) -> str:
    llm = PriorityLLM(ScriptedLLM(["ok", "fine"]), idle_before_background=0.0)
    messages = [{"role": "user", "content": f"my secret word is {MARKER}"}]
    with caplog.at_level(logging.DEBUG):
        list(llm.stream_chat(messages, GenerationParams()))
        llm.complete_background(messages, GenerationParams())
    return caplog.text


def test_no_prompt_is_logged_by_default_even_at_debug(caplog):
    assert MARKER not in run_prompt(caplog)


def test_the_debug_switch_logs_reply_and_background_prompts(caplog):
    show_prompts(True)
    try:
        text = run_prompt(caplog)
    finally:
        show_prompts(False)
    assert text.count(MARKER) == 2 and "reply prompt" in text and "background prompt" in text


def test_the_cli_documents_the_switch():
    out = subprocess.run(
        [sys.executable, "-m", "joi_coach.app.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--debug-prompts" in out and "JOI_DEBUG_PROMPTS" in out
