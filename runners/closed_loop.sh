#!/usr/bin/env bash
# The closed loop on one CPU machine: simulate -> export -> train -> serve -> simulate
# again with the trained bot as the counselor, which answers through the engine like
# any other OpenAI-compatible endpoint.
#
#   bash runners/closed_loop.sh [OUT_DIR]        (default runs/closed-loop)
#
# Everything runs on the embedded SmolLM2-135M, the fastest embedded model (set
# INTERACTIVE_AGENTS_LOCAL_MODEL for another): the point is the plumbing, not quality.
# On GPUs the same steps are: simulate against vLLM, `train --recipe train_7b_fsdp`
# under accelerate/FSDP, and `serve` with vLLM (see docs/training.md).
set -euo pipefail
OUT=${1:-runs/closed-loop}
DIALOGUES=${DIALOGUES:-3}
STEPS=${STEPS:-8}
IA=${IA:-interactive-agents}
export INTERACTIVE_AGENTS_LOCAL_MODEL=${INTERACTIVE_AGENTS_LOCAL_MODEL:-smollm2-135m-instruct}

echo "1/5 simulate $DIALOGUES sessions on the embedded model"
$IA simulate --recipe quickstart --out "$OUT/sessions" --limit "$DIALOGUES" --quiet || [ $? = 1 ]

echo "2/5 export one sample per counselor turn"
$IA export --run "$OUT/sessions" --format sharegpt --out "$OUT/data/train.jsonl" --val-ratio 0.34 --quiet

echo "3/5 train a LoRA adapter on the embedded model's weights, and merge it"
BASE=$($IA models --path)
$IA train --model "$BASE" --train "$OUT/data/train.jsonl" --validation "$OUT/data/train.val.jsonl" \
    --out "$OUT/model" --method lora --learning-rate 1e-3 --max-steps "$STEPS" \
    --max-length 2048 --merge-lora --quiet

echo "4/5 serve the merged model with llama.cpp (converted to GGUF once)"
cat > "$OUT/bots.toml" <<TOML
[bots.closed_loop_bot]
model = "$(cd "$OUT/model/merged" && pwd)"
engine = "llama.cpp"
temperature = 0.7
top_p = 0.8
TOML
rm -f "$OUT/bots.endpoints.toml"
$IA serve --bots "$OUT/bots.toml" --quiet &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 600); do
    [ -s "$OUT/bots.endpoints.toml" ] && break
    kill -0 $SERVER 2>/dev/null || { echo "serve exited early" >&2; exit 1; }
    sleep 0.5
done
URL=$(python -c 'import sys, tomllib; d = tomllib.load(open(sys.argv[1], "rb")); print(d["bots"]["closed_loop_bot"]["base_urls"][0])' "$OUT/bots.endpoints.toml")

echo "5/5 simulate again: the embedded client talks to the trained bot at $URL"
$IA simulate --recipe quickstart --out "$OUT/with-bot" --limit 1 \
    --counselor-base-url "$URL" --counselor-model closed_loop_bot --json
