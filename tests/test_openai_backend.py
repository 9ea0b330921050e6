"""The OpenAI-compatible backend against a real server: llama-cpp-python's own OpenAI API server."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from joi_coach.coach import Coach, collect
from joi_coach.cognition.voices import match_label
from joi_coach.config import CoachSettings
from joi_coach.llm.base import GenerationParams, LLMError
from joi_coach.llm.openai_compat import OpenAICompatibleLLM

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from reply_paths import free_port, serve_embedded

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def server_url():
    """The embedded GGUF behind llama-cpp-python's own server (as the benchmark starts it)."""
    with serve_embedded() as url:
        yield url


def test_streams_a_completion(server_url):
    llm = OpenAICompatibleLLM(server_url, model="joi", api_key="secret")
    chunks = list(
        llm.stream_chat(
            [{"role": "user", "content": "Count from one to five in words."}],
            GenerationParams(max_tokens=30, temperature=0),
        )
    )
    assert len(chunks) > 3
    assert "three" in "".join(chunks).lower()


def test_unreachable_server_is_a_clear_error():
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(LLMError, match="cannot reach"):
        list(llm.stream_chat([{"role": "user", "content": "hi"}], GenerationParams(max_tokens=5)))
    with pytest.raises(LLMError, match="http"):
        OpenAICompatibleLLM("ftp://example")


def test_coach_turn_over_the_api(server_url, tmp_path, embedder):
    llm = OpenAICompatibleLLM(server_url)
    coach = Coach(llm, embedder, tmp_path, settings=replace(CoachSettings(), background=False))
    _, _, turn = collect(
        coach.reply("remote", "I want to get better at saying no to extra work.", user_name="Kim")
    )
    assert turn.reply.dialogue, turn.raw
    assert not any(match_label(line) for line in turn.reply.dialogue.splitlines())
    assert coach.bank("remote").count() >= 2
    coach.close()


def test_with_the_models_template_a_coach_turn_runs_in_steps_over_the_api(server_url, tmp_path, embedder):
    from joi_coach.llm.chat_template import InstructionTemplate

    llm = OpenAICompatibleLLM(server_url, template=InstructionTemplate.load("Joi-ChatML"))
    coach = Coach(llm, embedder, tmp_path, settings=replace(CoachSettings(), background=False))
    _, _, turn = collect(
        coach.reply("remote", "I want to get better at saying no to extra work.", user_name="Kim")
    )
    assert turn.raw.startswith("<think>\nEmpathetic voice: Kim is")  # the steps' forced labels
    assert "\nTherapist voice: What would help Kim most now is" in turn.raw
    assert turn.reply.empathetic.startswith("Kim is") and len(turn.reply.empathetic) > len("Kim is ")
    assert turn.reply.therapeutic and turn.reply.dialogue, turn.raw
    assert not any(match_label(line) for line in turn.reply.dialogue.splitlines())
    coach.close()


def test_no_stop_string_is_dropped_over_the_api(server_url):
    llm = OpenAICompatibleLLM(server_url)
    stops = ("\nSam:", "\nUser:", "\nJoi:", "<|im_end|>", "four", "Four")  # more than OpenAI takes
    text = "".join(
        llm.stream_chat(
            [{"role": "user", "content": "Count from one to ten in words, separated by commas."}],
            GenerationParams(max_tokens=40, temperature=0, stop=stops),
        )
    )
    assert "three" in text.lower() and "four" not in text.lower() and "five" not in text.lower()
