"""What every LLM judge shares: the judge-call runner and its answer cache, judge
cards (reading prompt cards, parsing answers), rubric fingerprints, and the safety
rubric (severities, categories, the safety judge's card).

A layer below the capabilities, so that the evaluation's judges (topics, WAI-O-S) and
the arena's pairwise judge read answers and fingerprint rubrics the same way.
"""

from __future__ import annotations

from interactive_agents.judging._config import JudgeConfig
from interactive_agents.judging._judgements import (
    DEFAULT_ROUNDS,
    DEFAULT_SAMPLING,
    JudgeCache,
    JudgeFailure,
    Judgement,
    JudgeProgress,
    JudgeRequest,
    JudgeSettings,
    judge_endpoint,
    open_judge,
    request_seed,
    run_judgements,
)
from interactive_agents.judging._rubrics import require_one_rubric, rubric_fingerprint
from interactive_agents.judging._safety_rubric import (
    SAFETY_CATEGORIES,
    SAFETY_REPLIES,
    SEVERITIES,
    SafetyCard,
    SafetyCategory,
    SafetyVerdict,
    Severity,
    load_safety_card,
    reply_fingerprint,
    severity_rank,
)

__all__ = [
    "DEFAULT_ROUNDS",
    "DEFAULT_SAMPLING",
    "SAFETY_CATEGORIES",
    "SAFETY_REPLIES",
    "SEVERITIES",
    "JudgeCache",
    "JudgeConfig",
    "JudgeFailure",
    "JudgeProgress",
    "JudgeRequest",
    "JudgeSettings",
    "Judgement",
    "SafetyCard",
    "SafetyCategory",
    "SafetyVerdict",
    "Severity",
    "judge_endpoint",
    "load_safety_card",
    "open_judge",
    "reply_fingerprint",
    "request_seed",
    "require_one_rubric",
    "rubric_fingerprint",
    "run_judgements",
    "severity_rank",
]
