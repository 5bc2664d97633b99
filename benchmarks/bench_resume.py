"""Turn-level resume: LLM calls redone after ``simulate`` is SIGKILLed half-way.

    python benchmarks/bench_resume.py [--dialogues 600] [--turns 10] [--in-flight 100]

Each round runs the real command against the mock on a fresh directory, kills it with
SIGKILL once half the dialogues are recorded, and runs the same command again to finish.
Redone calls are the calls of both runs minus those of one uninterrupted run (the
mock's own request count). The journal round resumes as shipped: every unfinished
dialogue continues after its last journaled turn, so at most the call in flight at the
kill is redone per dialogue. The "no journal" round deletes ``journal.jsonl`` before
resuming, which is what resuming did before the journal: unfinished dialogues start
again from turn 1. Dialogues in flight at the kill are those with journaled turns but
no record, plus those admitted whose first call had not answered (at most
``--in-flight`` in all). Figures only.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import orjson
from _mock_runs import mock_runs, run_options, run_to_end, simulate_command
from bench_engine import show

HEADERS = [
    "resume",
    "dialogues",
    "calls needed",
    "recorded at kill",
    "journaled, unrecorded",
    "calls redone",
    "redone / in-flight bound",
]
CLOSING = ("--terminator", "closing")


def served(url: str) -> int:
    document = httpx.get(url.removesuffix("/v1") + "/stats", timeout=10).json()
    return int(document["requests"])


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def kill_half_way(arguments: list[str], out: Path, half: int) -> None:
    """Start the command, SIGKILL it once ``half`` records are on disk."""
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while len(lines(out / "dialogues.jsonl")) < half:
        if process.poll() is not None:
            raise RuntimeError("the run ended before half its dialogues were recorded")
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


def ids(path: Path) -> set[str]:
    """Ids of the file's whole lines (a line torn by the kill is left out)."""
    found = set()
    for line in lines(path):
        try:
            found.add(orjson.loads(line)["id"])
        except orjson.JSONDecodeError:
            continue
    return found


def journaled_unrecorded(out: Path) -> int:
    return len(ids(out / "journal.jsonl") - ids(out / "dialogues.jsonl"))


def main() -> None:
    parser = run_options(
        __doc__,
        dialogues=600,
        turns=10,
        in_flight=100,
        in_flight_help="dialogues at once",
        latency=0.02,
    )
    args = parser.parse_args()
    rows = []
    with mock_runs(args, 3) as (runs, advance):
        advance("uninterrupted")
        before = served(runs.url)
        run_to_end(simulate_command(runs, runs.folder / "whole", args, *CLOSING))
        needed = served(runs.url) - before
        for name, keep_journal in (("journal", True), ("no journal", False)):
            advance(f"killed, resumed ({name})")
            out = runs.folder / name.replace(" ", "-")
            arguments = simulate_command(runs, out, args, *CLOSING)
            before = served(runs.url)
            kill_half_way(arguments, out, args.dialogues // 2)
            recorded = len(ids(out / "dialogues.jsonl"))
            journaled = journaled_unrecorded(out)
            if not keep_journal:
                (out / "journal.jsonl").unlink(missing_ok=True)
            run_to_end(arguments)
            redone = served(runs.url) - before - needed
            rows.append(
                [
                    name,
                    f"{args.dialogues:,}",
                    f"{needed:,}",
                    f"{recorded:,}",
                    f"{journaled:,}",
                    f"{redone:,}",
                    f"{redone / args.in_flight:.2f}",
                ]
            )
    title = f"SIGKILL half-way, then resume: {args.turns} turns, {args.in_flight} in flight"
    show(title, HEADERS, rows, args.markdown)


if __name__ == "__main__":
    main()
