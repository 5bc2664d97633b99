"""``interactive-agents export``: dialogues → ShareGPT / OpenAI fine-tuning files."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._progress import print_json, summary_table
from interactive_agents.method._quality import FLAG_NAMES
from interactive_agents.training import _samples as exporting
from interactive_agents.training._samples import FORMATS, ExportOptions, ExportSummary, read_sources

EXAMPLES = """
\b
Examples:
  # One sample per counselor turn, LLaMA-Factory's ShareGPT layout:
  interactive-agents export --run runs/simpsydial --out data/simpsy.jsonl
\b
  # OpenAI fine-tuning layout, whole dialogues with a per-reply loss mask, only
  # sessions the counselor closed, at least 10 turns, token counts:
  interactive-agents export --run runs/a --run runs/b --format openai --per-dialogue \\
      --only-normal-endings --min-turns 10 --tokenizer ./Qwen2-7B-Instruct \\
      --out data/simpsy-openai.jsonl
\b
Writes OUT (training), OUT's stem + .val.jsonl (validation, when not empty) and a
dataset_info.json entry beside them for LLaMA-Factory. In ShareGPT files each "gpt"
message has "loss" (true = learn it); in OpenAI files each assistant message has
"weight" (1 = learn it). Per-turn samples learn only their last reply (LLaMA-Factory:
set mask_history: true).
"""


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.option(
    "--run",
    "runs",
    multiple=True,
    required=True,
    help="A run directory, dialogues.jsonl, ShareGPT file, or folder of raw dialogues; repeat.",
)
@click.option("--out", required=True, help="Output JSON Lines file (training split).")
@click.option(
    "--format",
    "layout",
    type=click.Choice(FORMATS),
    default="sharegpt",
    show_default=True,
    help="Record layout.",
)
@click.option("--per-dialogue", is_flag=True, help="One sample per dialogue (loss mask per reply).")
@click.option(
    "--only-normal-endings",
    is_flag=True,
    help="Keep only sessions ended by a closing phrase (engine records).",
)
@click.option(
    "--min-turns",
    type=int,
    default=1,
    show_default=True,
    help="Drop dialogues with fewer counselor replies.",
)
@click.option(
    "--drop-refiner-gave-up", is_flag=True, help="Do not learn replies the refiner gave up on."
)
@click.option(
    "--val-ratio",
    type=float,
    default=0.001,
    show_default=True,
    help="Share of dialogues in the validation split.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option(
    "--exclude-flag",
    "exclude_flags",
    multiple=True,
    type=click.Choice(FLAG_NAMES),
    help="Drop sessions raising this quality flag (docs/quality.md); repeatable.",
)
@click.option(
    "--max-flags",
    type=click.IntRange(min=0),
    help="Drop sessions raising more than N quality flags.",
)
@click.option(
    "--language",
    type=click.Choice(["zh", "en"]),
    help="System prompt language (default: the record's, else detected).",
)
@click.option("--actors-dir", help="A folder of custom prompt cards (copy of actors/).")
@click.option("--tokenizer", help="A local tokenizer folder: count tokens in the summary.")
@click.option(
    "--skip-invalid", is_flag=True, help="Skip bad records (reported) instead of stopping."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def export(**options: Any) -> None:
    """Turn simulated (or reference) dialogues into training data for counselor bots.

    Each counselor turn t becomes a sample: the counselor system prompt, u1, r1, …, u_t
    and the target r_t (docs/method.md#training-recipe); identical samples are written
    once; the split into training and validation is by dialogue and reproducible with
    --seed.
    """
    console = Console(stderr=True, quiet=options["quiet"])
    settings = ExportOptions(
        format=options["layout"],
        per_dialogue=options["per_dialogue"],
        only_normal_endings=options["only_normal_endings"],
        min_turns=options["min_turns"],
        drop_refiner_gave_up=options["drop_refiner_gave_up"],
        val_ratio=options["val_ratio"],
        seed=options["seed"],
        language=options["language"],
        actors_dir=options["actors_dir"],
        exclude_flags=options["exclude_flags"],
        max_flags=options["max_flags"],
    )
    with usage_errors():
        sources, skipped = read_sources(
            options["runs"], language=options["language"], skip_invalid=options["skip_invalid"]
        )
        for message in skipped:
            console.print(f"[yellow]skipped:[/yellow] {message}", highlight=False)
        bar = Progress(
            TextColumn("[bold]dialogues"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            disable=options["quiet"],
        )
        with bar:
            task = bar.add_task("export", total=len(sources))
            summary = exporting.export(
                sources,
                options["out"],
                settings,
                tokenizer=options["tokenizer"],
                progress=lambda done: bar.advance(task, done),
            )
    summary.skipped_records = skipped
    _report(summary, console, options["as_json"])


def _report(summary: ExportSummary, console: Console, as_json: bool) -> None:
    data = summary.as_dict()
    if as_json:
        print_json(data)
        return
    rows = {
        k: v
        for k, v in data.items()
        if k not in {"skipped_records", "files", "removed_by_flag"} and v is not None
    }
    rows.update({f"removed by {name}": n for name, n in summary.removed_by_flag.items()})
    rows["skipped_records"] = len(summary.skipped_records)
    rows.update(summary.files)
    console.print(summary_table("Export complete", rows))
