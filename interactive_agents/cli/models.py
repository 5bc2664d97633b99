"""``interactive-agents models``: which local model is available, and what to use instead."""

from __future__ import annotations

import click
from rich.console import Console

from interactive_agents.cli._progress import print_json, summary_table
from interactive_agents.llm.local import (
    DEFAULT_ALIAS,
    INSTALL_HINT,
    default_model_path,
    server_available,
)

ADVICE = (
    "The embedded SmolLM2-135M-Instruct (English role-play only, and weak) lets the whole "
    "pipeline run offline; it is not for data quality. For real sessions, serve a strong "
    "chat model with vLLM (python -m vllm.entrypoints.openai.api_server --model "
    "Qwen/Qwen2-7B-Instruct) or use any OpenAI-compatible API, and pass --base-url and "
    "--model (and --api-key-env for a key)."
)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
def models(as_json: bool) -> None:
    """Show the embedded local model: whether it is installed, where, and its size.

    \b
    Example:
      interactive-agents models
    """
    path = default_model_path()
    facts = {
        "model": DEFAULT_ALIAS,
        "installed": path is not None,
        "path": str(path) if path else None,
        "size_mb": round(path.stat().st_size / 2**20, 1) if path else None,
        "llama_cpp_server": server_available(),
        "used_when": "no --base-url is given for a role",
        "advice": ADVICE,
    }
    if not (path and server_available()):
        facts["install"] = INSTALL_HINT
    if as_json:
        print_json(facts)
        return
    Console().print(summary_table("Embedded local model", facts))
