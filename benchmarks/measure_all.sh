#!/usr/bin/env bash
# Every figure of docs/performance.md's summary and the README's performance lines, in one
# go, on a quiet machine (load average below 0.3 before it starts; nothing else running).
#
#     benchmarks/measure_all.sh [OUTPUT_DIR]          # default: measurements-<date>/
#     BEFORE=<commit> benchmarks/measure_all.sh       # the profile's "before" checkout
#
# About 15 minutes on the 2-core development machine. Each step's output goes to its own
# file in OUTPUT_DIR (and to the terminal), headed by the date, the commit and the load
# average, so every figure copied into the docs carries them. The steps, and the figures
# each one fills (docs/performance.md marks them with the step's number):
#
#   1 check      the quick check, its baseline rewritten (benchmarks/baseline.json)  ~1 min
#   2 table      the issue's table: 1,000 dialogues x 5 turns at 0.1 s, beside the SDK
#                and the floor (summary rows 1-3, the overhead sweep, the targets)    ~2.5 min
#   3 slow       1,000 dialogues at 1 s latency (wall / ideal, target 1.10)          ~1 min
#   4 large      10,000 dialogues x 5 turns at 0.1 s (calls/s, target 3,000)         ~3 min
#   5 memory     RSS per dialogue in flight, every request on the wire               ~1.5 min
#   6 workers    simulate --workers 1 against --workers 2, three times               ~1.5 min
#   7 profile    py-spy profiles of simulate and the library engine, before and
#                now, at 1,000 and at 10,000 dialogues (needs py-spy on PATH)        ~4 min
#   8 rest       not by default (STEPS="8"; not timed): saturation, rate limits,
#                resume after a kill, routing over replicas, quality flags
#
# Requires: the package installed with the [dev,bench] extras, git, and for step 7
# py-spy (`pip install py-spy`) allowed to trace its children (root, or
# kernel.yama.ptrace_scope = 0). STEPS="2 3" runs only those steps; PYTHON=... picks the
# interpreter (default: python on PATH).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
out="${1:-measurements-$(date -u +%Y%m%d-%H%M)}"
steps="${STEPS:-1 2 3 4 5 6 7}"
python="${PYTHON:-python}"
# The commit the issue measured ("main today" in issue 26), profiled as "before".
before="${BEFORE:-d227702397323844477acedbdff37c179666e99d}"
mkdir -p "$out"

load() { cut -d' ' -f1-3 /proc/loadavg; }

step() {  # step NUMBER NAME COMMAND...: run it, its output headed and kept in OUTPUT_DIR
    local number="$1" name="$2"
    shift 2
    case " $steps " in *" $number "*) ;; *) return 0 ;; esac
    local file="$out/$number-$name.txt" start
    start=$(date +%s)
    {
        echo "# step $number ($name): $*"
        echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD)," \
            "$(nproc) cores, load average $(load) before"
    } | tee "$file"
    "$@" 2>&1 | tee -a "$file" || echo "# step $number ($name) FAILED: exit ${PIPESTATUS[0]}" | tee -a "$file"
    echo "# load average $(load) after; $(($(date +%s) - start)) s" | tee -a "$file"
}

echo "load average now: $(load) (measure when it is below 0.3)"
case " $steps " in *" 7 "*)
    command -v py-spy >/dev/null || { echo "step 7 needs py-spy on PATH (pip install py-spy)" >&2; exit 2; }
    ;;
esac
if [ -n "$(git status --porcelain --untracked-files=no -- interactive_agents benchmarks)" ]; then
    echo "warning: uncommitted changes; the figures will not match the commit" >&2
fi

step 1 check "$python" benchmarks/bench_engine.py --check --update-baseline
step 2 table "$python" benchmarks/bench_engine.py --markdown --sizes 1000 --latency 0.1 --turns 5
step 3 slow "$python" benchmarks/bench_engine.py --markdown --sizes 1000 --latency 1 --turns 5 \
    --sdk-max 0 --reference-n 1
step 4 large "$python" benchmarks/bench_engine.py --markdown --sizes 10000 --latency 0.1 \
    --turns 5 --sdk-max 0 --reference-n 1
step 5 memory "$python" benchmarks/bench_memory.py --markdown
for round in 1 2 3; do
    step 6 "workers-$round" "$python" benchmarks/bench_sharding.py --markdown --workers 2
done

step 8 saturation "$python" benchmarks/bench_saturation.py --markdown
step 8 rate-limits "$python" benchmarks/bench_rate_limits.py --markdown
step 8 resume "$python" benchmarks/bench_resume.py --markdown
step 8 routing "$python" benchmarks/bench_routing.py --replicas 1,2,4,8 --dialogues 48 \
    --turns 6 --repeats 3 --markdown
step 8 quality "$python" benchmarks/bench_quality.py --markdown --repeats 4

case " $steps " in *" 7 "*)
    tree="$(mktemp -d)"
    trap 'rm -rf "$tree"' EXIT
    git archive "$before" | tar -x -C "$tree"
    step 7 profile-1000 "$python" benchmarks/profile_engine.py --markdown --before "$tree" \
        --dialogues 1000 --turns 5
    step 7 profile-10000 "$python" benchmarks/profile_engine.py --markdown --before "$tree" \
        --dialogues 10000 --turns 3
    ;;
esac
echo "figures in $out/"
