"""Training counselor bots on exported dialogues: full fine-tuning or LoRA (SPEC §9).

Needs the ``train`` extra (transformers, peft, torch). :mod:`.trainer` runs the
training, :mod:`.data` turns exported samples into labelled tokens, :mod:`.convert`
makes a GGUF model trainable, :mod:`.config` holds the recipe.
"""

from __future__ import annotations

from .config import TrainConfig, build_config
from .convert import cached_checkpoint, convert_gguf
from .data import Conversation, encode, parse_record, read_conversations
from .trainer import TrainResult, train

__all__ = [
    "Conversation",
    "TrainConfig",
    "TrainResult",
    "build_config",
    "cached_checkpoint",
    "convert_gguf",
    "encode",
    "parse_record",
    "read_conversations",
    "train",
]
