"""Every judge's answer reader on answers recorded from the four embedded models.

``tests/fixtures/judge_answers/answers.jsonl`` holds real answers to the prompts of the
topic rater, the WAI-O-S judge and the arena's pairwise judge, in Chinese and English,
recorded with ``scripts/record_judge_answers.py`` (including answers to the old topic
card whose example line the model copied), each with what a person reads in it:
``status`` (parsed, unparsable, refused) and ``value``. The readers must read the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from interactive_agents.arena._judge import READ_CHOICE, load_judge_prompt
from interactive_agents.evaluation._topics import load_topic_rater
from interactive_agents.evaluation._wai import READ_SCORE, load_wai_judge
from interactive_agents.judging._answers import AnswerRules, ValueReader, read_answer

from .support import FIXTURES

RECORDED = FIXTURES / "judge_answers" / "answers.jsonl"
ANSWERS: list[dict[str, Any]] = [
    json.loads(line) for line in RECORDED.read_text(encoding="utf-8").splitlines() if line.strip()
]


def _rules(record: dict[str, Any]) -> tuple[AnswerRules, ValueReader[Any]]:
    """The judge's answer rules, showing the example line this answer's prompt showed."""
    judge, language = record["judge"], record["language"]
    rules: AnswerRules
    reader: ValueReader[Any]
    if judge == "topics":
        rater = load_topic_rater(language)
        rules, reader = rater.answer, rater.reader()
    elif judge.startswith("wai-"):
        rules, reader = load_wai_judge(language).answer, READ_SCORE
    else:
        rules, reader = load_judge_prompt(language).answer, READ_CHOICE
    return replace(rules, example=record["example"]), reader


def _name(record: dict[str, Any]) -> str:
    parts = ("model", "language", "judge", "card", "seed", "attempt")
    return "-".join(str(record[part]) for part in parts)


@pytest.mark.parametrize("record", ANSWERS, ids=_name)
def test_each_recorded_answer_reads_as_a_person_reads_it(record: dict[str, Any]) -> None:
    rules, reader = _rules(record)
    reading = read_answer(record["answer"], rules, reader)
    expected = record["value"]
    assert (reading.status, reading.value) == (
        record["status"],
        tuple(expected) if isinstance(expected, list) else expected,
    ), record["note"]


def test_the_recordings_cover_every_model_language_and_judge() -> None:
    cells = {(r["model"], r["language"], r["judge"].split("-")[0]) for r in ANSWERS}
    models = {r["model"] for r in ANSWERS}
    assert len(models) == 4
    judges = ("topics", "wai", "pairwise")
    assert cells == {(m, lang, j) for m in models for lang in ("zh", "en") for j in judges}
    statuses = {r["status"] for r in ANSWERS}
    assert {"parsed", "unparsable"} <= statuses
    # The failures of the issue: an answer inline after the reasoning, copies of the
    # example line (the old card's "Topics: 12, 7", the current cards' placeholders) and
    # a refusal.
    old = [r for r in ANSWERS if r["card"] == "old"]
    assert any("12,7" in r["answer"].replace(" ", "") for r in old)
    assert any(r["example"] in r["answer"] for r in ANSWERS if r["card"] == "current")
    inline = re.compile(r"[a-z.)] (?:Topics|Final score|Final choice): ", re.IGNORECASE)
    assert any(r["status"] == "parsed" and inline.search(r["answer"]) for r in ANSWERS)
    assert "refused" in statuses
