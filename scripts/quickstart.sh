#!/usr/bin/env bash
# Set everything up, then run the quickstart: a few short English sessions on the
# embedded model (SmolLM2-135M under llama.cpp), offline, no API key, no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/interactive-agents simulate --recipe quickstart "$@"
