"""The data and rules of a dialogue: cards, records, prompts, refiner, terminator, config.

Everything here is plain data and pure functions of it; nothing talks to a model or
runs a task. Every other layer builds on these types.
"""

from __future__ import annotations

from interactive_agents.llm._bots import (
    BOT_ENDPOINT_KEYS,
    BotEndpoint,
    bot_endpoints_toml,
    parse_bot_endpoint,
)
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import ChatMessage, Completion, Sampling, Usage
from interactive_agents.method._cards import BigFive, CardBatch, RoleCard, Trait, load_cards
from interactive_agents.method._config import (
    RefinerConfig,
    RoleConfig,
    RunConfig,
    StageConfig,
    TerminatorConfig,
    build_config,
    load_recipe,
)
from interactive_agents.method._prompts import (
    ClientPrompt,
    CounselorPrompt,
    PromptSet,
    load_prompts,
)
from interactive_agents.method._records import (
    DialogueRecord,
    ErrorInfo,
    FailureRecord,
    RefinerVerdict,
    Rejection,
    Termination,
    Timings,
    Turn,
)
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._seeds import derive_seed, fingerprint
from interactive_agents.method._terminator import TerminatorRules

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
