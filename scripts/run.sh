#!/usr/bin/env bash
# Install Joi if needed, then start it in the browser on the embedded CPU model.
# Usage: scripts/run.sh [joi-coach options]   e.g. scripts/run.sh --port 7860 --auth me:a-long-password
# The first start assembles the embedded model (1.1 GB, with a progress bar); open the URL it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/joi-coach ] || scripts/install.sh
exec .venv/bin/joi-coach "$@"
