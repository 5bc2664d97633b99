"""The engine's overhead against a fixed-latency mock, beside the three baselines.

    python benchmarks/bench_engine.py [--latency 0.1] [--turns 5] [--sizes 1,10,100,1000,10000]
    python benchmarks/bench_engine.py --quick          # sizes up to 1,000, 3 turns
    python benchmarks/bench_engine.py --check          # about a minute, against baseline.json

N dialogues × T turns at concurrency C = N (``max_in_flight`` = endpoint concurrency = C),
cards built in code, records written to a temporary run directory. Every run happens in a
child process of its own, so its CPU time and peak RSS are its own; the mock is another
process. Ideal is the critical path: the dialogue's sequential calls × latency (a dialogue
opens with the fixed greeting, so T turns are 2T - 1 calls for the engine and 2T for the
baselines, which have no greeting). The ``engine`` rows run the engine as a library does
(asyncio's event loop, the default garbage collector), the ``simulate`` rows as the
``simulate`` command does (``interactive_agents.runtime``: uvloop, the collector tuned).
The mock's own CPU per call is read from its ``/stats``. Figures and ratios are printed,
with the load average before each run; nothing is asserted. ``--check`` is the quick
check to run before a change to the runtime or the LLM layer is submitted
(``benchmarks/_check.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
from _check import add_options, machine, run_check
from baselines import BASELINES
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from interactive_agents import Engine, RoleCard, build_config, runtime
from interactive_agents.testing import ServerOptions, spawn

T = TypeVar("T")
CHILD_TIMEOUT = 900.0
CHECK = {"dialogues": 1000, "turns": 3, "latency": 0.1}
"""The quick check's workload: 1,000 dialogues in flight, long enough to be CPU-bound."""
# The engine as a library runs it (asyncio's loop, default garbage collector), and as the
# `simulate` command runs it (uvloop, the collector tuned: interactive_agents.runtime).
ENGINE, SIMULATE = "engine", "simulate"
COMPLAINT = (
    "Since the quarter-end close I wake at 3 a.m. with my heart racing, going over "
    "spreadsheets in my head. I keep taking on extra tasks because I can't say no, and at "
    "home I snap at my daughter and then feel terrible."
)
console = Console(stderr=True)


