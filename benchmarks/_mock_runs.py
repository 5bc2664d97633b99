"""The skeleton of the benchmarks that run the real ``simulate`` command against the
loopback mock: their options, a fresh folder of cards with the mock started, the command
line and a run of it to its end, so that each benchmark says only what it measures."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
from bench_engine import COMPLAINT, steps

from interactive_agents.testing import ServerOptions, spawn


@dataclass(frozen=True, slots=True)
class MockRuns:
    """Where the runs of one benchmark happen: ``folder`` (temporary) holds ``cards``,
    and the mock serves at ``url``."""

    folder: Path
    cards: Path
    url: str


def run_options(
    doc: str, *, dialogues: int, turns: int, in_flight: int, in_flight_help: str, latency: float
) -> argparse.ArgumentParser:
    """The options every such benchmark takes, with its own defaults; it may add more."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--dialogues", type=int, default=dialogues)
    parser.add_argument("--turns", type=int, default=turns)
    parser.add_argument("--in-flight", type=int, default=in_flight, help=in_flight_help)
    parser.add_argument("--latency", type=float, default=latency, help="mock latency, seconds")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    return parser


def write_cards(path: Path, count: int) -> Path:
    lines = (
        orjson.dumps({"id": f"card-{i:05d}", "chief_complaint": f"{COMPLAINT} ({i})"})
        for i in range(count)
    )
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@contextmanager
def mock_runs(
    args: argparse.Namespace, runs: int
) -> Iterator[tuple[MockRuns, Callable[[str], None]]]:
    """A fresh folder with ``--dialogues`` cards and the mock at ``--latency``, with a
    progress bar over ``runs`` runs (``advance(description)``); all gone on leaving."""
    with (
        tempfile.TemporaryDirectory() as folder,
        spawn(ServerOptions(latency=args.latency)) as [url],
        steps(runs, "runs") as advance,
    ):
        cards = write_cards(Path(folder) / "cards.jsonl", args.dialogues)
        yield MockRuns(Path(folder), cards, url), advance


def simulate_command(
    runs: MockRuns, out: Path, args: argparse.Namespace, *options: str
) -> list[str]:
    """``simulate`` of the cards into ``out`` against the mock, with ``--turns`` and
    ``--in-flight`` (in flight and endpoint concurrency alike), quiet, its summary JSON."""
    return [
        sys.executable, "-m", "interactive_agents", "simulate",
        "--cards", str(runs.cards), "--out", str(out), "--base-url", runs.url, "--model", "mock",
        "--language", "en", "--max-turns", str(args.turns),
        "--max-in-flight", str(args.in_flight), "--concurrency", str(args.in_flight),
        *options, "--quiet", "--json",
    ]  # fmt: skip


def run_to_end(command: list[str], what: str = "simulate") -> subprocess.CompletedProcess[bytes]:
    """Run the command, its output captured; a failed run stops the benchmark."""
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed: {result.stderr.decode()[-800:]}")
    return result
