"""The refiner's acceptance rules and repair, and the terminator's phrase matching."""

from __future__ import annotations

import pytest

from interactive_agents.method.prompts import load_prompts
from interactive_agents.method.refiner import RefinerRules, enumeration
from interactive_agents.method.terminator import TerminatorRules


@pytest.mark.parametrize(
    "text",
    [
        "1. 先休息 2. 再运动",
        "你可以试试：1）深呼吸；2）散步",
        "我有两个建议：一、多休息；二、多运动。",
        "可以这样做①深呼吸②散步",
        "1. Breathe slowly.",
        "Try this: (1) breathe, (2) walk.",
    ],
)
def test_enumerations_are_rejected(text: str) -> None:
    assert enumeration(text) is not None
    verdict = RefinerRules.for_language("zh").check(text)
    assert not verdict.accepted and "enumerat" in verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "第一次见面是什么感觉？",
        "你每天睡 7.5 个小时吗？",
        "It was 2 years ago, in 2019.",
        "一个人的时候呢？",
    ],
)
def test_ordinary_numbers_are_not_enumerations(text: str) -> None:
    assert RefinerRules.for_language("zh").check(text).accepted


def test_length_limits_per_language() -> None:
    zh = RefinerRules.for_language("zh")
    assert (zh.max_length, zh.unit) == (200, "chars")
    assert zh.check("好" * 200).accepted
    assert zh.check("好" * 201).reason == "too long (201 > 200 chars)"
    en = RefinerRules.for_language("en")
    assert (en.max_length, en.unit) == (120, "words")
    assert en.check(" ".join(["word"] * 120)).accepted
    assert not en.check(" ".join(["word"] * 121)).accepted
    assert RefinerRules.for_language("en", 5, "chars").check("abcdef").reason.startswith("too long")


def test_line_breaks_and_empty_replies_are_rejected() -> None:
    rules = RefinerRules.for_language("en")
    assert rules.check("I hear you.\nWhat next?").reason == "contains a line break"
    assert rules.check("   ").reason == "empty"


def test_repair_makes_a_reply_acceptable() -> None:
    zh = RefinerRules.for_language("zh", max_length=13)
    repaired = zh.repair("我理解。\n1. 先休息 2. 再运动。这样会好一些吗？")
    assert zh.check(repaired).accepted
    assert repaired == "我理解。 先休息 再运动。"
    assert RefinerRules.for_language("zh", max_length=12).repair(repaired) == "我理解。"
    en = RefinerRules.for_language("en", max_length=5)
    assert en.repair("I hear you. That sounds hard to carry alone. What next?") == "I hear you."


def test_paper_phrases_end_the_session_by_substring() -> None:
    zh = TerminatorRules(load_prompts("zh").terminator_phrases)
    assert zh.check("今天就到这里，再见！") is not None
    ending = zh.check("下一次你可以试着记录一下情绪。")
    assert ending is not None and ending.phrase == "下一次"
    assert zh.check("你愿意多说一点吗？") is None
    en = TerminatorRules(load_prompts("en").terminator_phrases)
    found = en.check("Thank you for sharing today. TAKE CARE of yourself.")
    assert found is not None and found.reason == "phrase" and found.phrase == "Take care"


def test_closing_mode_ignores_phrases_before_the_last_statement() -> None:
    rules = TerminatorRules(load_prompts("zh").terminator_phrases, mode="closing")
    assert rules.check("下一次遇到这种情况，你会怎么做？") is None
    assert rules.check("下一次你可以试着记录一下情绪。你现在感觉怎么样？") is None
    ending = rules.check("今天我们聊了很多。下次见，保重。")
    assert ending is not None and ending.phrase in {"保重", "下次见"}
