"""Where the engine's CPU goes: py-spy's samples of one run, by what was on the CPU.

    python benchmarks/profile_engine.py [--dialogues 1000] [--turns 5] [--latency 0.1]
    python benchmarks/profile_engine.py --before /tmp/before     # beside another checkout

Each kind (``simulate``: the engine as the command runs it; ``engine``: as a library
does) runs ``bench_engine.py``'s child under ``py-spy record`` (install it with
``pip install py-spy``; it needs to be allowed to trace its child) against the mock.
Only the samples taken while the engine ran are kept, and each is put under the part of
the code it was in: the innermost frame's package, with the engine's own code by layer.
Time in C called from Python (orjson, regular expressions, the garbage collector) counts
for the Python function that called it. ``--before DIR`` profiles the checkout in DIR the
same way (``git archive COMMIT | tar -x -C DIR``) and prints both side by side. py-spy
samples a process whether it runs or waits for a core, so on a busy machine the shares
lean towards the system calls that wake another process (writing a request): profile on
a quiet machine. Figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench_engine import ENGINE, SIMULATE, show

from interactive_agents.testing import ServerOptions, spawn

HERE = Path(__file__).resolve().parents[1]
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
PARTS = (  # (what, the packages of the innermost frame's file): the first that holds names it
    ("HTTP: aiohttp (and yarl, multidict)", ("aiohttp/", "aiohappyeyeballs/", "yarl/")),
    ("HTTP: the engine's client (llm/_http1.py, httptools)", ("llm/_http1.py", "httptools/")),
    ("event loop and tasks (asyncio, uvloop)", ("asyncio/", "uvloop/", "selectors.py")),
    ("anyio (task groups, events, streams)", ("anyio/", "sniffio/")),
    ("engine: LLM layer (endpoint, scheduler, wire)", ("interactive_agents/llm/",)),
    ("engine: runtime (runner, loop, roles, journal)", ("interactive_agents/runtime/",)),
    ("engine: method (refiner, terminator, prompts)", ("interactive_agents/method/",)),
)
REST = "the rest (dataclasses, contextlib, filelock, ...)"


def part_of(file: str) -> str:
    """The part a file belongs to (py-spy names files from their package, or in full)."""
    for name, markers in PARTS:
        if any(file.startswith(marker) or f"/{marker}" in file for marker in markers):
            return name
    return REST


def frame(text: str) -> tuple[str, str]:
    match = FRAME.match(text)
    return (match["function"], match["file"]) if match else (text, "")


def profile(
    tree: Path, kind: str, spec: dict[str, object], rate: int
) -> tuple[Counter[str], Counter[str]]:
    """Samples of one run by part and by innermost function (the run's samples only)."""
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder) / "samples.txt"
        command = [
            "py-spy", "record", "--format", "raw", "--rate", str(rate), "--output", str(raw),
            "--", sys.executable, str(tree / "benchmarks" / "bench_engine.py"),
            "--child", json.dumps({**spec, "kind": kind}),
        ]  # fmt: skip
        environment = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run(command, capture_output=True, text=True, env=environment)
        if done.returncode != 0 or not raw.exists():
            raise RuntimeError(f"py-spy failed on {kind} in {tree}:\n{done.stderr[-2000:]}")
        parts: Counter[str] = Counter()
        functions: Counter[str] = Counter()
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            if not count.isdigit() or not any("run_engine_as" in f for f in frames):
                continue  # start-up and imports
            function, file = frame(frames[-1])
            parts[part_of(file)] += int(count)
            short = file.split("site-packages/")[-1].split("interactive_agents/")[-1]
            functions[f"{function} ({short})"] += int(count)
    return parts, functions


def shares(counter: Counter[str]) -> dict[str, float]:
    total = sum(counter.values()) or 1
    return {name: count / total for name, count in counter.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialogues", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.1, help="mock latency, seconds")
    parser.add_argument("--kinds", default=f"{SIMULATE},{ENGINE}")
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--top", type=int, default=12, help="functions listed per run")
    parser.add_argument("--before", type=Path, help="another checkout, profiled the same way")
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is not installed: pip install py-spy")
    trees = {"before": args.before.resolve(), "now": HERE} if args.before else {"now": HERE}
    load = os.getloadavg()[0]
    spec = {"dialogues": args.dialogues, "turns": args.turns}
    results: dict[tuple[str, str], tuple[Counter[str], Counter[str]]] = {}
    with spawn(ServerOptions(latency=args.latency)) as [base_url]:
        for kind in args.kinds.split(","):
            for label, tree in trees.items():
                print(f"profiling {kind} ({label}: {tree}) ...", file=sys.stderr, flush=True)
                results[kind, label] = profile(
                    tree, kind, {**spec, "base_url": base_url}, args.rate
                )
    print(
        f"{args.dialogues:,} dialogues x {args.turns} turns, mock latency {args.latency} s; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    for kind in args.kinds.split(","):
        by_part = {label: shares(results[kind, label][0]) for label in trees}
        rows = [
            [name, *(f"{by_part[label].get(name, 0):.0%}" for label in trees)]
            for name in [*(name for name, _ in PARTS), REST]
        ]
        samples = [f"{sum(results[kind, label][0].values()):,}" for label in trees]
        rows.append(["samples", *samples])
        show(f"{kind}: share of the run's samples", ["part", *trees], rows, args.markdown)
        for label in trees:
            functions = shares(results[kind, label][1])
            top = sorted(functions.items(), key=lambda item: -item[1])[: args.top]
            show(
                f"{kind} ({label}): innermost functions",
                ["function", "share"],
                [[name, f"{share:.1%}"] for name, share in top],
                args.markdown,
            )


if __name__ == "__main__":
    main()
