#!/usr/bin/env bash
# Every command runs with exactly the extras it declares (cli/__init__.py, SUBCOMMANDS):
# one fresh venv for the core install and one for core + each extra, each checking
# `--help` of every command (real where its extra is installed, the install hint where
# not) and a smoke run of what that extra enables. The pip cache is used when present.
#   bash scripts/extras_matrix.sh            # all venvs, under a temporary folder
#   bash scripts/extras_matrix.sh core local # only these
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
REFERENCE=${REFERENCE:-$ROOT/../shared/data/reference}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/extras-matrix.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SAMPLE="$REFERENCE/dialogues/sharegpt_record_0.json"
[ -f "$SAMPLE" ] || { echo "extras matrix: reference data missing: $SAMPLE" >&2; exit 2; }

# command -> the extra it declares ("-": none), as in cli/__init__.py.
declare -A NEEDS=(
    [simulate]=- [models]=- [bench]=- [export]=- [arena]=-
    [evaluate]=eval [elo]=eval [agreement]=eval
    [train]=train [serve]=local [annotate]=web
)
"$PYTHON" -m venv "$WORK/build"
"$WORK/build/bin/python" -m pip -q --disable-pip-version-check wheel --no-deps "$ROOT" -w "$WORK/dist"
WHEEL=$(ls "$WORK"/dist/*.whl)
failures=0
fail() { echo "FAIL [$1]: $2" >&2; failures=$((failures + 1)); }

# venv NAME EXTRAS... : a fresh venv with the wheel and those extras.
venv() {
    local name=$1 extras=${*:2} spec
    "$PYTHON" -m venv "$WORK/$name"
    local pip=("$WORK/$name/bin/python" -m pip -q --disable-pip-version-check install)
    case " $extras " in *" train "* | *" embed "*) "${pip[@]}" "torch==2.13.0" ;; esac
    spec=$WHEEL
    [ -z "$extras" ] || spec="$WHEEL[${extras// /,}]"
    "${pip[@]}" "$spec"
}

# helps NAME EXTRAS... : every command's --help exits 0, and is the real command's
# wherever the extra it declares is installed (elsewhere: real, or the install hint).
helps() {
    local name=$1 extras=" ${*:2} " command out
    for command in "${!NEEDS[@]}"; do
        if ! out=$("$WORK/$name/bin/interactive-agents" "$command" --help 2>&1); then
            fail "$name" "$command --help exited non-zero: $out"
            continue
        fi
        local need=${NEEDS[$command]}
        if [[ $out == *"Not available here"* ]]; then
            if [ "$need" = - ] || [[ $extras == *" $need "* ]]; then
                fail "$name" "$command unavailable: $out"
            fi
            [[ ${out//[[:space:]]/} == *"interactive-agents[$need]"* ]] ||
                fail "$name" "$command: no install hint: $out"
        fi
    done
}

# run NAME ARGS... : one smoke run of interactive-agents in venv NAME.
run() {
    local name=$1
    "$WORK/$name/bin/interactive-agents" "${@:2}" >"$WORK/$name.out" 2>&1 ||
        fail "$name" "interactive-agents ${*:2}: $(tail -5 "$WORK/$name.out")"
}

smoke_core() {
    run core export --run "$SAMPLE" --out "$WORK/core-export.jsonl" --json
    [ -s "$WORK/core-export.jsonl" ] || fail core "export wrote nothing"
}
smoke_local() {
    # shellcheck disable=SC2046 # one word per package
    "$WORK/local/bin/python" -m pip -q --disable-pip-version-check install --no-deps \
        $("$WORK/local/bin/interactive-agents" models --packages)
    run local models --json
    grep -q '"installed": *true' "$WORK/local.out" || fail local "models: $(cat "$WORK/local.out")"
    run local simulate --recipe quickstart --limit 1 --max-turns 1 --out "$WORK/local-run" --quiet
    [ -s "$WORK/local-run/dialogues.jsonl" ] || fail local "simulate wrote no dialogue"
    local gguf
    gguf=$("$WORK/local/bin/interactive-agents" models --path)
    printf '[bots.tiny]\ngguf = "%s"\n' "$gguf" >"$WORK/bots.toml"
    run local serve --bots "$WORK/bots.toml" --dry-run
    grep -q "interactive_agents.llm.local._llama_server" "$WORK/local.out" || fail local "serve --dry-run"
}
smoke_eval() {
    run eval evaluate stats "$SAMPLE" --out "$WORK/eval-stats" --json
    grep -q '"conversations"' "$WORK/eval.out" || fail eval "evaluate stats: $(cat "$WORK/eval.out")"
}
smoke_train() { run train train --help; }
smoke_embed() { "$WORK/embed/bin/python" -c 'import sentence_transformers' || fail embed import; }
smoke_web() { "$WORK/web/bin/python" -c 'import interactive_agents.annotation._app' || fail web import; }
smoke_bench() { "$WORK/bench/bin/python" -c 'import openai' || fail bench import; }
smoke_ray() {
    # Two shards as actors of a local Ray cluster, against the loopback mock (no model).
    local url
    "$WORK/ray/bin/python" -m interactive_agents.testing --port 0 --latency 0 >"$WORK/mock.out" &
    local mock=$!
    for _ in $(seq 100); do grep -q READY "$WORK/mock.out" && break; sleep 0.1; done
    url="$(awk '/READY/ {print $2}' "$WORK/mock.out")/v1"
    run ray simulate --cards demo_en --language en --limit 2 --max-turns 1 --base-url "$url" \
        --model mock --out "$WORK/ray-run" --ray local --workers 2 --quiet
    kill "$mock"
    [ "$(wc -l <"$WORK/ray-run/dialogues.jsonl")" = 2 ] || fail ray "simulate --ray: not 2 records"
}

selected=("$@")
[ "${#selected[@]}" -gt 0 ] || selected=(core local eval train embed web bench ray)
for name in "${selected[@]}"; do
    start=$SECONDS
    if [ "$name" = core ]; then venv core; helps core; else venv "$name" "$name"; helps "$name" "$name"; fi
    "smoke_$name"
    echo "extras matrix: $name done in $((SECONDS - start)) s"
done
if [ "$failures" != 0 ]; then
    echo "extras matrix: $failures failed" >&2
    exit 1
fi
echo "extras matrix: ${#selected[@]} passed, 0 failed"
