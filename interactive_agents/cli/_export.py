"""``interactive-agents export``: dialogues → ShareGPT / OpenAI fine-tuning files."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from interactive_agents import training
from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._options import configuration, option
from interactive_agents.cli._progress import print_json, summary_table
from interactive_agents.judging import SEVERITIES
from interactive_agents.method import FLAG_NAMES
from interactive_agents.training import FORMATS, ExportOptions, ExportSummary, read_sources

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
  # Leave out the replies the safety judge rated critical (evaluate safety first):
  interactive-agents export --run runs/crisis --safety-report reports/safety \
      --exclude-safety critical --out data/crisis.jsonl
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
@option(
    "--format", key="format", kind=ExportOptions, type=click.Choice(FORMATS), help="Record layout."
)
@option(
    "--per-dialogue",
    key="per_dialogue",
    is_flag=True,
    default_text="off",
    help="One sample per dialogue (loss mask per reply).",
)
@option(
    "--only-normal-endings",
    key="only_normal_endings",
    is_flag=True,
    default_text="off",
    help="Keep only sessions ended by a closing phrase (engine records).",
)
@option(
    "--min-turns",
    key="min_turns",
    kind=ExportOptions,
    type=int,
    help="Drop dialogues with fewer counselor replies.",
)
@option(
    "--drop-refiner-gave-up",
    key="drop_refiner_gave_up",
    is_flag=True,
    default_text="off",
    help="Do not learn replies the refiner gave up on.",
)
@option(
    "--val-ratio",
    key="val_ratio",
    kind=ExportOptions,
    type=float,
    help="Share of dialogues in the validation split.",
)
@option("--seed", key="seed", kind=ExportOptions, type=int, help="Seed of the split.")
@option(
    "--exclude-flag",
    key="exclude_flags",
    multiple=True,
    type=click.Choice(FLAG_NAMES),
    help="Drop sessions raising this quality flag (docs/quality.md); repeatable.",
)
@option(
    "--max-flags",
    key="max_flags",
    type=click.IntRange(min=0),
    help="Drop sessions raising more than N quality flags.",
)
@option(
    "--safety-report",
    key="safety_report",
    kind=ExportOptions,
    metavar="DIR",
    help="The --out folder of `evaluate safety` (or its safety_replies.jsonl): the "
    "per-reply safety ratings.",
)
@option(
    "--exclude-safety",
    key="exclude_safety",
    kind=ExportOptions,
    type=click.Choice(SEVERITIES[1:]),
    help="Drop the replies rated at or above this severity (per-turn samples), or the "
    "sessions holding one (--per-dialogue); needs --safety-report (docs/safety.md).",
)
@option(
    "--language",
    key="language",
    type=click.Choice(["zh", "en"]),
    default_text="the record's, else detected",
    help="System prompt language.",
)
@option("--actors-dir", key="actors_dir", help="A folder of custom prompt cards (copy of actors/).")
@click.option("--tokenizer", help="A local tokenizer folder: count tokens in the summary.")
@click.option(
    "--skip-invalid", is_flag=True, help="Skip bad records (reported) instead of stopping."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def export(
    runs: tuple[str, ...],
    out: str,
    tokenizer: str | None,
    skip_invalid: bool,
    quiet: bool,
    as_json: bool,
    **_configured: object,
) -> None:
    """Turn simulated (or reference) dialogues into training data for counselor bots.

    Each counselor turn t becomes a sample: the counselor system prompt, u1, r1, …, u_t
    and the target r_t (docs/method.md#training-recipe); identical samples are
    written once; the split into training and validation is by dialogue and
    reproducible with --seed.
    """
    console = Console(stderr=True, quiet=quiet)
    with usage_errors():
        settings = configuration(ExportOptions, click.get_current_context())
        sources, skipped = read_sources(runs, language=settings.language, skip_invalid=skip_invalid)
        for message in skipped:
            console.print(f"[yellow]skipped:[/yellow] {message}", highlight=False)
        bar = Progress(
            TextColumn("[bold]dialogues"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            disable=quiet,
        )
        with bar:
            task = bar.add_task("export", total=len(sources))
            summary = training.export(
                sources,
                out,
                settings,
                tokenizer=tokenizer,
                progress=lambda done: bar.advance(task, done),
            )
    summary.skipped_records = skipped
    for warning in summary.safety.warnings:
        click.echo(f"warning: {warning}", err=True)
    _report(summary, console, as_json)


def _report(summary: ExportSummary, console: Console, as_json: bool) -> None:
    data = summary.as_dict()
    if as_json:
        print_json(data)
        return
    hidden = {"skipped_records", "files", "removed_by_flag", "safety"}
    rows = {k: v for k, v in data.items() if k not in hidden and v is not None}
    rows.update({f"removed by {name}": n for name, n in summary.removed_by_flag.items()})
    safety = summary.safety
    if safety.ratings is not None:
        rows["safety ratings"] = (
            f"{safety.replies_rated} replies rated, {safety.replies_unrated} not"
        )
        if safety.floor is not None:
            rows[f"removed by safety (>= {safety.floor})"] = (
                f"{safety.replies_removed} replies, {safety.sessions_removed} sessions"
            )
    rows["skipped_records"] = len(summary.skipped_records)
    rows.update(summary.files)
    console.print(summary_table("Export complete", rows))
