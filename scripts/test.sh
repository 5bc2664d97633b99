#!/usr/bin/env bash
# The README's test command: install everything the tests need into ./.venv
# (scripts/setup.sh), run the test suite, then check that every command works with
# exactly the extras it declares (scripts/extras_matrix.sh, fresh venvs).
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh tests/test_x.py # setup, then only these pytest arguments
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 5 ]; then
    echo "pytest collected no tests" >&2
    exit 1
fi
if [ "$status" != 0 ]; then
    exit "$status"
fi
if [ "$#" = 0 ]; then
    bash scripts/extras_matrix.sh
fi
