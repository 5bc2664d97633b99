"""The arena (SPEC §10): counselor bots compete reply by reply, an LLM judge selects.

Algorithm 2 per dialogue (:mod:`.session`), the bots registry (:mod:`.bots`), the
pairwise judge (:mod:`.judge`), outcome and history rules (:mod:`.selection`), pairing
(:mod:`.pairing`), the run directory (:mod:`.store`) and the async API (:mod:`.runner`).
"""

from __future__ import annotations

from .bots import Bot, load_bots
from .judge import JudgePrompt, PairwiseJudge, load_judge_prompt
from .pairing import PAIRINGS, Pairing, plan_matches
from .records import ArenaDialogue, Candidate, Judgement, Selection
from .runner import Arena, ArenaSettings
from .selection import DISAGREEMENTS, UNDECIDED, Disagreement, Undecided
from .session import ArenaRules, Match, bot_candidate
from .store import BATTLES

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
    "Judgement",
    "Match",
    "Pairing",
    "PairwiseJudge",
    "Selection",
    "Undecided",
    "bot_candidate",
    "load_bots",
    "load_judge_prompt",
    "plan_matches",
]
