"""``evaluate semantic``: semantic consistency of client utterances and role card."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import Progress

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._evaluate._common import (
    CORPUS_HELP,
    card_comparison_options,
    corpus_command,
    evaluation_config,
    interruptible,
    language_option,
    quiet_option,
    show,
)
from interactive_agents.cli._options import option
from interactive_agents.evaluation import (
    DEFAULT_MODEL,
    MULTILINGUAL_MODEL,
    EvaluationConfig,
    evaluate_semantic,
)


@click.command(epilog=CORPUS_HELP)
@corpus_command
@card_comparison_options("semantic")
@option(
    "--model",
    key="semantic.model",
    metavar="NAME_OR_PATH",
    default_text=f"{MULTILINGUAL_MODEL} if a corpus is Chinese, else {DEFAULT_MODEL}",
    help=f"The embedding model: {MULTILINGUAL_MODEL}, {DEFAULT_MODEL} (both offline), or "
    "a sentence-transformers model.",
)
@option(
    "--device",
    key="semantic.device",
    default_text="chosen automatically",
    help="torch device (cpu, cuda, …).",
)
@option(
    "--force",
    key="semantic.force",
    kind=EvaluationConfig,
    is_flag=True,
    help="Score a Chinese corpus even with an English-only model.",
)
@language_option("The corpora's language, for the default model; auto: detected per corpus.")
@quiet_option("No progress bar and no table (the report is written).")
def semantic(
    corpora: tuple[str, ...], out: str, as_json: bool, quiet: bool, **_configured: object
) -> None:
    """Semantic consistency: cosine similarity of client utterances and role card (Eq. 2).

    Texts longer than the model's window are embedded in windows and averaged. Same
    mapping-versus-random design and t-test as `overlap`. An English-only model
    (all-MiniLM-L6-v2) cannot tell cards apart in Chinese: it is refused on a Chinese
    corpus unless --force.

    \b
    Examples:
      interactive-agents evaluate semantic runs/a --out reports/semantic
      interactive-agents evaluate semantic runs/a --out reports/semantic \\
          --model BAAI/bge-m3 --device cuda --seed 7
    """
    console = Console(stderr=True, quiet=quiet)
    bar = Progress(*Progress.get_default_columns(), console=console, disable=quiet)
    with interruptible("semantic"), usage_errors():
        config = evaluation_config(click.get_current_context())
        with bar:
            task = bar.add_task("embedding", total=None)
            done = evaluate_semantic(
                corpora, config, out, on_embedded=lambda texts: bar.advance(task, texts)
            )
    show(done, as_json=as_json, quiet=quiet)
