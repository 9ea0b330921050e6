"""The OpenAI-compatible backend's side of the protocol, against a small local HTTP server that
answers as OpenAI-compatible servers do (server-sent events, ``choices[0].delta.content`` for
chats, ``choices[0].text`` for raw prompts) and refuses as some of them do: more than four stop
strings (OpenAI's limit), a system message after the first (many chat templates).

The real server (llama-cpp-python's) is in test_openai_backend.py; this covers what it never
refuses.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joi_coach.llm.base import GenerationParams
from joi_coach.llm.chat_template import InstructionTemplate
from joi_coach.llm.openai_compat import OpenAICompatibleLLM
from joi_coach.llm.stops import StopCutter

MESSAGES = [
    {"role": "system", "content": "You are Joi."},
    {"role": "user", "content": "Hi"},
    {"role": "system", "content": "Remembered: Sam runs."},
    {"role": "user", "content": "I ran 3k today."},
]


class FakeServer(ThreadingHTTPServer):
    """Writes ``text`` in small deltas; refuses what its flags say it refuses (HTTP 400).
    ``ollama``: answers as Ollama does (``/api/version``; ``/api/generate``, one JSON object a
    line; its ``/v1/completions`` wraps the prompt in the model's template, so it is not used)."""

    def __init__(
        self,
        text: str,
        max_stops: int | None = None,
        late_system: bool = True,
        ollama: bool = False,
        tokenizer: bool = False,
    ) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.text, self.max_stops, self.late_system, self.ollama = text, max_stops, late_system, ollama
        self.tokenizer = tokenizer
        self.requests: list[tuple[str, dict]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.server.ollama and self.path == "/api/version":
            data = b'{"version": "0.12.3"}'
            self.send_response(200)
        else:
            data = b"404 page not found"
            self.send_response(404)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, body))
        if self.path == "/extras/tokenize" and self.server.tokenizer:  # llama_cpp.server's
            words = {" you": [499], "you": [9330], " You": [1446], "You": [2610], " your": [697]}
            data = json.dumps({"tokens": words.get(body["input"], [1, 2])}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if self.path == "/api/generate":
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            text = self.server.text
            for start in range(0, len(text), 3):
                self.wfile.write(
                    json.dumps({"response": text[start : start + 3], "done": False}).encode() + b"\n"
                )
            self.wfile.write(b'{"response": "", "done": true}\n')
            return
        refusal = self._refusal(body)
        if refusal:
            data = json.dumps({"error": {"message": refusal}}).encode()
            self.send_response(400)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chat = self.path.endswith("/chat/completions")
        text = self.server.text
        for start in range(0, len(text), 3):
            piece = text[start : start + 3]
            choice = {"delta": {"content": piece}} if chat else {"text": piece}
            self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def _refusal(self, body: dict) -> str:
        if self.server.max_stops is not None and len(body.get("stop", [])) > self.server.max_stops:
            return f"'stop' may hold at most {self.server.max_stops} strings"
        roles = [m["role"] for m in body.get("messages", [])]
        if not self.server.late_system and "system" in roles[1:]:
            return "Conversation roles must alternate user/assistant; system only first"
        return ""


@pytest.fixture()
def serve() -> Iterator:
    servers: list[FakeServer] = []

    def start(text: str, **flags: object) -> FakeServer:
        server = FakeServer(text, **flags)  # type: ignore[arg-type]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_with_a_template_the_prompt_is_rendered_here_and_continued_from_the_prefix(serve):
    server = serve(" proud of the run.\nTherapist voice: more")
    llm = OpenAICompatibleLLM(server.url, template=InstructionTemplate.load())
    assert llm.supports_prefix
    prefix = "<think>\nEmpathetic voice: Sam is"
    text = "".join(llm.stream_chat(MESSAGES, GenerationParams(stop=("\n",)), assistant_prefix=prefix))
    assert text == " proud of the run."  # cut at the step's own stop, here
    [(path, body)] = server.requests
    assert path == "/v1/completions" and "messages" not in body
    assert body["prompt"].endswith("<|im_start|>assistant\n" + prefix)
    assert "Remembered: Sam runs." in body["prompt"]  # the late system message stays where it is
    assert "<|im_end|>" in body["stop"]  # the template's end of turn


def test_chat_only_keeps_one_pass_and_refuses_a_prefix(serve):
    llm = OpenAICompatibleLLM(serve("Hello").url)
    assert not llm.supports_prefix and "one pass" in llm.mode
    with pytest.raises(Exception, match="chat only"):
        list(llm.stream_chat(MESSAGES, GenerationParams(), assistant_prefix="<think>"))


def test_every_stop_string_holds_even_where_the_server_takes_only_four(serve):
    server = serve("One, two, three, four, five.", max_stops=4)
    llm = OpenAICompatibleLLM(server.url)
    stops = ("\nSam:", "\nUser:", "\nJoi:", "<|im_end|>", "four")  # Joi's own name-stops last
    text = "".join(llm.stream_chat(MESSAGES, GenerationParams(stop=stops)))
    assert text == "One, two, three, "  # the fifth stop, which the server never got, still cut
    assert [len(body["stop"]) for _, body in server.requests] == [5, 4]
    "".join(llm.stream_chat(MESSAGES, GenerationParams(stop=stops)))
    assert len(server.requests) == 3  # learnt once: no refused request again


def test_a_server_that_refuses_a_late_system_message_gets_one_leading_one_from_then_on(serve):
    server = serve("Good to hear.", late_system=False)
    llm = OpenAICompatibleLLM(server.url)
    assert "".join(llm.stream_chat(MESSAGES, GenerationParams())) == "Good to hear."
    roles = [[m["role"] for m in body["messages"]] for _, body in server.requests]
    assert roles == [["system", "user", "system", "user"], ["system", "user", "user"]]
    assert "Remembered: Sam runs." in server.requests[1][1]["messages"][0]["content"]
    list(llm.stream_chat(MESSAGES, GenerationParams()))
    assert len(server.requests) == 3 and llm.fold_system


def test_a_server_that_takes_late_system_messages_keeps_them_late(serve):
    server = serve("Good to hear.")
    llm = OpenAICompatibleLLM(server.url)
    list(llm.stream_chat(MESSAGES, GenerationParams()))
    assert [m["role"] for m in server.requests[0][1]["messages"]] == ["system", "user", "system", "user"]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="ab\n:Sm", max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=8),
    stops=st.lists(st.text(alphabet="ab\n:Sm", min_size=1, max_size=4), max_size=3),
)
def test_the_stop_cutter_gives_the_text_up_to_the_first_stop_however_it_is_chunked(text, cuts, stops):
    bounds = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    chunks = [text[a:b] for a, b in itertools.pairwise(bounds)]
    cutter = StopCutter(stops)
    shown = "".join(cutter.feed(chunk) for chunk in chunks) + cutter.finish()
    first = min((i for i in (text.find(s) for s in stops) if i >= 0), default=len(text))
    assert shown == text[:first]


