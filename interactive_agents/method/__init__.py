"""The data and rules of a dialogue: prompt cards, the refiner and the terminator,
seeds and fingerprints, quality flags and the client guard, card text, and the risk
detector.

Plain data and pure functions of it: nothing here talks to a model or runs a task. The
run's configuration, the cards and the records are public in the root package.
"""

from __future__ import annotations

from interactive_agents.method._card_text import card_text
from interactive_agents.method._client_guard import ClientGuard
from interactive_agents.method._prompts import (
    ClientPrompt,
    CounselorPrompt,
    PromptSet,
    load_prompts,
)
from interactive_agents.method._quality import (
    FLAG_NAMES,
    Flagger,
    QualityRules,
    QualityThresholds,
    load_quality_rules,
)
from interactive_agents.method._records import ErrorInfo, RefinerVerdict, Role, Stage, Timings
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._risk import (
    RISK_CATEGORIES,
    RiskDetector,
    card_risk,
    cards_at_risk,
    load_risk_detector,
)
from interactive_agents.method._seeds import derive_seed, fingerprint
from interactive_agents.method._terminator import (
    DEFAULT_TERMINATOR_MODE,
    TERMINATOR_MODES,
    TerminatorMode,
    TerminatorRules,
)

__all__ = [
    "DEFAULT_TERMINATOR_MODE",
    "FLAG_NAMES",
    "RISK_CATEGORIES",
    "TERMINATOR_MODES",
    "ClientGuard",
    "ClientPrompt",
    "CounselorPrompt",
    "ErrorInfo",
    "Flagger",
    "PromptSet",
    "QualityRules",
    "QualityThresholds",
    "RefinerRules",
    "RefinerVerdict",
    "RiskDetector",
    "Role",
    "Stage",
    "TerminatorMode",
    "TerminatorRules",
    "Timings",
    "card_risk",
    "card_text",
    "cards_at_risk",
    "derive_seed",
    "fingerprint",
    "load_prompts",
    "load_quality_rules",
    "load_risk_detector",
]
