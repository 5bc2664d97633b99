"""Training counselor bots on exported dialogues: full fine-tuning or LoRA (SPEC §9).

Needs the ``train`` extra (transformers, peft, torch). :mod:`.trainer` runs the
training, :mod:`.encoding` turns exported samples into labelled tokens, :mod:`.convert`
makes a GGUF model trainable, :mod:`.train_config` holds the recipe; :mod:`.samples`
exports dialogues as training samples.
"""

from __future__ import annotations

from interactive_agents.training.convert import cached_checkpoint, convert_gguf
from interactive_agents.training.encoding import (
    Conversation,
    encode,
    parse_record,
    read_conversations,
)
from interactive_agents.training.train_config import TrainConfig, build_train_config
from interactive_agents.training.trainer import TrainResult, train

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