def test_an_ollama_server_gets_the_raw_prompt_through_its_own_generate_endpoint(serve):
    server = serve(" proud of the run.\nmore", ollama=True)
    llm = OpenAICompatibleLLM(server.url, model="qwen2.5-coder:1.5b", template=InstructionTemplate.load())
    prefix = "<think>\nEmpathetic voice: Sam is"
    text = "".join(llm.stream_chat(MESSAGES, GenerationParams(stop=("\n",), seed=3), assistant_prefix=prefix))
    assert text == " proud of the run."
    [(path, body)] = server.requests
    assert path == "/api/generate" and body["raw"] is True and body["model"] == "qwen2.5-coder:1.5b"
    assert body["prompt"].endswith("<|im_start|>assistant\n" + prefix)
    assert body["options"]["stop"][0] == "\n" and body["options"]["seed"] == 3


def test_a_server_that_is_not_ollama_is_asked_once(serve):
    server = serve("Fine.")
    llm = OpenAICompatibleLLM(server.url, template=InstructionTemplate.load())
    list(llm.stream_chat(MESSAGES, GenerationParams()))
    list(llm.stream_chat(MESSAGES, GenerationParams()))
    assert [path for path, _ in server.requests] == ["/v1/completions", "/v1/completions"]
    assert llm.is_ollama() is False


def test_the_thoughts_words_to_avoid_become_a_logit_bias_through_the_servers_tokenizer(serve):
    server = serve(" tired.", tokenizer=True)
    llm = OpenAICompatibleLLM(server.url, template=InstructionTemplate.load())
    avoid = GenerationParams(avoid_words=("you", "your"))
    list(llm.stream_chat(MESSAGES, avoid, assistant_prefix="<think>"))
    list(llm.stream_chat(MESSAGES, GenerationParams(), assistant_prefix="<think>"))
    asked = [body for path, body in server.requests if path == "/v1/completions"]
    assert asked[0]["logit_bias"] == {
        "499": -100.0,
        "697": -100.0,
        "1446": -100.0,
        "2610": -100.0,
        "9330": -100.0,
    }
    assert "logit_bias" not in asked[1]  # the spoken line may say "you"
    tokenized = [p for p, _ in server.requests if p == "/extras/tokenize"]
    list(llm.stream_chat(MESSAGES, avoid, assistant_prefix="<think>"))
    assert len([p for p, _ in server.requests if p == "/extras/tokenize"]) == len(tokenized)  # asked once


def test_without_a_tokenize_endpoint_nothing_is_banned_and_nothing_breaks(serve):
    server = serve(" tired.")
    llm = OpenAICompatibleLLM(server.url, template=InstructionTemplate.load())
    text = "".join(
        llm.stream_chat(MESSAGES, GenerationParams(avoid_words=("you",)), assistant_prefix="<think>")
    )
    assert text == " tired." and "logit_bias" not in server.requests[-1][1]
