"""interactive-agents: simulated counselor-client sessions between LLMs, at scale.

The root package holds what a simulation needs: the engine, its configuration and the
cards and records it reads and writes. Each capability has its own public package
(``llm``, ``method``, ``runtime``, ``corpora``, ``judging``, ``arena``, ``ratings``,
``evaluation``, ``training``, ``serving``, ``loadtest``, ``annotation``, ``testing``),
and the exceptions are in :mod:`interactive_agents.errors`. Every public name is
exported from exactly one of them (docs/api.md, docs/library.md); modules whose names start with an
underscore are private and may change at any time.
"""

from __future__ import annotations

from interactive_agents.method._cards import (
    BigFive,
    CardBatch,
    RoleCard,
    Trait,
    card_from_mapping,
    load_cards,
)
from interactive_agents.method._config import (
    ClientGuardConfig,
    PromptOptions,
    QualityConfig,
    RefinerConfig,
    RoleConfig,
    RunConfig,
    StageConfig,
    TerminatorConfig,
    build_config,
)
from interactive_agents.method._records import (
    DialogueRecord,
    FailureRecord,
    Rejection,
    RiskCue,
    Termination,
    Turn,
)
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime._engine import Engine, Result
from interactive_agents.runtime._runner import DialogueHandle, RunnerState

__all__ = [
    "BigFive",
    "CardBatch",
    "ClientGuardConfig",
    "DialogueHandle",
    "DialogueRecord",
    "Engine",
    "EngineStats",
    "FailureRecord",
    "PromptOptions",
    "QualityConfig",
    "RefinerConfig",
    "Rejection",
    "Result",
    "RiskCue",
    "RoleCard",
    "RoleConfig",
    "RunConfig",
    "RunnerState",
    "StageConfig",
    "Termination",
    "TerminatorConfig",
    "Trait",
    "Turn",
    "build_config",
    "card_from_mapping",
    "load_cards",
]
