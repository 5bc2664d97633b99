"""Full fine-tuning or LoRA of a causal LM on exported samples, with transformers' Trainer.

The output folder holds ``checkpoint-N/`` (resumable), ``log.jsonl`` and ``loss.png``,
``train_config.json``, and ``final/``: the fine-tuned model (or the LoRA adapter, whose
``adapter_config.json`` names its base) with the tokenizer; ``merged/`` when a LoRA run
asks for it. Runs on a laptop CPU as well as under ``accelerate launch`` with FSDP.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from interactive_agents.errors import ConfigError, InputError
from interactive_agents.training._config import TrainConfig
from interactive_agents.training._convert import cached_checkpoint
from interactive_agents.training._encoding import Collator, encode_all, read_conversations
from interactive_agents.training._logs import CURVE_FILE, LOG_FILE, JsonlLogger, plot_loss

FINAL = "final"
PEFT_DEPRECATION = "`is_gradient_checkpointing` is deprecated"
MERGED = "merged"


@dataclass(frozen=True, slots=True)
class TrainResult:
    """Where the run wrote its results and how it ended."""

    out: Path
    model: Path
    log: Path
    curve: Path
    global_step: int
    train_loss: float | None
    eval_loss: float | None
    train_samples: int
    val_samples: int
    too_long: int
    resumed_from: str | None

    def as_dict(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


def model_source(model: str) -> str:
    """A model folder or hub name as given; a ``.gguf`` file → its cached HF checkpoint."""
    if model.lower().endswith(".gguf"):
        return str(cached_checkpoint(model))
    return model


def mixed_precision(precision: str) -> str:
    """``auto`` → bf16 on GPUs that support it, fp16 on other GPUs, fp32 on the CPU."""
    import torch

    if precision != "auto":
        return precision
    if not torch.cuda.is_available():
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def optimizer_steps(samples: int, config: TrainConfig, world_size: int) -> int:
    """Optimizer steps of the whole run (for the warm-up, a ratio of them)."""
    if config.max_steps > 0:
        return config.max_steps
    batches = math.ceil(samples / (config.batch_size * world_size))
    per_epoch = max(math.ceil(batches / config.grad_accumulation), 1)
    return math.ceil(config.epochs * per_epoch)


def _last_checkpoint(out: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    if not out.is_dir():
        return None
    found: str | None = get_last_checkpoint(str(out))  # type: ignore[no-untyped-call]
    return found


def _lora(model: Any, config: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    targets: str | list[str] = config.lora_target
    if config.lora_target == ["all-linear"]:
        targets = "all-linear"
    settings = LoraConfig(
        task_type="CAUSAL_LM",
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
    )
    if config.gradient_checkpointing:
        model.enable_input_require_grads()
    with warnings.catch_warnings():  # peft still calls a name transformers 5 deprecated
        warnings.filterwarnings("ignore", PEFT_DEPRECATION, FutureWarning)
        return get_peft_model(model, settings)


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    callbacks: Sequence[Any] = (),
    progress: bool = True,
) -> TrainResult:
    """Train as ``config`` says; with ``resume``, continue from the last checkpoint."""
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        PrinterCallback,
        Trainer,
        TrainingArguments,
    )

    out = Path(config.out)
    last = _last_checkpoint(out)
    resumed_from = last if resume else None
    if last is not None and not resume:
        raise ConfigError(
            "holds checkpoints: pass --resume, or choose another --out", file=str(out)
        )
    source = model_source(config.model)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    train_set, too_long = encode_all(read_conversations(config.train), tokenizer, config.max_length)
    val_set: list[Any] = []
    if config.validation:
        val_set, skipped = encode_all(
            read_conversations(config.validation), tokenizer, config.max_length
        )
        too_long += skipped
    if not train_set:
        raise InputError(f"no sample fits max_length={config.max_length}", file=config.train)
    precision = mixed_precision(config.precision)
    model: Any = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    if config.gradient_checkpointing:  # on the model: the Trainer argument's name is changing
        model.gradient_checkpointing_enable()
    if config.method == "lora":
        model = _lora(model, config)
    arguments = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        gradient_accumulation_steps=config.grad_accumulation,
        learning_rate=config.learning_rate,
        lr_scheduler_type=config.scheduler,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        weight_decay=config.weight_decay,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        logging_steps=config.logging_steps,
        logging_first_step=True,
        eval_strategy="steps" if val_set else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        remove_unused_columns=False,
        prediction_loss_only=True,  # never gather logits (vocab × length per sample)
        dataloader_pin_memory=torch.cuda.is_available(),
        report_to="none",
        disable_tqdm=not progress,
    )
    arguments.warmup_steps = math.ceil(
        config.warmup_ratio * optimizer_steps(len(train_set), config, arguments.world_size)
    )
    out.mkdir(parents=True, exist_ok=True)
    log = out / LOG_FILE
    if resumed_from is None and arguments.process_index == 0:
        log.unlink(missing_ok=True)
        (out / "train_config.json").write_bytes(
            orjson.dumps(asdict(config), option=orjson.OPT_INDENT_2)
        )
    trainer = Trainer(
        model=model,
        args=arguments,
        data_collator=Collator(tokenizer.pad_token_id),
        train_dataset=[{"input_ids": e.input_ids, "labels": e.labels} for e in train_set],
        eval_dataset=[{"input_ids": e.input_ids, "labels": e.labels} for e in val_set] or None,
        processing_class=tokenizer,
        callbacks=[JsonlLogger(log), *callbacks],
    )
    if not progress:  # without a bar, transformers prints every log dict on stdout instead
        trainer.remove_callback(PrinterCallback)
    outcome = trainer.train(resume_from_checkpoint=resumed_from)
    eval_loss = trainer.evaluate()["eval_loss"] if val_set else None
    final = out / FINAL
    trainer.save_model(str(final))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(final)
    if config.method == "lora" and config.merge_lora and trainer.is_world_process_zero():
        merged = model.merge_and_unload()
        merged.save_pretrained(out / MERGED)
        tokenizer.save_pretrained(out / MERGED)
    curve = (
        plot_loss(log, out / CURVE_FILE) if trainer.is_world_process_zero() else out / CURVE_FILE
    )
    return TrainResult(
        out=out,
        model=final,
        log=log,
        curve=curve,
        global_step=trainer.state.global_step,
        train_loss=outcome.training_loss,
        eval_loss=eval_loss,
        train_samples=len(train_set),
        val_samples=len(val_set),
        too_long=too_long,
        resumed_from=resumed_from,
    )
