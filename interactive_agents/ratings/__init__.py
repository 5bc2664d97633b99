"""Ratings of counselor bots from battles (the arena's or people's): online Elo and
Bradley-Terry with bootstrap intervals, the judge's position and length bias, the
length-controlled ratings, judge-human agreement, each bot's safety incident rates, and
the reports.
"""

from __future__ import annotations

from interactive_agents.ratings._agreement import AgreementReport, JudgeAgreement, agreement
from interactive_agents.ratings._judge_bias import (
    JudgedPair,
    LengthBias,
    PositionBias,
    cohen_kappa,
    judged_pairs,
    kappa_interval,
    length_bias,
    length_controlled_bt,
    position_bias,
)
from interactive_agents.ratings._reliability import BattleReliability, battle_reliability
from interactive_agents.ratings._reliability_report import (
    BIAS_HEADERS,
    LENGTH_CONTROL_HEADERS,
    bias_cells,
    length_coefficient_meaning,
    length_control_cells,
    reasons,
)
from interactive_agents.ratings._reports import (
    RATING_HEADERS,
    rating_cells,
    ratings_payload,
    safety_markdown,
    write_ratings_report,
)
from interactive_agents.ratings._safety_rates import (
    SAFETY_HEADERS,
    BotSafety,
    IncidentRate,
    safety_cells,
    safety_rates,
)
from interactive_agents.ratings._systems import (
    BTConfig,
    EloConfig,
    Matchups,
    RatingReport,
    bootstrap_bt,
    bootstrap_elo,
    bradley_terry,
    matchups,
    online_elo,
    rate,
)

__all__ = [
    "BIAS_HEADERS",
    "LENGTH_CONTROL_HEADERS",
    "RATING_HEADERS",
    "SAFETY_HEADERS",
    "AgreementReport",
    "BTConfig",
    "BattleReliability",
    "BotSafety",
    "EloConfig",
    "IncidentRate",
    "JudgeAgreement",
    "JudgedPair",
    "LengthBias",
    "Matchups",
    "PositionBias",
    "RatingReport",
    "agreement",
    "battle_reliability",
    "bias_cells",
    "bootstrap_bt",
    "bootstrap_elo",
    "bradley_terry",
    "cohen_kappa",
    "judged_pairs",
    "kappa_interval",
    "length_bias",
    "length_coefficient_meaning",
    "length_control_cells",
    "length_controlled_bt",
    "matchups",
    "online_elo",
    "position_bias",
    "rate",
    "rating_cells",
    "ratings_payload",
    "reasons",
    "safety_cells",
    "safety_markdown",
    "safety_rates",
    "write_ratings_report",
]
