#!/usr/bin/env bash
# The README's test command: install everything the tests need into ./.venv
# (scripts/setup.sh), check that every command works with exactly the extras it
# declares (scripts/extras_matrix.sh, fresh venvs), then run the test suite, whose
# summary line is the last thing printed. The tests that run vLLM and LiteLLM find them
# through INTERACTIVE_AGENTS_VLLM_PYTHON and INTERACTIVE_AGENTS_LITELLM, set here.
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh tests/test_x.py # setup, then only these pytest arguments
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" = 0 ]; then
    bash scripts/extras_matrix.sh
fi
# The real servers the tests run: vLLM's CPU build and LiteLLM's proxy (scripts/setup.sh).
export INTERACTIVE_AGENTS_VLLM_PYTHON=${INTERACTIVE_AGENTS_VLLM_PYTHON:-$PWD/.venv-vllm/bin/python}
export INTERACTIVE_AGENTS_LITELLM=${INTERACTIVE_AGENTS_LITELLM:-$PWD/.venv-litellm/bin/litellm}
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    echo "pytest collected no tests" >&2
    exit 1
fi
exit "$status"
