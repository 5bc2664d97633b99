"""Ratings of counselor bots from battles (the arena's or people's): online Elo and
Bradley-Terry with bootstrap intervals, the judge's position and length bias, the
length-controlled ratings, each bot's safety incident rates, and the reports; and the
calibration of judges against people (``agreement``): people's ratings of sessions,
agreement among people and between a judge and people, per rubric item.
"""

from __future__ import annotations

from interactive_agents.ratings._agreement import battle_ratings, wilson_interval
from interactive_agents.ratings._agreement_config import TENTATIVE_ALPHA, AgreementConfig
from interactive_agents.ratings._agreement_run import AgreementRun, agreement_from_files
from interactive_agents.ratings._calibration import (
    Agreement,
    Calibration,
    JudgeCalibration,
    JudgeItem,
    Offset,
    PeopleItem,
    calibrate,
)
from interactive_agents.ratings._calibration_report import (
    JUDGE_HEADERS,
    PEOPLE_HEADERS,
    calibration_payload,
    judge_cells,
    people_cells,
    verdict,
    write_calibration_report,
)
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
from interactive_agents.ratings._judge_results import JudgeResults, read_judge_results
from interactive_agents.ratings._rating_records import Rating, read_ratings, write_ratings
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
    "JUDGE_HEADERS",
    "LENGTH_CONTROL_HEADERS",
    "PEOPLE_HEADERS",
    "RATING_HEADERS",
    "SAFETY_HEADERS",
    "TENTATIVE_ALPHA",
    "Agreement",
    "AgreementConfig",
    "AgreementRun",
    "BTConfig",
    "BattleReliability",
    "BotSafety",
    "Calibration",
    "EloConfig",
    "IncidentRate",
    "JudgeCalibration",
    "JudgeItem",
    "JudgeResults",
    "JudgedPair",
    "LengthBias",
    "Matchups",
    "Offset",
    "PeopleItem",
    "PositionBias",
    "Rating",
    "RatingReport",
    "agreement_from_files",
    "battle_ratings",
    "battle_reliability",
    "bias_cells",
    "bootstrap_bt",
    "bootstrap_elo",
    "bradley_terry",
    "calibrate",
    "calibration_payload",
    "cohen_kappa",
    "judge_cells",
    "judged_pairs",
    "kappa_interval",
    "length_bias",
    "length_coefficient_meaning",
    "length_control_cells",
    "length_controlled_bt",
    "matchups",
    "online_elo",
    "people_cells",
    "position_bias",
    "rate",
    "rating_cells",
    "ratings_payload",
    "read_judge_results",
    "read_ratings",
    "reasons",
    "safety_cells",
    "safety_markdown",
    "safety_rates",
    "verdict",
    "wilson_interval",
    "write_calibration_report",
    "write_ratings",
    "write_ratings_report",
]
