"""Any OpenAI-compatible chat server: text-generation-webui's API, llama.cpp server,
Ollama, vLLM. Streams server-sent events with the standard library only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Generator, Sequence

from .base import CancelToken, ChatMessage, GenerationParams, LLMError, fold_system_messages


class OpenAICompatibleLLM:
    """``POST {base_url}/chat/completions`` with ``stream: true``."""

    supports_prefix = False

    def __init__(self, base_url: str, model: str = "", api_key: str = "", timeout: float = 120.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise LLMError(f"API base URL must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.name = model or self.base_url

    def _request(self, messages: Sequence[ChatMessage], params: GenerationParams) -> urllib.request.Request:
        body: dict = {
            "messages": fold_system_messages(messages),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        if params.stop:
            body["stop"] = list(params.stop)[:4]
        if params.seed is not None:
            body["seed"] = params.seed
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers=headers,
            method="POST",
        )

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: CancelToken | None = None,
        assistant_prefix: str = "",
    ) -> Generator[str, None, None]:
        try:
            response = urllib.request.urlopen(self._request(messages, params), timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace")
            raise LLMError(f"{self.base_url} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise LLMError(f"cannot reach {self.base_url}: {exc}") from exc
        with response:
            for raw in response:
                if cancel is not None and cancel.cancelled:
                    return
                line = raw.decode("utf-8", "replace").strip()
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
