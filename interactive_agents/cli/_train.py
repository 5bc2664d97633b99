"""``interactive-agents train``: fine-tune a counselor bot on exported samples."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from interactive_agents._resources import resolve
from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._progress import print_json, summary_table
from interactive_agents.training._config import METHODS, PRECISIONS, build_train_config
from interactive_agents.training._trainer import train as run_training

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


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.option("--recipe", help="A TOML recipe: a path or a built-in name (train_7b_fsdp).")
@click.option("--model", help="Base model: a Hugging Face folder or hub name, or a .gguf file.")
@click.option("--train", "train_file", help="Exported training samples (JSON Lines).")
@click.option("--validation", help="Exported validation samples (JSON Lines).")
@click.option("--out", help="Output folder: checkpoints, logs, final model.")
@click.option("--method", type=click.Choice(METHODS), help="Full fine-tuning or LoRA.")
@click.option("--learning-rate", type=float, help="Peak learning rate (default 1e-5).")
@click.option("--epochs", type=float, help="Epochs (default 2).")
@click.option("--max-steps", type=int, help="Stop after N optimizer steps (overrides --epochs).")
@click.option("--batch-size", type=int, help="Per-device batch size (default 1).")
@click.option("--grad-accumulation", type=int, help="Gradient accumulation steps (default 2).")
@click.option("--max-length", type=int, help="Longest sample in tokens; longer ones are left out.")
@click.option("--precision", type=click.Choice(PRECISIONS), help="Mixed precision (default auto).")
@click.option("--save-steps", type=int, help="Checkpoint every N steps.")
@click.option("--eval-steps", type=int, help="Validation loss every N steps.")
@click.option("--seed", type=int, help="Training seed.")
@click.option("--lora-r", type=int, help="LoRA rank (default 16).")
@click.option("--merge-lora", is_flag=True, default=None, help="Also save the merged model.")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def train(**options: Any) -> None:
    """Fine-tune a causal LM on samples written by `interactive-agents export`.

    The loss is on the counselor replies marked to learn (the last one of a per-turn
    sample); the model's own chat template renders each sample.
    """
    console = Console(stderr=True, quiet=options["quiet"])
    overrides = {
        "model": options["model"],
        "train": options["train_file"],
        "validation": options["validation"],
        "out": options["out"],
        "method": options["method"],
        "learning_rate": options["learning_rate"],
        "epochs": options["epochs"],
        "max_steps": options["max_steps"],
        "batch_size": options["batch_size"],
        "grad_accumulation": options["grad_accumulation"],
        "max_length": options["max_length"],
        "precision": options["precision"],
        "save_steps": options["save_steps"],
        "eval_steps": options["eval_steps"],
        "seed": options["seed"],
        "lora_r": options["lora_r"],
        "merge_lora": options["merge_lora"],
    }
    with usage_errors():
        recipe = options["recipe"]
        path = resolve(recipe, "runners", (".toml",)) if recipe else None
        config = build_train_config(path, overrides)
        result = run_training(config, resume=options["resume"], progress=not options["quiet"])
    summary = result.as_dict()
    if options["as_json"]:
        print_json(summary)
    else:
        console.print(summary_table("Training complete", summary))
