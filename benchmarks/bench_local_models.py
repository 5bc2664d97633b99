"""Embedded-model candidates on this machine: start time, memory, tokens/s, session quality.

Not a test: it prints figures. For each GGUF file (and each llama.cpp server that is
installed: xllamacpp, and llama-cpp-python's if present) it starts the server on a free
loopback port, times the start, reads the server's resident memory, and measures decode
speed over a few short completions. With ``--sessions CARDS`` it also runs one short en
and one zh session per model through ``interactive-agents simulate`` and judges the
records: replies in the wrong language, echoes of the client's words, role confusion (a
counselor reply written as the client), and refiner rejections.

    python benchmarks/bench_local_models.py MODEL.gguf [...] \\
        --sessions ../shared/data/reference/client_pool_test.json
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from interactive_agents.corpora.vocabulary import detect_language

SERVERS = {
    "xllamacpp": lambda model, port: [
        sys.executable, "-m", "interactive_agents.llm.llama_server", "--model", model,
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


def speed(model: str, server: str, completions: int = 3) -> dict[str, float]:
    port = _free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        SERVERS[server](model, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        with httpx.Client(timeout=300) as client:
            while True:
                try:
                    if client.get(f"{base}/models").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            start_s = time.perf_counter() - started
            tokens, seconds = 0, 0.0
            for seed in range(completions):
                began = time.perf_counter()
                body = {"model": "m", "max_tokens": 64, "temperature": 0.7, "seed": seed,
                        "messages": [{"role": "user", "content": PROMPT}]}  # fmt: skip
                answer = client.post(f"{base}/chat/completions", json=body).json()
                seconds += time.perf_counter() - began
                tokens += answer["usage"]["completion_tokens"]
            rss = _rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(30)
    return {"start_s": start_s, "rss_mb": rss, "tokens_per_s": tokens / seconds}


def sessions(model: str, cards: str) -> dict[str, float]:
    """One short session per language on the first card, judged by the records."""
    figures: dict[str, float] = {}
    for language in ("en", "zh"):
        with tempfile.TemporaryDirectory() as out:
            command = [sys.executable, "-m", "interactive_agents", "simulate", "--cards", cards,
                       "--out", out, "--language", language, "--limit", "1", "--max-turns", "4",
                       "--local-model", model, "--quiet"]  # fmt: skip
            subprocess.run(command, check=False, capture_output=True)
            lines = Path(out, "dialogues.jsonl").read_bytes().splitlines()
            records = [orjson.loads(line) for line in lines]
        turns = [t for r in records for t in r["turns"]]
        replies = [t for t in turns if t["role"] == "counselor"]
        previous = {id(t): turns[i - 1]["content"] for i, t in enumerate(turns) if i}
        figures[f"{language}_replies"] = len(replies)
        figures[f"{language}_wrong_language"] = sum(
            detect_language(t["content"]) != language for t in replies
        )
        figures[f"{language}_echoes"] = sum(
            t["content"].strip() == previous.get(id(t), "").strip() for t in replies
        )
        figures[f"{language}_role_confusion"] = sum(
            t["content"].lstrip().lower().startswith(("client", "来访者")) for t in replies
        )
        figures[f"{language}_rejections"] = sum(len(t["rejected"]) for t in turns)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="GGUF files")
    parser.add_argument("--sessions", help="role cards for one en and one zh session")
    args = parser.parse_args()
    installed = [s for s in SERVERS if importlib.util.find_spec(s) is not None]
    for model in args.models:
        size = Path(model).stat().st_size / 2**20
        for server in installed:
            figures = speed(model, server)
            print(f"{Path(model).name} ({size:.0f} MB) on {server}: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()), flush=True)  # fmt: skip
        if args.sessions:
            print(f"{Path(model).name} sessions: {sessions(model, args.sessions)}", flush=True)


if __name__ == "__main__":
    main()
