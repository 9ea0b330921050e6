#!/usr/bin/env bash
# Entrypoint of the Joi Coach pod image: prepares the volume, the sign-in and the model, then
# starts text-generation-webui with Joi (all of it in the joi_pod package, next to this file).
#   entrypoint.sh              start (what the container runs)
#   entrypoint.sh --dry-run    prepare the volume, print the encrypt, download and launch commands
# JOI_PYTHON picks the interpreter (default: python3 on PATH, the webui image's own venv).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${JOI_PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "[joi-pod] ERROR: no Python at '$PYTHON' (set JOI_PYTHON)" >&2
  exit 2
fi
export JOI_PYTHON=$PYTHON
cd "$HERE"  # python -m finds joi_pod here; it moves on to the webui's folder before launching
exec "$PYTHON" -m joi_pod "$@"
