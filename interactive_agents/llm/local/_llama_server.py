"""Run llama.cpp's own OpenAI-compatible server on one GGUF file, until terminated.

Usage: ``python -m interactive_agents.llm.local._llama_server --model FILE --port N [...]``.

The server comes from the ``xllamacpp`` wheel (prebuilt, nothing compiles). It runs its
HTTP threads inside this process, so :class:`~interactive_agents.llm.local._server.LocalServer`
starts this module as a child behind the parent-death guard, exactly as it would start a
server binary: one process to stop, and none left behind if the engine dies.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m interactive_agents.llm.local._llama_server")
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", required=True, help="the model name the API answers to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ctx-size", type=int, default=4096, help="tokens per slot")
    parser.add_argument("--parallel", type=int, default=1, help="requests decoded together")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--metrics", action="store_true", help="serve Prometheus counters on /metrics"
    )
    return parser.parse_args(argv)


def _serve_forever(argv: list[str]) -> None:
    options = _arguments(argv)
    import xllamacpp  # the `local` extra; imported here so --help needs nothing

    params = xllamacpp.CommonParams()
    params.model.path = options.model
    params.model_alias = {options.alias}
    params.hostnames = [options.host]
    params.port = options.port
    params.n_parallel = options.parallel
    params.n_ctx = options.ctx_size * options.parallel  # llama.cpp splits it over the slots
    params.cpuparams.n_threads = options.threads
    params.cpuparams_batch.n_threads = options.threads
    params.endpoint_metrics = options.metrics
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    server = xllamacpp.Server(params)  # listening once this returns
    stop.wait()
    del server


if __name__ == "__main__":
    _serve_forever(sys.argv[1:])
