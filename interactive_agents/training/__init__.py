"""Training counselor bots on exported dialogues, full or LoRA (docs/method.md#training-recipe).

:mod:`.trainer` runs the training; it needs the ``train`` extra (transformers, peft,
torch) and is imported on first use of :func:`train` or :class:`TrainResult`, so that
``export`` (:mod:`.samples`) runs on the core install. :mod:`.encoding` turns exported
samples into labelled tokens, :mod:`.convert` makes a GGUF model trainable,
:mod:`.train_config` holds the recipe; :mod:`.samples` exports dialogues as samples.
"""

from __future__ import annotations

import typing

from interactive_agents.training._config import TrainConfig, build_train_config
from interactive_agents.training._convert import cached_checkpoint, convert_gguf
from interactive_agents.training._encoding import (
    Conversation,
    encode,
    parse_record,
    read_conversations,
)

if typing.TYPE_CHECKING:
    from interactive_agents.training._trainer import TrainResult, train

__all__ = [
    "Conversation",
    "TrainConfig",
    "TrainResult",
    "build_train_config",
    "cached_checkpoint",
    "convert_gguf",
    "encode",
    "parse_record",
    "read_conversations",
    "train",
]


def __getattr__(name: str) -> typing.Any:
    """The names of :mod:`.trainer`, imported (with torch) only when asked for."""
    if name in ("TrainResult", "train"):
        from interactive_agents.training import _trainer as trainer

        return getattr(trainer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
