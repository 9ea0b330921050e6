#!/usr/bin/env bash
# Install (if needed) and run every check: lint, types, the whole test suite on the real models and
# in a real browser, then the memory tab and the webui tab again under the webui host's gradio 4.37.
# Usage: scripts/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh embedded,app,encryption,test
scripts/install-test-tools.sh
# shellcheck source=/dev/null
. .venv/bin/activate
ruff check .
ruff format --check .
mypy
python -m pytest -ra "$@"
JOI_E2E_PYTHON=.venv-gradio4/bin/python JOI_E2E_GRADIO=4 \
  python -m pytest -ra tests/e2e/test_memory_tab_browser.py tests/e2e/test_webui_tab_browser.py