def mock_cpu_seconds(base_url: str) -> float:
    """The mock's CPU time so far (user + system), from its ``/stats``."""
    document = httpx.get(base_url.removesuffix("/v1") + "/stats", timeout=10).json()
    return float(document["cpu_seconds"])


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one run in a child process cost."""

    wall_s: float
    cpu_s: float
    calls: int
    errors: int
    dialogues_failed: int
    rss_start_kib: int
    rss_peak_kib: int
    record_bytes: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    mock_cpu_s: float = 0.0
    load_before: float = 0.0  # the machine's load average when the run started

    @property
    def rss_growth_kib(self) -> int:
        return max(0, self.rss_peak_kib - self.rss_start_kib)


def memory_kib() -> tuple[int, int]:
    """(current, peak) resident set size of this process, from /proc (KiB)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def raise_fd_limit() -> None:
    """10,000 connections need more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def jsonl_bytes(folder: str) -> int:
    """Bytes of the records a run wrote."""
    return sum(path.stat().st_size for path in Path(folder).glob("*.jsonl"))


async def engine_run(spec: dict[str, Any]) -> Measurement:
    """N dialogues through :class:`Engine` into a temporary run directory."""
    size, concurrency = spec["dialogues"], spec.get("concurrency") or spec["dialogues"]
    config = build_config(
        None,
        {
            "language": "en",
            "max_turns": spec["turns"],
            "max_in_flight": concurrency,
            "endpoint.base_urls": [spec["base_url"]],
            "endpoint.model": "mock-model",
            "endpoint.concurrency": spec.get("endpoint_concurrency") or concurrency,
            "endpoint.rpm": spec.get("rpm", 0),
            "endpoint.tpm": spec.get("tpm", 0),
            "endpoint.timeout": 60.0,
            **spec.get("overrides", {}),  # dotted recipe keys, e.g. quality.enabled
        },
    )
    cards = [RoleCard(id=f"bench-{i:05d}", chief_complaint=COMPLAINT) for i in range(size)]
    with tempfile.TemporaryDirectory() as run_dir:
        rss_start, _ = memory_kib()
        wall, cpu = time.perf_counter(), time.process_time()
        async with Engine(config, run_dir=run_dir) as engine:
            async for _ in engine.run(cards):
                pass
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        _, rss_peak = memory_kib()
        record_bytes = jsonl_bytes(run_dir)
    stats = engine.stats
    return Measurement(
        wall,
        cpu,
        stats.calls,
        stats.errors,
        stats.failed,
        rss_start,
        rss_peak,
        record_bytes // max(size, 1),
        stats.prompt_tokens,
        stats.completion_tokens,
    )


def baseline_run(spec: dict[str, Any]) -> Measurement:
    """One of ``baselines.BASELINES``, with the same memory bookkeeping."""
    rss_start, _ = memory_kib()
    result = BASELINES[spec["kind"]](spec["base_url"], spec["dialogues"], spec["turns"])
    _, rss_peak = memory_kib()
    return Measurement(
        result.wall_seconds,
        result.cpu_seconds,
        result.calls,
        result.errors,
        result.errors,
        rss_start,
        rss_peak,
        0,
    )


def run_engine_as(kind: str, measure: Callable[[dict[str, Any]], Awaitable[T]], spec: Any) -> T:
    """Run ``measure(spec)`` as a library user (``engine``) or the command (``simulate``) would."""
    if kind == SIMULATE:
        runtime.tune_garbage_collector()
        return runtime.run_with_uvloop(measure, spec)
    return anyio.run(measure, spec)


def child_main(spec: dict[str, Any]) -> None:
    raise_fd_limit()
    if spec["kind"] in (ENGINE, SIMULATE):
        measured = run_engine_as(spec["kind"], engine_run, spec)
    else:
        measured = baseline_run(spec)
    print(json.dumps(asdict(measured)), flush=True)


def child_output(script: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``script --child SPEC`` in a fresh interpreter (bounded in time), so its CPU
    time and peak RSS are its own, and read the JSON line it prints last."""
    done = subprocess.run(
        [sys.executable, script, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {spec['kind']} run failed:\n{done.stderr[-3000:]}")
    document: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return document


def run_in_child(**spec: Any) -> Measurement:
    """One measurement in a child process."""
    return Measurement(**child_output(__file__, spec))


def sequential_calls(kind: str, turns: int) -> int:
    """Calls one dialogue makes one after the other (the engine's first line is fixed)."""
    return 2 * turns - 1 if kind in (ENGINE, SIMULATE) else 2 * turns


@contextmanager
def steps(total: int, title: str) -> Iterator[Callable[[str], None]]:
    """A progress bar over the runs of a benchmark; yields ``advance(description)``."""
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(title, total=total)

        def advance(description: str) -> None:
            progress.update(task, advance=1, description=description)

        yield advance


def show(title: str, headers: list[str], rows: list[list[str]], markdown: bool) -> None:
    """Print a table on stdout: rich (wide enough for a log file) or GitHub markdown."""
    if markdown:
        print(f"\n**{title}**\n")
        print("| " + " | ".join(headers) + " |")
        print("|" + "---|" * len(headers))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    table = Table(title=title)
    for header in headers:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*row)
    Console(width=200).print(table)


def per_call_ratio(measured: Measurement, reference: Measurement | None) -> str:
    """Our CPU per call over the reference's, or ``-`` when there is no reference."""
    if reference is None or reference.calls == 0 or reference.cpu_s == 0 or measured.calls == 0:
        return "-"
    return f"{(measured.cpu_s / measured.calls) / (reference.cpu_s / reference.calls):.2f}"


def overhead_rows(
    results: dict[tuple[str, int], Measurement], turns: int, latency: float
) -> list[list[str]]:
    floors = {n: m for (kind, n), m in results.items() if kind == "raw_sockets"}
    sdk = {n: m for (kind, n), m in results.items() if kind == "openai_sdk"}
    rows = []
    for (kind, size), m in results.items():
        ideal = sequential_calls(kind, turns) * latency * (size if kind == "reference" else 1)
        rows.append(
            [
                kind,
                f"{size:,}",
                f"{m.calls:,}",
                str(m.errors + m.dialogues_failed),
                f"{m.wall_s:.2f}",
                f"{ideal:.2f}",
                f"{m.wall_s / ideal:.3f}",
                f"{m.calls / m.wall_s:,.0f}",
                f"{m.cpu_s / max(m.calls, 1) * 1e3:.3f}",
                f"{m.mock_cpu_s / max(m.calls, 1) * 1e3:.3f}",
                per_call_ratio(m, sdk.get(size)),
                per_call_ratio(m, floors.get(size)),
                f"{m.rss_peak_kib / 1024:.0f}",
                f"{m.rss_growth_kib / size:.1f}",
                f"{m.load_before:.2f}",
            ]
        )
    return rows


OVERHEAD_HEADERS = [
    "client",
    "N = C",
    "calls",
    "errors",
    "wall s",
    "ideal s",
    "wall/ideal",
    "calls/s",
    "CPU ms/call",
    "mock CPU ms/call",
    "CPU vs SDK",
    "CPU vs floor",
    "peak RSS MiB",
    "RSS growth KiB/dialogue",
    "load before",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.1, help="mock latency, seconds")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--sizes", default="1,10,100,1000,10000", help="N = C values")
    parser.add_argument("--sdk-max", type=int, default=1000, help="largest N for the SDK")
    parser.add_argument("--reference-n", type=int, default=5, help="N of the blocking baseline")
    parser.add_argument("--quick", action="store_true", help="sizes up to 1,000, 3 turns")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    add_options(parser)
    args = parser.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return
    if args.check:
        raise SystemExit(check(args))
    if args.quick:
        args.sizes, args.turns = "1,10,100,1000", 3
    sizes = sorted(int(size) for size in args.sizes.split(","))
    plan = [
        (kind, n)
        for n in sizes
        for kind in (ENGINE, SIMULATE, "openai_sdk", "raw_sockets")
        if kind != "openai_sdk" or n <= args.sdk_max
    ]
    plan.append(("reference", args.reference_n))
    results: dict[tuple[str, int], Measurement] = {}
    where = machine()
    print(
        f"mock latency {args.latency} s, {args.turns} turns, 2 calls per turn; {where['date']}, "
        f"commit {where['commit']}, {where['cores']} cores, Python {where['python']}",
        flush=True,
    )
    with (
        spawn(ServerOptions(latency=args.latency)) as [base_url],
        steps(len(plan), "runs") as advance,
    ):
        for kind, size in plan:
            advance(f"{kind} N={size:,}")
            before, load = mock_cpu_seconds(base_url), os.getloadavg()[0]
            measured = run_in_child(kind=kind, base_url=base_url, dialogues=size, turns=args.turns)
            mock_cpu = mock_cpu_seconds(base_url) - before
            results[kind, size] = replace(measured, mock_cpu_s=mock_cpu, load_before=load)
    title = f"Engine overhead, mock latency {args.latency} s, {args.turns} turns (N = C)"
    show(title, OVERHEAD_HEADERS, overhead_rows(results, args.turns, args.latency), args.markdown)
    print("ideal = sequential calls per dialogue × latency (N = C: one batch; reference: N)")
    for line in target_lines(results, args.turns, args.latency):
        print(line)
    rows = target_rows(results, args.turns, args.latency)
    if rows:
        show("Against the targets", ["measured", "value", "target"], rows, args.markdown)


def check(args: argparse.Namespace) -> int:
    """The quick check: rounds of the floor and both engines on :data:`CHECK`."""
    workload = {**CHECK, "rounds": args.rounds}
    with spawn(ServerOptions(latency=CHECK["latency"])) as [base_url]:

        def measure(kind: str) -> dict[str, float]:
            m = run_in_child(
                kind=kind, base_url=base_url, dialogues=CHECK["dialogues"], turns=CHECK["turns"]
            )
            if m.errors or m.dialogues_failed or not m.calls:
                raise RuntimeError(f"the {kind} run had errors: {m}")
            return {
                "cpu_ms": m.cpu_s / m.calls * 1e3,
                "kib": m.rss_growth_kib / CHECK["dialogues"],
            }

        return run_check(args, measure, workload)


def target_lines(
    results: dict[tuple[str, int], Measurement], turns: int, latency: float
) -> list[str]:
    """The issue's targets, checked on these figures (reported, never asserted)."""
    lines = []
    for kind in (ENGINE, SIMULATE):
        runs = {n: m for (k, n), m in results.items() if k == kind}
        largest = max(runs)
        big = runs[largest]
        lines.append(
            f"{kind}: N = C = {largest:,}: {big.calls:,} calls, "
            f"{big.errors + big.dialogues_failed} errors/failed dialogues"
        )
        if 1000 in runs:
            ratio = runs[1000].wall_s / (sequential_calls(kind, turns) * latency)
            lines.append(f"{kind}: wall/ideal at 1,000 concurrent dialogues: {ratio:.2f}")
        sdk = {n: m for (k, n), m in results.items() if k == "openai_sdk"}
        for n in sorted(set(runs) & set(sdk)):
            lines.append(
                f"{kind}: CPU per call / SDK's at N = {n:,}: {per_call_ratio(runs[n], sdk[n])}"
            )
        for n, m in sorted(runs.items()):
            if n >= 100:
                beyond = m.rss_growth_kib - m.record_bytes / 1024 * n
                lines.append(
                    f"{kind}: RSS growth per in-flight dialogue at N = {n:,}: "
                    f"{m.rss_growth_kib / n:.1f} KiB ({beyond / n:.1f} KiB beyond its "
                    f"{m.record_bytes / 1024:.1f} KiB record)"
                )
    return lines


TARGETS: dict[str, tuple[str, float]] = {
    "simulate: wall / ideal": ("≤", 3.5),
    "simulate: CPU per call / raw-socket floor": ("≤", 3.0),
    "engine: CPU per call / raw-socket floor": ("≤", 4.0),
    "simulate: calls per second at N = 10,000": ("≥", 3000.0),
}
"""The targets of issue 26 for the runs that have them (figures on this machine), at
0.1 s latency; at 1 s, wall / ideal is to stay within 1.10."""


def target_rows(
    results: dict[tuple[str, int], Measurement], turns: int, latency: float
) -> list[list[str]]:
    """Each measured figure the targets speak of, beside its target ("met" or "not met")."""
    figures: dict[str, float] = {}
    floor = results.get(("raw_sockets", 1000))
    for kind in (SIMULATE, ENGINE):
        m = results.get((kind, 1000))
        if m is None:
            continue
        figures[f"{kind}: wall / ideal"] = m.wall_s / (sequential_calls(kind, turns) * latency)
        figures[f"{kind}: CPU ms per call"] = m.cpu_s / m.calls * 1e3
        if floor is not None:
            ratio = (m.cpu_s / m.calls) / (floor.cpu_s / floor.calls)
            figures[f"{kind}: CPU per call / raw-socket floor"] = ratio
        figures[f"{kind}: calls per second"] = m.calls / m.wall_s
        figures[f"{kind}: RSS growth KiB per dialogue"] = m.rss_growth_kib / 1000
    big = results.get((SIMULATE, 10000))
    if big is not None:
        figures["simulate: calls per second at N = 10,000"] = big.calls / big.wall_s
    targets = dict(TARGETS)
    if latency >= 1.0:
        targets["simulate: wall / ideal"] = ("≤", 1.10)
    rows = []
    for name, value in figures.items():
        target = ""
        if name in targets:
            sign, bound = targets[name]
            met = value <= bound if sign == "≤" else value >= bound
            target = f"{sign} {bound:g} ({'met' if met else 'not met'})"
        rows.append([name, f"{value:,.3f}" if value < 100 else f"{value:,.0f}", target])
    return rows


if __name__ == "__main__":
    main()
