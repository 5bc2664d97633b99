"""The quick check behind ``bench_engine.py --check``: is the engine still as cheap per
call as the baseline kept in ``benchmarks/baseline.json`` says?

CPU per call moves with the machine (its clock, its other work), so the check never
compares milliseconds: each round runs the raw-socket floor, the engine as the
``simulate`` command runs it and the engine as a library runs it, one after the other
against the same mock, and takes each one's CPU per call as a multiple of the floor of
its own round. The median over the rounds is compared with the baseline's; so is the
resident memory each dialogue in flight added. The load average is printed beside every
figure: on a machine busy with other work the ratios drift up, so a check that fails
under load says to measure again on a quiet machine, not that the code got slower.
Figures are printed, and the exit status says whether they stayed within the tolerance.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASELINE = Path(__file__).with_name("baseline.json")
KINDS = ("raw_sockets", "simulate", "engine")
ENGINES = KINDS[1:]
COMPARED = {"x_floor": "CPU per call / floor", "kib_per_dialogue": "KiB per dialogue"}
HEADERS = ["client", "CPU ms/call", "x floor", "range over rounds", "baseline x floor"]
HEADERS += ["KiB/dialogue", "baseline KiB"]


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("quick check (--check)")
    group.add_argument(
        "--check",
        action="store_true",
        help="about a minute: CPU per call as a multiple of the floor, against the baseline",
    )
    group.add_argument("--rounds", type=int, default=3, help="rounds of the check")
    group.add_argument(
        "--tolerance", type=float, default=0.15, help="allowed rise over the baseline (0.15)"
    )
    group.add_argument(
        "--update-baseline", action="store_true", help="write this check's figures as the baseline"
    )
    group.add_argument("--baseline", type=Path, default=BASELINE, help="the baseline file")


def machine() -> dict[str, Any]:
    """Where the figures come from: the commit, the date, the cores and the Python."""

    def git(*arguments: str) -> str:
        try:
            done = subprocess.run(
                ["git", *arguments], capture_output=True, text=True, check=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no", "--", "interactive_agents"):
        commit += " (with changes to interactive_agents/)"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": commit,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def load() -> float:
    return os.getloadavg()[0]


def run_check(
    args: argparse.Namespace,
    measure: Callable[[str], dict[str, float]],
    workload: dict[str, Any],
) -> int:
    """Run the rounds, print the table and the verdict; the exit status (0: within the
    tolerance of the baseline, or the baseline was written; 1: a figure rose beyond it)."""
    load_before = load()
    rounds: list[dict[str, dict[str, float]]] = []
    for number in range(1, args.rounds + 1):
        measured = {}
        for kind in KINDS:
            measured[kind] = {**measure(kind), "load": load()}
        rounds.append(measured)
        floor = measured["raw_sockets"]["cpu_ms"]
        print(
            f"round {number}: floor {floor:.3f} ms/call, "
            + ", ".join(f"{k} {measured[k]['cpu_ms'] / floor:.2f} x" for k in ENGINES)
            + f" (load {measured['engine']['load']:.2f})",
            flush=True,
        )
    figures = summarise(rounds)
    context = {**machine(), "load_before": round(load_before, 2), "load_after": round(load(), 2)}
    baseline = read_baseline(args.baseline)
    print_table(figures, baseline, workload, context)
    if args.update_baseline:
        document = {"workload": workload, "figures": figures, "measured": context}
        args.baseline.write_text(json.dumps(document, indent=2) + "\n")
        print(f"baseline written to {args.baseline}")
        return 0
    if baseline is None:
        print(f"no baseline at {args.baseline}: run with --update-baseline to keep these")
        return 0
    if baseline.get("workload") != workload:
        print(f"the baseline measured another workload ({baseline.get('workload')}): not compared")
        return 0
    risen = regressions(figures, baseline["figures"], args.tolerance)
    for line in risen:
        print(f"REGRESSION {line}")
    if risen and max(context["load_before"], context["load_after"]) > 0.5 * (os.cpu_count() or 1):
        print("the machine was busy (load above half its cores): measure again when it is quiet")
    if not risen:
        print(f"ok: every figure within {args.tolerance:.0%} of the baseline")
    return 1 if risen else 0


def summarise(rounds: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Medians over the rounds: CPU per call, its multiple of the round's floor, and the
    resident memory each dialogue added."""
    figures = {}
    for kind in KINDS:
        ratios = [r[kind]["cpu_ms"] / r["raw_sockets"]["cpu_ms"] for r in rounds]
        figures[kind] = {
            "cpu_ms_per_call": round(statistics.median(r[kind]["cpu_ms"] for r in rounds), 4),
            "x_floor": round(statistics.median(ratios), 3),
            "x_floor_low": round(min(ratios), 3),
            "x_floor_high": round(max(ratios), 3),
            "kib_per_dialogue": round(statistics.median(r[kind]["kib"] for r in rounds), 1),
        }
    return figures


def regressions(
    figures: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]], tolerance: float
) -> list[str]:
    lines = []
    for kind in ENGINES:
        for name, what in (
            ("x_floor", "CPU per call / floor"),
            ("kib_per_dialogue", "KiB per dialogue"),
        ):
            now, then = figures[kind][name], baseline.get(kind, {}).get(name)
            if then and now > then * (1 + tolerance):
                lines.append(f"{kind}: {what} {now:g}, baseline {then:g} (+{now / then - 1:.0%})")
    return lines


def read_baseline(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def print_table(
    figures: dict[str, dict[str, float]],
    baseline: dict[str, Any] | None,
    workload: dict[str, Any],
    context: dict[str, Any],
) -> None:
    then = baseline["figures"] if baseline else {}
    print(
        f"\nquick check: {workload['dialogues']:,} dialogues x {workload['turns']} turns, mock "
        f"latency {workload['latency']} s, median of {workload['rounds']} rounds; "
        f"{context['date']}, commit {context['commit']}, {context['cores']} cores, "
        f"load {context['load_before']:.2f} before, {context['load_after']:.2f} after\n"
    )
    print("| " + " | ".join(HEADERS) + " |")
    print("|" + "---|" * len(HEADERS))
    for kind in KINDS:
        now, old = figures[kind], then.get(kind, {})
        print(
            f"| {kind} | {now['cpu_ms_per_call']:.3f} | {now['x_floor']:.2f} | "
            f"{now['x_floor_low']:.2f}-{now['x_floor_high']:.2f} | "
            f"{old.get('x_floor', '-')} | {now['kib_per_dialogue']:.1f} | "
            f"{old.get('kib_per_dialogue', '-')} |"
        )
    if baseline:
        measured = baseline.get("measured", {})
        print(
            f"\nbaseline: {measured.get('date')}, commit {measured.get('commit')}, "
            f"load {measured.get('load_before')} before"
        )
    sys.stdout.flush()
