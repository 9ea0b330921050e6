#!/usr/bin/env bash
# Create .venv and install Joi: the engine, the embedded CPU model and the browser app.
# Usage: scripts/install.sh [EXTRAS]   (default EXTRAS: embedded,app; idempotent, reuses .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=${1:-embedded,app}
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# shellcheck source=/dev/null
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# torch first, so sentence-transformers does not pull a multi-GB CUDA build: on these
# machines 'torch==2.13.0' is the local CPU wheel. Elsewhere, install a CPU torch first
# (pip install torch --index-url https://download.pytorch.org/whl/cpu) and this is skipped.
python -c "import torch" 2>/dev/null || python -m pip install --quiet "torch==2.13.0"
# llama-cpp-python compiles from source (about 10 minutes on 2 cores, cached by pip afterwards).
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
  python -m pip install --quiet -e ".[$EXTRAS]"
echo "Joi is installed in $(pwd)/.venv"
