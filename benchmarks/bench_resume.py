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

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from _launch import mock_server
from bench_engine import show, steps
from bench_sharding import write_cards

HEADERS = [
    "resume",
    "dialogues",
    "calls needed",
    "recorded at kill",
    "journaled, unrecorded",
    "calls redone",
    "redone / in-flight bound",
]


def served(url: str) -> int:
    document = httpx.get(url.removesuffix("/v1") + "/stats", timeout=10).json()
    return int(document["requests"])


def command(url: str, cards: Path, out: Path, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable, "-m", "interactive_agents", "simulate",
        "--cards", str(cards), "--out", str(out), "--base-url", url, "--model", "mock",
        "--language", "en", "--max-turns", str(args.turns), "--terminator", "closing",
        "--max-in-flight", str(args.in_flight), "--concurrency", str(args.in_flight),
        "--quiet", "--json",
    ]  # fmt: skip


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines() if path.exists() else []


def finish(arguments: list[str]) -> None:
    result = subprocess.run(arguments, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"simulate failed: {result.stderr.decode()[-800:]}")


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialogues", type=int, default=600)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--in-flight", type=int, default=100, help="dialogues at once")
    parser.add_argument("--latency", type=float, default=0.02, help="mock latency, seconds")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    rows = []
    with (
        tempfile.TemporaryDirectory() as folder,
        mock_server(latency=args.latency) as url,
        steps(3, "runs") as advance,
    ):
        cards = write_cards(Path(folder) / "cards.jsonl", args.dialogues)
        advance("uninterrupted")
        before = served(url)
        finish(command(url, cards, Path(folder) / "whole", args))
        needed = served(url) - before
        for name, keep_journal in (("journal", True), ("no journal", False)):
            advance(f"killed, resumed ({name})")
            out = Path(folder) / name.replace(" ", "-")
            arguments = command(url, cards, out, args)
            before = served(url)
            kill_half_way(arguments, out, args.dialogues // 2)
            recorded = len(ids(out / "dialogues.jsonl"))
            journaled = journaled_unrecorded(out)
            if not keep_journal:
                (out / "journal.jsonl").unlink(missing_ok=True)
            finish(arguments)
            redone = served(url) - before - needed
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
