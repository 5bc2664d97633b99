"""What every LLM judge shares: reading its answers, the judge-call runner and its
answer cache, judge cards, rubric fingerprints, and the safety rubric (severities,
categories, the safety judge's card).

A layer below the capabilities, so that the evaluation's judges (topics, WAI-O-S), the
arena's pairwise judge and any judge added later read answers (:func:`read_answer`, the
contract in ``interactive_agents/judging/_answers.py``), count what they could not read,
and fingerprint rubrics the same way.
"""

from __future__ import annotations

from interactive_agents.judging._answers import (
    AnswerReading,
    AnswerRules,
    AnswerStatus,
    ValueReader,
    choice_reader,
    load_answer_rules,
    numbers_reader,
    read_answer,
    refusal_phrases,
    score_reader,
)
from interactive_agents.judging._config import DEFAULT_MAX_UNPARSABLE, JudgeConfig
from interactive_agents.judging._judgements import (
    DEFAULT_ROUNDS,
    DEFAULT_SAMPLING,
    JudgeCache,
    JudgeFailure,
    Judgement,
    JudgementStatus,
    JudgeProgress,
    JudgeRequest,
    JudgeSettings,
    UnreadCounts,
    judge_endpoint,
    open_judge,
    request_seed,
    run_judgements,
    unread_counts,
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
    "DEFAULT_MAX_UNPARSABLE",
    "DEFAULT_ROUNDS",
    "DEFAULT_SAMPLING",
    "SAFETY_CATEGORIES",
    "SAFETY_REPLIES",
    "SEVERITIES",
    "AnswerReading",
    "AnswerRules",
    "AnswerStatus",
    "JudgeCache",
    "JudgeConfig",
    "JudgeFailure",
    "JudgeProgress",
    "JudgeRequest",
    "JudgeSettings",
    "Judgement",
    "JudgementStatus",
    "SafetyCard",
    "SafetyCategory",
    "SafetyVerdict",
    "Severity",
    "UnreadCounts",
    "ValueReader",
    "choice_reader",
    "judge_endpoint",
    "load_answer_rules",
    "load_safety_card",
    "numbers_reader",
    "open_judge",
    "read_answer",
    "refusal_phrases",
    "reply_fingerprint",
    "request_seed",
    "require_one_rubric",
    "rubric_fingerprint",
    "run_judgements",
    "score_reader",
    "severity_rank",
    "unread_counts",
]
