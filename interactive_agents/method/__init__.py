"""The data and rules of a dialogue: cards, records, prompts, refiner, terminator, config.

Everything here is plain data and pure functions of it; nothing talks to a model or
runs a task. Every other layer builds on these types.
"""

from __future__ import annotations

from interactive_agents.method.bot_endpoint import (
    BOT_ENDPOINT_KEYS,
    BotEndpoint,
    bot_endpoints_toml,
    parse_bot_endpoint,
)
from interactive_agents.method.cards import BigFive, CardBatch, RoleCard, Trait, load_cards
from interactive_agents.method.config import (
    EndpointConfig,
    RefinerConfig,
    RoleConfig,
    RunConfig,
    StageConfig,
    TerminatorConfig,
    build_config,
    load_recipe,
)
from interactive_agents.method.prompts import ClientPrompt, CounselorPrompt, PromptSet, load_prompts
from interactive_agents.method.records import (
    ChatMessage,
    Completion,
    DialogueRecord,
    ErrorInfo,
    FailureRecord,
    RefinerVerdict,
    Rejection,
    Sampling,
    Termination,
    Timings,
    Turn,
    Usage,
)
from interactive_agents.method.refiner import RefinerRules
from interactive_agents.method.seeds import derive_seed, fingerprint
from interactive_agents.method.terminator import TerminatorRules

__all__ = [
    "BOT_ENDPOINT_KEYS",
    "BigFive",
    "BotEndpoint",
    "CardBatch",
    "ChatMessage",
    "ClientPrompt",
    "Completion",
    "CounselorPrompt",
    "DialogueRecord",
    "EndpointConfig",
    "ErrorInfo",
    "FailureRecord",
    "PromptSet",
    "RefinerConfig",
    "RefinerRules",
    "RefinerVerdict",
    "Rejection",
    "RoleCard",
    "RoleConfig",
    "RunConfig",
    "Sampling",
    "StageConfig",
    "Termination",
    "TerminatorConfig",
    "TerminatorRules",
    "Timings",
    "Trait",
    "Turn",
    "Usage",
    "bot_endpoints_toml",
    "build_config",
    "derive_seed",
    "fingerprint",
    "load_cards",
    "load_prompts",
    "load_recipe",
    "parse_bot_endpoint",
]
