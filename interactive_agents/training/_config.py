"""One training run's settings, the paper's recipe as defaults (docs/method.md#training-recipe).

A recipe is a flat TOML table of these fields (``runners/train_*.toml``); the CLI
overrides single fields. Unknown keys and values of the wrong type are refused with the
file and field named.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from interactive_agents._resources import read_toml
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

    def validate(self, source: str | None = None) -> TrainConfig:
        """Check what cannot be caught by types alone; returns self."""
        for name in ("model", "train", "out"):
            if not getattr(self, name):
                raise ConfigError("required", file=source, field=name)
        if self.method not in METHODS:
            raise ConfigError(f"expected one of {METHODS}", file=source, field="method")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"expected one of {PRECISIONS}", file=source, field="precision")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigError("expected a ratio in [0, 1)", file=source, field="warmup_ratio")
        for name in ("batch_size", "grad_accumulation", "max_length", "logging_steps"):
            if getattr(self, name) < 1:
                raise ConfigError("expected a positive integer", file=source, field=name)
        return self


_TYPES: dict[str, tuple[type, ...]] = {
    "float": (float, int),
    "int": (int,),
    "str": (str,),
    "bool": (bool,),
}


def _check_type(name: str, value: Any, annotation: str, source: str | None) -> None:
    """Accept ``value`` if it fits the field's annotation (as written in this module)."""
    if value is None and "None" in annotation:
        return
    if annotation.startswith("list"):
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    elif annotation in {"Method", "Precision"}:
        ok = isinstance(value, str)
    else:
        kinds = _TYPES[annotation.split(" | ")[0]]
        ok = isinstance(value, kinds) and isinstance(value, bool) == (kinds == (bool,))
    if not ok:
        raise ConfigError(f"expected {annotation}, got {value!r}", file=source, field=name)


def build_train_config(recipe: str | Path | None, overrides: dict[str, Any]) -> TrainConfig:
    """The recipe's settings (if any), then the non-None overrides, validated."""
    values: dict[str, Any] = {}
    source = str(recipe) if recipe is not None else None
    if recipe is not None:
        values = read_toml(recipe, "recipe")
    annotations = {f.name: str(f.type) for f in fields(TrainConfig)}
    for name, value in values.items():
        if name not in annotations:
            raise ConfigError(
                f"unknown setting (known: {', '.join(annotations)})", file=source, field=name
            )
        _check_type(name, value, annotations[name], source)
    config = replace(TrainConfig(), **values)
    given = {name: value for name, value in overrides.items() if value is not None}
    return replace(config, **given).validate(source)
