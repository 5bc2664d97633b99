"""The arena (docs/method.md#arena-algorithm-2): counselor bots answer the same client turn
by turn, an LLM judge picks the better reply, which becomes the shared history.

The async API (:class:`Arena`), the bots, the pairwise judge, the safety judge and gate,
the outcome and history rules, pairing, the run directory, and the battle records it
writes (read by :mod:`interactive_agents.ratings`).
"""

from __future__ import annotations

from interactive_agents.arena._battles import (
    Battle,
    BattleBatch,
    ShownOrder,
    Winner,
    battle_rubrics,
    judge_answers,
    read_battles,
    write_battles,
)
from interactive_agents.arena._bots import Bot, load_bots
from interactive_agents.arena._competition import ArenaRules, Match
from interactive_agents.arena._config import ArenaConfig, ArenaSafetyConfig, BotSampling
from interactive_agents.arena._inputs import ArenaInputs, arena_inputs
from interactive_agents.arena._judge import JudgePrompt, PairwiseJudge, load_judge_prompt
from interactive_agents.arena._pairing import PAIRINGS, Pairing, plan_matches
from interactive_agents.arena._records import ArenaDialogue, Candidate, PairwiseJudgement, Selection
from interactive_agents.arena._runner import Arena
from interactive_agents.arena._safety_gate import ReplySafety, SafetyJudge, gated_winner
from interactive_agents.arena._selection import DISAGREEMENTS, UNDECIDED, Disagreement, Undecided
from interactive_agents.arena._store import BATTLES, ArenaStore

__all__ = [
    "BATTLES",
    "DISAGREEMENTS",
    "PAIRINGS",
    "UNDECIDED",
    "Arena",
    "ArenaConfig",
    "ArenaDialogue",
    "ArenaInputs",
    "ArenaRules",
    "ArenaSafetyConfig",
    "ArenaStore",
    "Battle",
    "BattleBatch",
    "Bot",
    "BotSampling",
    "Candidate",
    "Disagreement",
    "JudgePrompt",
    "Match",
    "Pairing",
    "PairwiseJudge",
    "PairwiseJudgement",
    "ReplySafety",
    "SafetyJudge",
    "Selection",
    "ShownOrder",
    "Undecided",
    "Winner",
    "arena_inputs",
    "battle_rubrics",
    "gated_winner",
    "judge_answers",
    "load_bots",
    "load_judge_prompt",
    "plan_matches",
    "read_battles",
    "write_battles",
]
