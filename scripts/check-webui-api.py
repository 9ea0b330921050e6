#!/usr/bin/env python3
"""By-hand check of Joi inside a running text-generation-webui, through its API.

Start the webui with the API and Joi (and, to check coexistence, another extension), e.g.

    python server.py --nowebui --api --verbose --extensions character_bias joi_coach

then run  scripts/check-webui-api.py --webui PATH_TO_WEBUI  and read the report. It talks to
Joi for several turns as one person, then as a second character and as a second person, and
reads Joi's memory stores (SQLite, read-only) to see what was stored. The host's log (with
--verbose) shows the prompts: look there for the recalled memories. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
import urllib.request
from pathlib import Path

TURNS = [
    "Hi Joi. I keep putting off my thesis; every evening I open the laptop and end up scrolling.",
    "My sister Mia says I should set a timer, but timers make me anxious.",
    "I used to write best in the mornings at the library, before work.",
    "Honestly I think I avoid it because I'm afraid the chapter won't be good enough.",
    "Last year I finished a hard project by doing one ugly draft first.",
    "What could I try tomorrow about the thesis?",
]


def chat(base: str, messages: list[dict], character: str, user: str, key: str | None) -> dict:
    body = {
        "messages": messages,
        "mode": "chat",
        "character": character,
        "name1": user,  # the API's alias for user_name
        "max_tokens": 220,
        "temperature": 0.3,
        "seed": 7,
    }
    request = urllib.request.Request(
        f"{base}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.load(response)


def conversation(base: str, character: str, user: str, turns: list[str], key: str | None) -> list[dict]:
    messages: list[dict] = []
    results = []
    for text in turns:
        messages.append({"role": "user", "content": text})
        started = time.monotonic()
        reply = chat(base, messages, character, user, key)
        message = reply["choices"][0]["message"]
        results.append({"seconds": round(time.monotonic() - started, 1), **message})
        messages.append({"role": "assistant", "content": message["content"]})
    return results


def stores(data_dir: Path) -> dict[str, dict]:
    """Per profile folder: memories per stream, rated ones, reflections with evidence."""
    found = {}
    for database in sorted(data_dir.glob("profiles/*/*.sqlite3")) + sorted(data_dir.glob("profiles/*/*.db")):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            tables = {row[0] for row in db.execute("select name from sqlite_master where type='table'")}
            if "memories" not in tables:
                continue
            counts = dict(db.execute("select stream, count(*) from memories group by stream").fetchall())
            rated = db.execute("select count(*) from memories where importance is not null").fetchone()[0]
            total = db.execute("select count(*) from memories").fetchone()[0]
            found[database.parent.name] = {"streams": counts, "rated": f"{rated}/{total}"}
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api", default="http://127.0.0.1:5000", help="the webui's API address")
    parser.add_argument("--api-key", default=None)
    parser.add_argument(
        "--webui", type=Path, required=True, help="the webui folder (for user_data/joi_coach)"
    )
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for importance/reflection")
    parser.add_argument(
        "--log", type=Path, help="the webui's --verbose log: count prompts with recalled memories"
    )
    args = parser.parse_args()
    data_dir = args.webui / "user_data" / "joi_coach"

    print("== Sam talks to Joi")
    for n, turn in enumerate(conversation(args.api, "Joi", "Sam", TURNS, args.api_key), 1):
        print(
            f"-- turn {n} ({turn['seconds']} s)\nreasoning: {turn.get('reasoning_content')!r}\ncontent: {turn['content']!r}"
        )
    print("\n== Sam asks the Assistant character about Mia")
    other = conversation(args.api, "Assistant", "Sam", ["What did my sister say about timers?"], args.api_key)
    print(f"content: {other[0]['content']!r}")
    print("\n== Alex talks to Joi")
    alex = conversation(
        args.api, "Joi", "Alex", ["Do you remember what my sister said about timers?"], args.api_key
    )
    print(f"content: {alex[0]['content']!r}")

    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:  # importance and reflection run while the model is idle
        snapshot = stores(data_dir)
        all_rated = all(p["rated"].split("/")[0] == p["rated"].split("/")[1] for p in snapshot.values())
        if snapshot and all_rated and any(p["streams"].get("reflection") for p in snapshot.values()):
            break
        time.sleep(10)
    print("\n== Joi's stores")
    print(json.dumps(stores(data_dir), indent=1))
    profiles = data_dir / "webui-profiles.json"
    print("profiles:", profiles.read_text() if profiles.exists() else "(none)")
    if args.log:
        prompts = args.log.read_text(encoding="utf-8", errors="replace").split("PROMPT=")[1:]
        chats = [p for p in prompts if "Write a single reply" in p or "\nAI:" in p]
        recalled = [p for p in chats if "What you remember" in p]
        print(f"chat prompts in the log: {len(chats)}, with recalled memories: {len(recalled)}")
        print(f"Joi's own (background) prompts: {len(prompts) - len(chats)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
