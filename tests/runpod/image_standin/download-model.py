"""Stand-in for text-generation-webui's download-model.py (commit 1dcde41d), for the pod tests.

Same command line and the same output folders as the real one (``get_output_folder``: a single
GGUF file straight into the models folder, a repository into ``org_name[_branch]``); instead
of fetching from Hugging Face it writes small files and prints progress. Each call is
appended to ``$STANDIN_CALLS``; ``STANDIN_DOWNLOAD_FAIL=1`` makes it fail like a network error.
"""

import argparse
import json
import os
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("MODEL", type=str, default=None, nargs="?")
parser.add_argument("--branch", type=str, default="main")
parser.add_argument("--threads", type=int, default=4)
parser.add_argument("--text-only", action="store_true")
parser.add_argument("--specific-file", type=str, default=None)
parser.add_argument("--exclude-pattern", type=str, default=None)
parser.add_argument("--output", type=str, default=None)
parser.add_argument("--model-dir", type=str, default=None)
parser.add_argument("--user-data-dir", type=str, default=None)
parser.add_argument("--clean", action="store_true")
parser.add_argument("--check", action="store_true")
parser.add_argument("--max-retries", type=int, default=7)
args = parser.parse_args()

with open(os.environ["STANDIN_CALLS"], "a", encoding="utf-8") as calls:
    calls.write(json.dumps({"program": "download-model.py", "argv": sys.argv[1:]}) + "\n")

model, _, branch = args.MODEL.partition(":")
branch = branch or args.branch
base = Path(args.model_dir or "user_data/models")
if os.environ.get("STANDIN_DOWNLOAD_FAIL") == "1":
    print("requests.exceptions.ConnectionError: huggingface.co unreachable", file=sys.stderr)
    sys.exit(1)
if args.specific_file:
    folder = base
    files = {args.specific_file: b"GGUF" + b"\0" * 64}
else:
    folder = base / ("_".join(model.split("/")[-2:]) + ("" if branch == "main" else f"_{branch}"))
    config = {
        "architectures": ["Gemma3ForConditionalGeneration"],
        "quantization_config": {"quant_method": "exl3"},
    }
    files = {"config.json": json.dumps(config).encode(), "model.safetensors": b"\0" * 64}
folder.mkdir(parents=True, exist_ok=True)
print(f"Downloading the model to {folder}")
for name, content in files.items():
    (folder / name).write_bytes(content)
    print(f"{name}: 100%|##########| {len(content)}/{len(content)} [00:00<00:00]", file=sys.stderr)
print(f"\nDownload of {len(files)} files to {folder} completed.")
