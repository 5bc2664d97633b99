"""``interactive-agents train``: fine-tune a counselor bot on exported samples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._options import configuration, option, recipe_option
from interactive_agents.cli._progress import print_json, summary_table
from interactive_agents.training import METHODS, PRECISIONS, TrainConfig
from interactive_agents.training import train as run_training

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLES = """
\b
Examples:
  # Try it on the CPU: LoRA of the embedded SmolLM2 (its GGUF is converted once):
  interactive-agents export --run runs/quickstart --out data/quick.jsonl --val-ratio 0.1
  interactive-agents train --model "$(interactive-agents models --path smollm2-135m-instruct)" \\
      --train data/quick.jsonl \\
      --validation data/quick.val.jsonl --method lora --learning-rate 2e-4 --out runs/bot
\b
  # The paper's recipe (full fine-tuning of a 7B model) on 4 GPUs with FSDP:
  accelerate launch --config_file runners/accelerate_fsdp.yaml -m interactive_agents \\
      train --recipe train_7b_fsdp
\b
  # Continue a run that was stopped, from its last checkpoint:
  interactive-agents train --recipe train_7b_fsdp --resume
\b
Writes OUT/final (the model, or the LoRA adapter), OUT/checkpoint-N, OUT/log.jsonl
(loss and learning rate per step, validation loss) and OUT/loss.png. Defaults are the
paper's: lr 1e-5, cosine, warm-up 0.1, 2 epochs, batch 1, accumulation 2, 16-bit on GPUs.
"""


_FIELDS: list[tuple[str, str, Any, str]] = [
    ("--model", "model", str, "Base model: a Hugging Face folder or hub name, or a .gguf file."),
    ("--train", "train", str, "Exported training samples (JSON Lines)."),
    ("--validation", "validation", str, "Exported validation samples (JSON Lines)."),
    ("--out", "out", str, "Output folder: checkpoints, logs, final model."),
    ("--method", "method", click.Choice(METHODS), "Full fine-tuning or LoRA."),
    ("--learning-rate", "learning_rate", float, "Peak learning rate."),
    ("--epochs", "epochs", float, "Epochs."),
    ("--max-steps", "max_steps", int, "Stop after N optimizer steps (overrides --epochs)."),
    ("--batch-size", "batch_size", int, "Per-device batch size."),
    ("--grad-accumulation", "grad_accumulation", int, "Gradient accumulation steps."),
    ("--max-length", "max_length", int, "Longest sample in tokens; longer ones are left out."),
    ("--precision", "precision", click.Choice(PRECISIONS), "Mixed precision."),
    ("--save-steps", "save_steps", int, "Checkpoint every N steps."),
    ("--eval-steps", "eval_steps", int, "Validation loss every N steps."),
    ("--seed", "seed", int, "Training seed."),
    ("--lora-r", "lora_r", int, "LoRA rank."),
]


def _train_options(command: F) -> F:
    """One flag per field of TrainConfig that people change from the command line."""
    command = option(
        "--merge-lora/--no-merge-lora",
        key="merge_lora",
        kind=TrainConfig,
        help="Also save the merged model.",
    )(command)
    for flag, name, click_type, help_text in reversed(_FIELDS):
        command = option(flag, key=name, kind=TrainConfig, type=click_type, help=help_text)(command)
    return command


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@recipe_option("train_7b_fsdp")
@_train_options
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def train(
    recipe: str | None, resume: bool, quiet: bool, as_json: bool, **_configured: object
) -> None:
    """Fine-tune a causal LM on samples written by `interactive-agents export`.

    The loss is on the counselor replies marked to learn (the last one of a per-turn
    sample); the model's own chat template renders each sample.
    """
    console = Console(stderr=True, quiet=quiet)
    with usage_errors():
        config = configuration(TrainConfig, click.get_current_context(), recipe)
        result = run_training(config.require_inputs(), resume=resume, progress=not quiet)
    summary = result.as_dict()
    if as_json:
        print_json(summary)
    else:
        console.print(summary_table("Training complete", summary))
