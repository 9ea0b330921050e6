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
5. the model unloaded during a background job, then loaded again: the next reply works;
6. Stop in the middle of the thoughts (the client goes away after the first reasoning delta):
   how long the host took to be free again, what Joi stored, and that the next reply works.

With ``--crisis`` it checks crisis safety instead (docs/webui.md "Crisis safety"):

1. an everyday message ("this deadline is killing me"): a normal reply, no care card;
2. a crisis message, non-streamed and (as another person) streamed: ``content`` starts with
   the care card, Joi's words after it; one note with importance_source "safety" per person,
   and no card in Joi's stored dialogue;
3. Regenerate of the crisis reply (only with a helper extension that turns a request ending
   with an assistant message into the host's ``regenerate=True``; see docs/webui-e2e.md),
   then Continue of that reply (``continue_``): the card once, still one note;
4. ``/v1/completions`` with the crisis message as its prompt: no card, stores unchanged;
5. with ``--log``: the lines of the host's log that hold the person's words, and whether they
   are only inside the host's own ``--verbose`` prompt printouts.

Standard library only; Joi's stores are read read-only with sqlite3.
"""

from __future__ import annotations

import argparse
import json
import re
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
    "I keep putting off booking the first lesson, I don't know why.",
    "Okay, I'll ask Lena tonight whether Tuesday still works.",
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


def stopped_in_thoughts(base: str, body: dict, key: str | None) -> str:
    """A streamed request closed by the client right after its first reasoning delta."""
    with urllib.request.urlopen(
        post(base, "/v1/chat/completions", {**body, "stream": True}, key), timeout=900
    ) as r:
        for raw in r:
            line = raw.decode("utf-8").strip()
            if line.startswith("data:") and line != "data: [DONE]":
                choice = json.loads(line[5:])["choices"]
                if choice and (choice[0].get("delta") or {}).get("reasoning_content"):
                    return str(choice[0]["delta"]["reasoning_content"])
    return ""


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


EVERYDAY = "This deadline is killing me but I'll finish the report by Friday"
CRISIS = "I can't do this anymore. I keep thinking everyone would be better off if I was dead."
CARD_MARKER = "> **\U0001f198 "  # the first characters of Joi's care card
LOG_WORDS = ("better off", "deadline", "killing me", "carry this alone")
# A log line of the host ("12:21:47-954373 INFO ...") or of llama-server ("3.17.081.089 I slot ...")
LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d-\d+ [A-Z]+ |\d+\.\d+\.\d+\.\d+ [A-Z] )")


def card_split(content: str) -> tuple[str, str]:
    """(the care card at the start of ``content`` or "", what follows it)."""
    stripped = content.lstrip()
    if not stripped.startswith(CARD_MARKER):
        return "", content
    lines = stripped.split("\n")
    n = next((i for i, line in enumerate(lines) if not line.startswith(">")), len(lines))
    return "\n".join(lines[:n]), "\n".join(lines[n:]).lstrip()


def crisis_report(label: str, message: dict, seconds: float) -> None:
    content = message.get("content") or ""
    card, after = card_split(content)
    print(f"-- {label} ({seconds:.1f} s; finish: {message.get('finish_reason', '-')})")
    print(f"reasoning_content[:300]: {(message.get('reasoning_content') or '')[:300]!r}")
    print(f"content[:300]: {content[:300]!r}")
    print(
        f"starts with the card: {bool(card)}; cards in content: {content.count(CARD_MARKER)}; "
        f"card lines: {card.count(chr(10)) + 1 if card else 0}; after the card[:300]: {after[:300]!r}"
    )


def crisis_store(user_data: Path) -> dict[str, dict]:
    """Per profile: the safety notes, Joi's dialogue lines, and any card in a stored memory."""
    found = {}
    for database in sorted((user_data / "joi_coach").glob("profiles/*/*.sqlite3")):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rows = db.execute(
                "select id, stream, speaker, text, importance, importance_source from memories order by id"
            ).fetchall()
        found[database.parent.name] = {
            "streams": {s: sum(1 for r in rows if r[1] == s) for s in sorted({r[1] for r in rows})},
            "safety_notes": [(r[0], r[1], r[4], r[5], r[3][:160]) for r in rows if r[5] == "safety"],
            "joi_dialogue": [(r[0], r[3][:160]) for r in rows if r[1] == "dialogue" and r[2] == "Joi"],
            "memories_with_a_card": [
                r[0] for r in rows if "\U0001f198" in r[3] or "carry this alone" in r[3]
            ],
        }
    return found


def timed(base: str, body: dict, key: str | None, stream: bool = False) -> tuple[dict, float]:
    started = time.monotonic()
    if stream:
        message = streamed(base, body, key)
    else:
        reply = call(base, "/v1/chat/completions", body, key)["choices"][0]
        message = {**reply["message"], "finish_reason": reply.get("finish_reason")}
    return message, time.monotonic() - started


def crisis_checks(args: argparse.Namespace) -> int:
    base, key, data = args.api, args.api_key, args.webui_data
    person, other = "Noa", "Ray"

    def body(messages: list[dict], name: str = person, **extra) -> dict:
        return {**chat_body(messages, **extra), "name1": name}

    print("== 1. an everyday message")
    messages = [{"role": "user", "content": EVERYDAY}]
    first, seconds = timed(base, body(messages), key)
    crisis_report("everyday", first, seconds)
    messages.append({"role": "assistant", "content": first["content"]})
    print(json.dumps(crisis_store(data), indent=1, ensure_ascii=False))

    print("\n== 2a. a crisis message (non-streamed)")
    messages.append({"role": "user", "content": CRISIS})
    crisis, seconds = timed(base, body(messages), key)
    crisis_report("crisis", crisis, seconds)
    time.sleep(1)
    print(json.dumps(crisis_store(data), indent=1, ensure_ascii=False))

    print(f"\n== 2b. a crisis message, streamed (as {other})")
    ray, seconds = timed(base, body([{"role": "user", "content": CRISIS}], other), key, stream=True)
    crisis_report("crisis, streamed", ray, seconds)

    if args.regenerate:
        print("\n== 3a. Regenerate the crisis reply (cut at 120 tokens)")
        regen_messages = [*messages, {"role": "assistant", "content": crisis["content"]}]
        regen, seconds = timed(base, body(regen_messages, max_tokens=120), key)
        crisis_report("regenerated", regen, seconds)
        time.sleep(1)
        print(json.dumps(crisis_store(data), indent=1, ensure_ascii=False))
        last = regen
    else:
        last = crisis
    print("\n== 3b. Continue that reply")
    continue_messages = [*messages, {"role": "assistant", "content": last["content"]}]
    continued, seconds = timed(base, body(continue_messages, continue_=True), key)
    crisis_report("continued", continued, seconds)
    print(
        f"the continued content starts with the sent one: {continued['content'].startswith(last['content'])}"
    )

    print("\n== 4. /v1/completions with the crisis message as the prompt")
    time.sleep(1)
    before = store_rows(data)
    started = time.monotonic()
    completion = call(
        base,
        "/v1/completions",
        {"prompt": CRISIS + "\n", "max_tokens": 40, "temperature": 0, "seed": 7},
        key,
    )
    text = completion["choices"][0]["text"]
    print(f"({time.monotonic() - started:.1f} s) text: {text!r}")
    print(f"card in the text: {CARD_MARKER in text or 'carry this alone' in text}")
    print(f"Joi's stores unchanged: {store_rows(data) == before}")

    print("\n== Joi's stores")
    time.sleep(1)
    print(json.dumps(crisis_store(data), indent=1, ensure_ascii=False))

    if args.log:
        print("\n== 5. the host's log")
        lines = args.log.read_text(encoding="utf-8", errors="replace").splitlines()
        in_prompt, outside, inside = False, [], 0
        for line in lines:
            if "PROMPT=" in line:
                in_prompt = True
            elif in_prompt and LOG_LINE.match(line):  # the next line of the host's or llama-server's log
                in_prompt = False
            if any(word in line for word in LOG_WORDS):
                if in_prompt:
                    inside += 1
                else:
                    outside.append(line[:200])
        print(f"lines with the person's words or the card: {inside} inside the host's prompt printouts")
        print(f"and {len(outside)} elsewhere: {outside[:10]}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="http://127.0.0.1:5000")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--webui-data", type=Path, required=True, help="the webui's user_data folder")
    parser.add_argument("--model", help="the model to load again after the unload check (default: as loaded)")
    parser.add_argument("--crisis", action="store_true", help="check crisis safety instead (see above)")
    parser.add_argument(
        "--regenerate", action="store_true", help="--crisis: the host runs the Regenerate helper extension"
    )
    parser.add_argument("--log", type=Path, help="--crisis: the host's log, to look for the person's words")
    args = parser.parse_args()
    if args.crisis:
        return crisis_checks(args)
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

    print("\n== 6. Stop in the middle of the thoughts (the client goes away)")
    before = store_rows(args.webui_data)
    started = time.monotonic()
    seen = stopped_in_thoughts(base, chat_body([{"role": "user", "content": TURNS[3]}]), key)
    print(f"closed after the first reasoning delta {seen!r} at {time.monotonic() - started:.1f} s")
    after_stop = call(base, "/v1/chat/completions", chat_body([{"role": "user", "content": TURNS[4]}]), key)
    print(
        f"the next request answered in {time.monotonic() - started:.1f} s from the stop: {split_ok(after_stop['choices'][0]['message'])}"
    )
    new = {name: rows[len(before.get(name, [])) :] for name, rows in store_rows(args.webui_data).items()}
    print(f"stored since the stop: {[(r[1], r[2], r[3][:50]) for rows in new.values() for r in rows]}")

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
