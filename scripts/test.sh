#!/usr/bin/env bash
# Install (if needed) and run every check: lint, then the whole test suite on real models.
# Usage: scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
. .venv/bin/activate
ruff check .
ruff format --check .
python -m pytest -ra "$@"
