"""Embedded-model candidates on this machine: start time, memory, tokens/s, session quality.

Not a test: it prints figures. For each GGUF file (and each llama.cpp server that is
installed: xllamacpp, and llama-cpp-python's if present) it starts the server on a free
loopback port, times the start, reads the server's resident memory, and measures decode
speed over a few short completions. Then it plays a few role cards per language through
``interactive-agents simulate --quality-flags`` on the embedded server with that model,
with the quickstart recipe (the default a new user meets) and the client guard on (so
the records show how often the model's client slips), and judges the records by the
engine's own checks: the sessions raising each quality flag (``FLAG_NAMES``), the
refiner's rejections of counselor candidates and the guard's of client lines, and the
wall and CPU time of the run (server start included). The cores are shared with other
work, so the load average at each model's start goes beside its figures: under
contention llama.cpp's threads spin while they wait for a core, and CPU seconds rise
with the wall clock (on a busy machine SmolLM2 measured 1.4 tokens per CPU second, on a
quiet one 51), so compare models only at similar loads.

    python benchmarks/bench_local_models.py MODEL.gguf [...] [--max-turns 6] \\
        [--keep runs/bench] [--markdown | --json]

English cards default to the built-in ``demo_en``, Chinese ones to the reference's
held-out pool (``../shared/data/reference/client_pool_test.json``, from the repository).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from bench_engine import show

from interactive_agents.method import FLAG_NAMES

SERVERS = {
    "xllamacpp": lambda model, port: [
        sys.executable, "-m", "interactive_agents.llm.local._llama_server", "--model", model,
        "--alias", "m", "--port", str(port), "--ctx-size", "2048", "--threads",
        str(os.cpu_count() or 1),
    ],
    "llama_cpp": lambda model, port: [
        sys.executable, "-m", "llama_cpp.server", "--model", model, "--model_alias", "m",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads",
        str(os.cpu_count() or 1),
    ],
}  # fmt: skip
PROMPT = "I have felt anxious at work for weeks and cannot sleep. What can I do?"
CARDS = {"en": "demo_en", "zh": "../shared/data/reference/client_pool_test.json"}
SPEED_ROWS = (("start_s", "start s"), ("rss_mb", "RSS MB"), ("tokens_per_s", "tok/s"),
              ("tokens_per_cpu_s", "tok per CPU s"))  # fmt: skip
# simulate's exit codes with records to judge: all finished, some failed.
JUDGED_EXITS = (0, 1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    """CPU seconds of every waited-for descendant: simulate and the server it stops."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def speed(model: str, server: str, completions: int = 3) -> dict[str, float]:
    """Start time, resident memory and decode speed (per second, per CPU second)."""
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        SERVERS[server](model, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        with httpx.Client(timeout=300) as client:
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"{server} exited with {process.returncode} on {model}")
                try:
                    if client.get(f"{base}/models").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            start_s = time.perf_counter() - started
            tokens, seconds, cpu_before = 0, 0.0, _cpu_s(process.pid)
            for seed in range(completions):
                began = time.perf_counter()
                body = {"model": "m", "max_tokens": 64, "temperature": 0.7, "seed": seed,
                        "messages": [{"role": "user", "content": PROMPT}]}  # fmt: skip
                answer = client.post(f"{base}/chat/completions", json=body).json()
                seconds += time.perf_counter() - began
                tokens += answer["usage"]["completion_tokens"]
            rss, cpu = _rss_mb(process.pid), _cpu_s(process.pid) - cpu_before
    finally:
        process.terminate()
        process.wait(30)
    return {"start_s": start_s, "rss_mb": rss, "tokens_per_s": tokens / seconds,
            "tokens_per_cpu_s": tokens / cpu}  # fmt: skip


