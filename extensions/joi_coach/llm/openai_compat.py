"""Any OpenAI-compatible server: text-generation-webui's API, llama.cpp's server, Ollama, vLLM.
Streams server-sent events with the standard library only.

Two ways to ask:

* **With a prompt template** (``template``: the instruction template of the server's model,
  in the webui's format): ``POST /completions`` with the prompt rendered here. The server
  then continues any text Joi gives it, so a reply runs in Joi's steps, as on the embedded
  model (``supports_prefix``). llama.cpp's server, ``llama_cpp.server``, vLLM and the webui's
  own API take a raw prompt there. Ollama wraps that prompt in its own template, so an Ollama
  server (noticed once, by its ``/api/version``) is sent ``/api/generate`` with ``raw: true``.
* **Chat only** (no template): ``POST /chat/completions``; a reply is one free generation,
  parsed as it comes (Joi's thoughts may come out thin or missing on a small model).

Stop strings: all of them are sent; a server that refuses more than four (OpenAI's limit) is
sent the first four, and every stop string is applied to the stream here as well, so none is
ever dropped. Recalled memories travel in a late system message (the prompt's prefix stays
the same from turn to turn); a chat server whose template refuses that is noticed on the
first refusal and sent one leading system message from then on.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from .base import CancelToken, ChatMessage, GenerationParams, LLMError, fold_system_messages
from .chat_template import InstructionTemplate
from .stops import cut_at_stops

log = logging.getLogger(__name__)
SERVER_STOP_LIMIT = 4  # what OpenAI's own API takes; others take more
_REFUSALS = (400, 422, 500)  # how servers answer a request their chat template or schema refuses


class _Refused(LLMError):
    def __init__(self, code: int, detail: str, url: str) -> None:
        super().__init__(f"{url} answered HTTP {code}: {detail}")
        self.code, self.detail = code, detail


class OpenAICompatibleLLM:
    """``POST {base_url}/completions`` (with ``template``) or ``/chat/completions``, streamed."""

    def __init__(
        self,
        base_url: str,
        model: str = "",
        api_key: str = "",
        timeout: float = 120.0,
        template: InstructionTemplate | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise LLMError(f"API base URL must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.template = template
        self.name = model or self.base_url
        self.supports_prefix = template is not None
        self.fold_system = False  # set once the server refused a late system message
        self._ollama: bool | None = None  # whether the server is Ollama (asked once, with a template)
        self._tokenizer: tuple[str, str] | bool | None = None  # (url, body key) once found; False: none
        self._bans: dict[tuple[str, ...], dict[str, float]] = {}
        self.logit_bias = True  # False once the server refused a logit bias
        self.stop_limit: int | None = None  # set once the server refused a long list of stops

    @property
    def mode(self) -> str:
        """How replies are made on this server, in words (for the UI and the logs)."""
        if self.supports_prefix:
            return "in steps (raw prompts through /completions)"
        return "in one pass (chat only: give --api-template to run the steps)"

    # -- requests -----------------------------------------------------------------------
    def _body(self, params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        stops = list(params.stop)
        if self.template is not None:
            stops += [s for s in self.template.stop_strings() if s not in stops]
        if stops:
            body["stop"] = stops[: self.stop_limit] if self.stop_limit else stops
        if params.seed is not None:
            body["seed"] = params.seed
        if params.avoid_words and self.logit_bias:
            bias = self._bias_against(params.avoid_words)
            if bias:
                body["logit_bias"] = bias
        if params.repeat_penalty != 1.0:
            body["repeat_penalty"] = params.repeat_penalty  # llama.cpp-family name; others ignore it
        return body

    def _post(self, url: str, body: dict[str, Any]) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace")
            raise _Refused(exc.code, detail, url) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise LLMError(f"cannot reach {self.base_url}: {exc}") from exc

    # -- words the model must not write (the thoughts' "you"): a logit bias on their tokens --
    _TOKENIZERS = (
        ("/extras/tokenize", "input"),  # llama_cpp.server
        ("/tokenize", "content"),  # llama.cpp's server
        ("/v1/internal/encode", "text"),  # text-generation-webui
        ("/tokenize", "prompt"),  # vLLM
    )

    def _tokenize(self, text: str) -> list[int] | None:
        """The server's token ids for ``text`` (found once among the known tokenize endpoints);
        None where the server has none."""
        root = self.base_url.removesuffix("/v1")
        candidates = [self._tokenizer] if isinstance(self._tokenizer, tuple) else self._TOKENIZERS
        if self._tokenizer is False:
            return None
        for path, key in candidates:
            request = urllib.request.Request(
                f"{root}{path}",
                data=json.dumps({key: text, "add_special": False}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=min(self.timeout, 10)) as answer:
                    tokens = json.loads(answer.read(100_000)).get("tokens")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(tokens, list) and all(isinstance(t, int) for t in tokens):
                self._tokenizer = (path, key)
                return tokens
        self._tokenizer = False
        log.info("%s has no tokenize endpoint Joi knows; the thoughts' word bans are not sent", self.base_url)
        return None

    def _bias_against(self, words: tuple[str, ...]) -> dict[str, float]:
        """OpenAI's ``logit_bias`` ruling out the single tokens that spell ``words`` (any case,
        with or without a leading space), as the embedded model does; {} where it cannot."""
        if words not in self._bans:
            empty = self._tokenize("") or []  # a tokenizer that adds a BOS anyway
            banned: set[int] = set()
            for word in words:
                for form in {word, word.capitalize(), word.lower()}:
                    for spaced in (form, f" {form}"):
                        tokens = self._tokenize(spaced)
                        if tokens is None:
                            self._bans[words] = {}
                            return {}
                        tokens = tokens[len(empty) :] if tokens[: len(empty)] == empty else tokens
                        if len(tokens) == 1:
                            banned.add(tokens[0])
            self._bans[words] = {str(t): -100.0 for t in sorted(banned)}
        return self._bans[words]

    def is_ollama(self) -> bool:
        """Whether the server is Ollama (its ``/api/version`` answers), asked once."""
        if self._ollama is None:
            root = self.base_url.removesuffix("/v1")
            try:
                with urllib.request.urlopen(f"{root}/api/version", timeout=min(self.timeout, 10)) as answer:
                    self._ollama = "version" in json.loads(answer.read(2000) or b"{}")
            except (OSError, ValueError):
                self._ollama = False
        return self._ollama

    def _open_ollama(self, messages: Sequence[ChatMessage], params: GenerationParams, prefix: str) -> Any:
        assert self.template is not None
        body = self._body(params)
        options = {"num_predict": body.pop("max_tokens"), "temperature": body.pop("temperature")}
        options.update({k: body.pop(k) for k in ("top_p", "stop", "seed", "repeat_penalty") if k in body})
        body.update(
            prompt=self.template.render(messages, add_generation_prompt=True) + prefix,
            raw=True,
            options=options,
        )
        return self._post(f"{self.base_url.removesuffix('/v1')}/api/generate", body)

    def _open(self, messages: Sequence[ChatMessage], params: GenerationParams, prefix: str) -> Any:
        """The streamed response; a refusal of many stops or of a late system message is
        learnt once and the request sent again in the form the server takes."""
        if self.template is not None and self.is_ollama():
            return self._open_ollama(messages, params, prefix)
        while True:
            body = self._body(params)
            if self.template is not None:
                path = "/completions"
                body["prompt"] = self.template.render(messages, add_generation_prompt=True) + prefix
            else:
                path = "/chat/completions"
                body["messages"] = fold_system_messages(messages) if self.fold_system else list(messages)
            try:
                return self._post(f"{self.base_url}{path}", body)
            except _Refused as exc:
                if exc.code not in _REFUSALS:
                    raise
                if "logit_bias" in body and "logit" in exc.detail.lower():
                    log.info("%s refused a logit bias; the thoughts' word bans are not sent", self.base_url)
                    self.logit_bias = False
                    continue
                if len(body.get("stop", ())) > SERVER_STOP_LIMIT and "stop" in exc.detail.lower():
                    log.info(
                        "%s takes at most %d stop strings; the rest apply here",
                        self.base_url,
                        SERVER_STOP_LIMIT,
                    )
                    self.stop_limit = SERVER_STOP_LIMIT
                    continue
                if path == "/chat/completions" and not self.fold_system and _late_system(messages):
                    log.info(
                        "%s refused a late system message; memories go into the first one", self.base_url
                    )
                    self.fold_system = True
                    continue
                raise

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        if assistant_prefix and self.template is None:
            raise LLMError("this server is used for chat only: it cannot continue a given text")
        response = self._open(messages, params, assistant_prefix)
        stops = list(params.stop) + (list(self.template.stop_strings()) if self.template else [])
        with response:
            yield from cut_at_stops(self._deltas(response, cancel), stops)

    def _deltas(self, response: Any, cancel: CancelToken | None) -> Iterator[str]:
        for raw in response:
            if cancel is not None and cancel.cancelled:
                return
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("{"):  # Ollama's /api/generate: one JSON object a line
                try:
                    event = json.loads(line)
                except ValueError as exc:
                    raise LLMError(f"unexpected stream line from {self.base_url}: {line[:200]}") from exc
                if event.get("response"):
                    yield str(event["response"])
                if event.get("done"):
                    return
                continue
            if not line.startswith("data:"):
                continue
            payload = line[len("data:") :].strip()
            if payload == "[DONE]":
                return
            try:
                event = json.loads(payload)
                choice = event["choices"][0]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise LLMError(f"unexpected stream event from {self.base_url}: {payload[:200]}") from exc
            text = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
            if text:
                yield text


def _late_system(messages: Sequence[ChatMessage]) -> bool:
    """Whether a system message comes after the first message."""
    return any(m["role"] == "system" for m in list(messages)[1:])
