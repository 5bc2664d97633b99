"""The arena (docs/method.md#arena-algorithm-2): bots compete reply by reply, a judge selects.

Algorithm 2 per dialogue (:mod:`.competition`), the bots registry (:mod:`.bots`), the
pairwise judge (:mod:`.judge`), outcome and history rules (:mod:`.selection`), pairing
(:mod:`.pairing`), the run directory (:mod:`.battle_store`), the async API
(:mod:`.arena_runner`); battle records (:mod:`.battles`), ratings (:mod:`.ratings`,
:mod:`.rating_plots`) and judge-human agreement (:mod:`.agreement`).
"""

from __future__ import annotations

from interactive_agents.arena._arena import Arena, ArenaSettings
from interactive_agents.arena._bots import Bot, load_bots
from interactive_agents.arena._competition import ArenaRules, Match, bot_candidate
from interactive_agents.arena._judge import JudgePrompt, PairwiseJudge, load_judge_prompt
from interactive_agents.arena._pairing import PAIRINGS, Pairing, plan_matches
from interactive_agents.arena._records import ArenaDialogue, Candidate, PairwiseJudgement, Selection
from interactive_agents.arena._selection import DISAGREEMENTS, UNDECIDED, Disagreement, Undecided
from interactive_agents.arena._store import BATTLES

__all__ = [
    "BATTLES",
    "DISAGREEMENTS",
    "PAIRINGS",
    "UNDECIDED",
    "Arena",
    "ArenaDialogue",
    "ArenaRules",
    "ArenaSettings",
    "Bot",
    "Candidate",
    "Disagreement",
    "JudgePrompt",
    "Match",
    "Pairing",
    "PairwiseJudge",
    "PairwiseJudgement",
    "Selection",
    "Undecided",
    "bot_candidate",
    "load_bots",
    "load_judge_prompt",
    "plan_matches",
]