def run_sessions(model: str, language: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One ``simulate`` run of ``--cards-per-language`` cards, judged by its records."""
    if out.exists():
        raise SystemExit(f"{out} exists: simulate would resume it; pick another --keep")
    guard = "--client-guard" if args.client_guard else "--no-client-guard"
    command = [sys.executable, "-m", "interactive_agents", "simulate", "--recipe", args.recipe,
               "--cards", args.cards[language], "--out", str(out), "--language", language,
               "--limit", str(args.cards_per_language), "--max-turns", str(args.max_turns),
               "--local-model", model, guard, "--quality-flags", "--quiet"]  # fmt: skip
    began, cpu_before = time.perf_counter(), _children_cpu_s()
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    wall_s, cpu_s = time.perf_counter() - began, _children_cpu_s() - cpu_before
    if done.returncode not in JUDGED_EXITS:
        raise SystemExit(f"simulate exited with {done.returncode}:\n{done.stderr}")
    records = [orjson.loads(line) for line in (out / "dialogues.jsonl").read_bytes().splitlines()]
    return {**judge(records), "cards": args.cards_per_language, "wall_s": wall_s, "cpu_s": cpu_s}


def judge(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts over finished sessions: replies, flags raised, rejections by role.

    Distinct replies and their mean length go beside the flags because echo and
    repetition skip turns too short to judge: a session of "你好！" six times is unflagged.
    """
    turns = [turn for record in records for turn in record["turns"]]
    raised = [set(record["quality"]["raised"]) for record in records]
    replies = [turn["content"] for turn in turns if turn["role"] == "counselor"]

    def rejections(role: str) -> int:
        return sum(len(turn["rejected"]) for turn in turns if turn["role"] == role)

    return {
        "sessions": len(records),
        "counselor_replies": len(replies),
        "distinct_replies": len(set(replies)),
        "reply_chars": sum(map(len, replies)) / max(len(replies), 1),
        "clean_sessions": sum(not flags for flags in raised),
        "flags": {name: sum(name in flags for flags in raised) for name in FLAG_NAMES},
        "refiner_rejections": rejections("counselor"),
        "guard_rejections": rejections("client"),
    }


def measure(model: str, servers: list[str], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Everything about one model: load at its start, speed per server, sessions per language."""
    result: dict[str, Any] = {
        "model": Path(model).name,
        "size_mb": Path(model).stat().st_size / 2**20,
        "load_average": os.getloadavg(),
        "speed": {server: speed(model, server) for server in servers},
    }
    print(f"{result['model']}: load {result['load_average']}, {result['speed']}", file=sys.stderr)
    result["sessions"] = {}
    for language in args.languages:
        out = work / Path(model).stem / language
        result["sessions"][language] = run_sessions(model, language, out, args)
        print(f"  {language}: {result['sessions'][language]}", file=sys.stderr, flush=True)
    return result


def table(results: list[dict[str, Any]], markdown: bool, turns: int) -> None:
    """One column per model and language, one row per figure."""
    columns = [(r, language) for r in results for language in r["sessions"]]
    rows: list[list[str]] = [
        ["size MB", *(f"{r['size_mb']:.0f}" for r, _ in columns)],
        ["load average 1/5/15 min", *(" ".join(f"{v:.2f}" for v in r["load_average"])
                                      for r, _ in columns)],
    ]  # fmt: skip
    for server in results[0]["speed"] if results else ():
        for key, label in SPEED_ROWS:
            rows.append([f"{label} ({server})", *(f"{r['speed'][server][key]:.1f}"
                                                  for r, _ in columns)])  # fmt: skip
    figures = [r["sessions"][language] for r, language in columns]
    rows.append(["sessions finished", *(f"{f['sessions']}/{f['cards']}" for f in figures)])
    rows.append(["counselor replies", *(str(f["counselor_replies"]) for f in figures)])
    rows.append(["distinct counselor replies", *(str(f["distinct_replies"]) for f in figures)])
    rows.append(["characters per reply", *(f"{f['reply_chars']:.0f}" for f in figures)])
    rows.append(["sessions with no flag", *(str(f["clean_sessions"]) for f in figures)])
    rows.extend([f"sessions raising {name}", *(str(f["flags"][name]) for f in figures)]
                for name in FLAG_NAMES)  # fmt: skip
    rows.append(["refiner rejections", *(str(f["refiner_rejections"]) for f in figures)])
    rows.append(["client-guard rejections", *(str(f["guard_rejections"]) for f in figures)])
    rows.append(["session run wall s", *(f"{f['wall_s']:.0f}" for f in figures)])
    rows.append(["session run CPU s", *(f"{f['cpu_s']:.0f}" for f in figures)])
    headers = ["", *(f"{Path(r['model']).stem} {language}" for r, language in columns)]
    show(f"Embedded-model candidates, sessions of up to {turns} turns", headers, rows, markdown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="GGUF files")
    parser.add_argument("--languages", nargs="+", choices=sorted(CARDS), default=["en", "zh"])
    parser.add_argument("--en-cards", default=CARDS["en"], help="English role cards")
    parser.add_argument("--zh-cards", default=CARDS["zh"], help="Chinese role cards")
    parser.add_argument("--cards-per-language", type=int, default=2)
    parser.add_argument("--max-turns", type=int, default=6)
    parser.add_argument("--recipe", default="quickstart", help="simulate's recipe")
    parser.add_argument("--client-guard", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--keep", type=Path, help="keep the run directories under DIR")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print a markdown table")
    output.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    args.cards = {"en": args.en_cards, "zh": args.zh_cards}
    servers = [s for s in SERVERS if importlib.util.find_spec(s) is not None]
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        results = [measure(model, servers, work, args) for model in args.models]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        table(results, args.markdown, args.max_turns)


if __name__ == "__main__":
    main()
