#!/usr/bin/env python3
"""By-hand check of the webui's less travelled paths with Joi, through a running webui's API.

Start the webui on the llama.cpp loader with parallel requests, the API, Joi and another
extension with an output_modifier, with Joi as the Chat tab's character (user_data/settings.yaml:
``character: Joi`` and ``mode: chat``), e.g.

    python server.py --nowebui --api --verbose --parallel 2 --model MODEL.gguf \\
        --extensions joi_coach example

then run  scripts/check-webui-paths.py --webui-data PATH_TO_USER_DATA  and read the report:

1. a non-streamed reply: the voices in ``reasoning_content``, only the dialogue in ``content``;
2. a streamed reply sent while Joi's background job runs: the same split, and the reply runs
   to its end (not cut by Joi's stop);
3. Continue of a cut reply: Joi's stored line is replaced by the whole one, not added;
4. ``/v1/completions`` (a Notebook-like generation) with Joi selected: Joi's stores unchanged;
5. the model unloaded during a background job, then loaded again: the next reply works.

Standard library only; Joi's stores are read read-only with sqlite3.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
import urllib.request
from pathlib import Path

PERSON = "Pat"
TURNS = [
    "Hi Joi. I want to get back to swimming twice a week, but the pool is across town.",
    "My friend Lena swims on Tuesdays; maybe I could go with her.",
    "What would be a realistic first step this week?",
]


def post(base: str, path: str, body: dict, key: str | None, timeout: float = 900) -> urllib.request.Request:
    return urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})},
    )


def call(base: str, path: str, body: dict, key: str | None) -> dict:
    with urllib.request.urlopen(post(base, path, body, key), timeout=900) as response:
        return json.load(response)


def chat_body(messages: list[dict], **extra) -> dict:
    return {
        "messages": messages,
        "mode": "chat",
        "character": "Joi",
        "name1": PERSON,
        "max_tokens": 220,
        "temperature": 0.3,
        "seed": 7,
        **extra,
    }


def streamed(base: str, body: dict, key: str | None) -> dict:
    """A streamed chat completion: the reasoning and content deltas joined, and the finish reason."""
    reasoning, content, finish = [], [], None
    with urllib.request.urlopen(
        post(base, "/v1/chat/completions", {**body, "stream": True}, key), timeout=900
    ) as r:
        for raw in r:
            line = raw.decode("utf-8").strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            choice = json.loads(line[5:])["choices"]
            if not choice:
                continue
            delta = choice[0].get("delta", {})
            reasoning.append(delta.get("reasoning_content") or "")
            content.append(delta.get("content") or "")
            finish = choice[0].get("finish_reason") or finish
    return {"reasoning_content": "".join(reasoning), "content": "".join(content), "finish_reason": finish}


def split_ok(message: dict) -> str:
    reasoning, content = message.get("reasoning_content") or "", message.get("content") or ""
    voices = "Empathetic voice" in reasoning or "Therapist voice" in reasoning
    leaked = "voice:" in content.lower() or "<think>" in content or "</think>" in content
    return f"voices in reasoning: {voices}; labels or tags in content: {leaked}; content: {content[:90]!r}"


def store_rows(user_data: Path) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {}
    for database in sorted((user_data / "joi_coach").glob("profiles/*/*.sqlite3")):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rows[database.parent.name] = db.execute(
                "select id, stream, speaker, text from memories order by id"
            ).fetchall()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="http://127.0.0.1:5000")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--webui-data", type=Path, required=True, help="the webui's user_data folder")
    parser.add_argument("--model", help="the model to load again after the unload check (default: as loaded)")
    args = parser.parse_args()
    base, key = args.api, args.api_key

    print("== 1. non-streamed reply")
    messages = [{"role": "user", "content": TURNS[0]}]
    first = call(base, "/v1/chat/completions", chat_body(messages), key)["choices"][0]["message"]
    print(split_ok(first))
    messages.append({"role": "assistant", "content": first["content"]})

    print("\n== 2. streamed reply while Joi's background job runs")
    time.sleep(4)  # Joi's importance rating starts after 2 s of quiet
    messages.append({"role": "user", "content": TURNS[1]})
    started = time.monotonic()
    second = streamed(base, chat_body(messages), key)
    print(f"{split_ok(second)}; finish: {second['finish_reason']}; {time.monotonic() - started:.1f} s")
    messages.append({"role": "assistant", "content": second["content"]})

    print("\n== 3. Continue a cut reply")
    messages.append({"role": "user", "content": TURNS[2]})
    cut = call(base, "/v1/chat/completions", chat_body(messages, max_tokens=130), key)["choices"][0][
        "message"
    ]
    before = store_rows(args.webui_data)
    continued = call(
        base,
        "/v1/chat/completions",
        chat_body([*messages, {"role": "assistant", "content": cut["content"]}], continue_=True),
        key,
    )["choices"][0]["message"]
    after = store_rows(args.webui_data)
    profile = next((name for name in after if name.lower().startswith("pat")), None)
    joi_before = [r for r in before.get(profile, []) if r[2] == "Joi"]
    joi_after = [r for r in after.get(profile, []) if r[2] == "Joi"]
    print(f"cut content: {cut['content'][:80]!r}\ncontinued: {continued['content'][:120]!r}")
    print(
        f"Joi's dialogue memories: {len(joi_before)} before Continue, {len(joi_after)} after; "
        f"last: {joi_after[-1][3][:100] if joi_after else None!r}"
    )

    print("\n== 4. /v1/completions with Joi selected in the Chat tab")
    time.sleep(1)
    before = store_rows(args.webui_data)
    profiles_file = args.webui_data / "joi_coach" / "webui-profiles.json"
    profiles_before = profiles_file.read_text() if profiles_file.exists() else ""
    completion = call(
        base, "/v1/completions", {"prompt": "Once upon a time, in a small town,", "max_tokens": 30}, key
    )
    print(f"text: {completion['choices'][0]['text'][:80]!r}")
    unchanged = (
        store_rows(args.webui_data) == before
        and (profiles_file.read_text() if profiles_file.exists() else "") == profiles_before
    )
    print(f"Joi's stores and profile list unchanged: {unchanged}")

    print("\n== 5. the model unloaded during a background job")
    info = json.load(urllib.request.urlopen(f"{base}/v1/internal/model/info", timeout=60))
    model = args.model or info.get("model_name")
    call(
        base,
        "/v1/chat/completions",
        chat_body([{"role": "user", "content": "I swam 20 minutes today!"}]),
        key,
    )
    time.sleep(3)  # a background job is running now
    started = time.monotonic()
    call(base, "/v1/internal/model/unload", {}, key)
    print(f"unloaded in {time.monotonic() - started:.1f} s; waiting 5 s with no model")
    time.sleep(5)
    started = time.monotonic()
    call(base, "/v1/internal/model/load", {"model_name": model, "args": {"ctx_size": 8192}}, key)
    print(f"loaded {model} again in {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    after_reload = call(
        base, "/v1/chat/completions", chat_body([{"role": "user", "content": "Still there?"}]), key
    )
    print(
        f"a reply after the reload in {time.monotonic() - started:.1f} s: "
        f"{after_reload['choices'][0]['message']['content'][:80]!r}"
    )

    print("\n== Joi's stores")
    for name, rows in store_rows(args.webui_data).items():
        streams: dict[str, int] = {}
        for _, stream, _, _ in rows:
            streams[stream] = streams.get(stream, 0) + 1
        print(f"{name}: {streams}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
