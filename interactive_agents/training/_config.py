"""One training run's settings, the paper's recipe as defaults (docs/method.md#training-recipe).

A recipe is a flat TOML table of these fields (``runners/train_*.toml``), built by the
one builder of every command's configuration (:func:`interactive_agents.build_config`
with ``kind=TrainConfig``); the CLI overrides single fields. Unknown keys and values of
the wrong type are refused with the file and field named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from interactive_agents._recipes import FieldError
from interactive_agents.errors import ConfigError

Method = Literal["full", "lora"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
METHODS: tuple[Method, ...] = ("full", "lora")
PRECISIONS: tuple[Precision, ...] = ("auto", "bf16", "fp16", "fp32")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Model, data, method and optimisation; defaults are the paper's full fine-tuning.

    ``model`` is a Hugging Face folder (or hub name) or a ``.gguf`` file, which is
    converted first. ``max_steps`` > 0 overrides ``epochs``. ``lora_target`` is peft's
    ``target_modules`` (``all-linear`` or module names).
    """

    model: str = ""
    train: str = ""
    validation: str | None = None
    out: str = ""
    method: Method = "full"
    learning_rate: float = 1e-5
    scheduler: str = "cosine"
    warmup_ratio: float = 0.1
    epochs: float = 2.0
    max_steps: int = -1
    batch_size: int = 1
    grad_accumulation: int = 2
    eval_batch_size: int = 1
    precision: Precision = "auto"
    max_length: int = 4096
    weight_decay: float = 0.0
    seed: int = 42
    logging_steps: int = 1
    save_steps: int = 500
    eval_steps: int = 500
    save_total_limit: int | None = 2
    gradient_checkpointing: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target: list[str] = field(default_factory=lambda: ["all-linear"])
    merge_lora: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.warmup_ratio < 1:
            raise FieldError("expected a ratio in [0, 1)", field="warmup_ratio")
        for name in ("batch_size", "grad_accumulation", "max_length", "logging_steps"):
            if getattr(self, name) < 1:
                raise FieldError("expected a positive integer", field=name)

    def require_inputs(self) -> TrainConfig:
        """Self, once the model, the training data and the output folder are given."""
        for name in ("model", "train", "out"):
            if not getattr(self, name):
                raise ConfigError(
                    f"required: pass --{name} or set {name} in the recipe", field=name
                )
        return self
