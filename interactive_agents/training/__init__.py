"""Training counselor bots on exported dialogues: export to samples, full fine-tuning
or LoRA (docs/method.md#training-recipe).

:func:`train` needs the ``train`` extra (transformers, peft, torch) and is imported on
first use, so that :func:`export` runs on the core install.
"""

from __future__ import annotations

import typing

from interactive_agents.training._config import METHODS, PRECISIONS, TrainConfig
from interactive_agents.training._convert import cached_checkpoint, convert_gguf
from interactive_agents.training._encoding import (
    Conversation,
    encode,
    parse_record,
    read_conversations,
)
from interactive_agents.training._safety_filter import (
    SafetyCounts,
    SafetyRatings,
    load_safety_ratings,
)
from interactive_agents.training._samples import (
    FORMATS,
    ExportOptions,
    ExportSummary,
    export,
    read_sources,
    split_dialogues,
)

if typing.TYPE_CHECKING:
    from interactive_agents.training._trainer import TrainResult, train

__all__ = [
    "FORMATS",
    "METHODS",
    "PRECISIONS",
    "Conversation",
    "ExportOptions",
    "ExportSummary",
    "SafetyCounts",
    "SafetyRatings",
    "TrainConfig",
    "TrainResult",
    "cached_checkpoint",
    "convert_gguf",
    "encode",
    "export",
    "load_safety_ratings",
    "parse_record",
    "read_conversations",
    "read_sources",
    "split_dialogues",
    "train",
]


def __getattr__(name: str) -> typing.Any:
    """The names of the trainer, imported (with torch) only when asked for."""
    if name in ("TrainResult", "train"):
        from interactive_agents.training import _trainer

        return getattr(_trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
