#!/usr/bin/env python3
"""The webui's command-line flags, read from its real argument parser (``modules/shared.py``).

  host_flags.py dump --webui DIR --source TAG@COMMIT > tests/runpod/host_flags.json
  host_flags.py check --webui DIR -- FLAG...   # parse the FLAGs with the webui's own parser

``dump`` and ``check`` run the webui's own parser in a child process (it needs only PyYAML),
from a checkout or an unpacked source tree of text-generation-webui, never committed here.
The recorded manifest lets CI, which has no webui, rebuild an equivalent parser
(:func:`parser_from_manifest`) and check the pod's launch flags against it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# Runs inside the webui's source tree: import its parser and print its actions as JSON.
_DUMP = """
import json, sys
sys.argv = ["server.py"]
from modules import shared
actions = []
for action in shared.parser._actions:
    if not action.option_strings or action.dest == "help":
        continue
    kind = type(action).__name__
    actions.append({
        "options": list(action.option_strings),
        "dest": action.dest,
        "kind": kind,
        "nargs": action.nargs if isinstance(action.nargs, (int, str)) or action.nargs is None else None,
        "type": getattr(action.type, "__name__", None),
        "choices": list(action.choices) if action.choices else None,
        "default": action.default if isinstance(action.default, (bool, int, float, str)) else None,
    })
print(json.dumps(actions))
"""

_CHECK = """
import sys
sys.argv = ["server.py", *sys.argv[1:]]
from modules import shared  # parse_args() runs on import and exits 2 on a flag it does not know
print("ok")
"""

_TYPES = {"int": int, "float": float, "str": str}


def dump(webui: Path) -> list[dict]:
    result = subprocess.run(
        [sys.executable, "-c", _DUMP], cwd=webui, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise SystemExit(f"the webui's parser did not load from {webui}:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def check(webui: Path, flags: list[str]) -> subprocess.CompletedProcess:
    """Parse ``flags`` with the webui's real parser; returncode 0 when it accepts them."""
    return subprocess.run(
        [sys.executable, "-c", _CHECK, *flags],
        cwd=webui,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def parser_from_manifest(actions: list[dict]) -> argparse.ArgumentParser:
    """An argparse parser that accepts and rejects what the recorded webui parser does."""
    parser = argparse.ArgumentParser(prog="server.py", conflict_handler="resolve", add_help=False)
    for action in actions:
        options, dest, kind = action["options"], action["dest"], action["kind"]
        if kind == "_StoreTrueAction":
            parser.add_argument(*options, dest=dest, action="store_true")
        elif kind == "BooleanOptionalAction":
            positive = [option for option in options if not option.startswith("--no-")]
            parser.add_argument(
                *positive, dest=dest, action=argparse.BooleanOptionalAction, default=action["default"]
            )
        elif kind == "_StoreAction":
            parser.add_argument(
                *options,
                dest=dest,
                nargs=action["nargs"],
                type=_TYPES.get(action["type"] or "str", str),
                choices=action["choices"],
                default=action["default"],
            )
        else:
            raise ValueError(f"unknown kind of flag in the manifest: {kind} ({options})")
    return parser


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("command", choices=["dump", "check"])
    cli.add_argument("--webui", type=Path, required=True, help="a text-generation-webui source tree")
    cli.add_argument("--source", default="", help="for dump: which webui this is (tag and commit)")
    args, rest = cli.parse_known_args()
    if args.command == "dump":
        print(json.dumps({"source": args.source, "flags": dump(args.webui)}, indent=1))
        return
    flags = rest[1:] if rest[:1] == ["--"] else rest
    result = check(args.webui, flags)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr[-2000:])
    raise SystemExit(result.returncode)


if __name__ == "__main__":
    main()
