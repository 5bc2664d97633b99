"""Prompt cards are data: each language renders the whole card and the rules of docs/method.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from interactive_agents.errors import ConfigError
from interactive_agents.llm._messages import ChatMessage
from interactive_agents.method._cards import load_cards
from interactive_agents.method._prompts import clean_reply, load_prompts
from interactive_agents.method._records import Turn
from interactive_agents.runtime._roles import perspective

ROOT = Path(__file__).resolve().parents[1]

# One key phrase per rule of docs/method.md#client-rules and #counselor-rules, per language.
CLIENT_RULES = {
    "zh": [
        "口语化",
        "档案里的内容",
        "一点一点",
        "一到两句话",
        "不要跳出角色",
        "不要过早地道谢或说再见",
        "{max_turns}",
    ],
    "en": [
        "conversational",
        "Do not make up",
        "little by little",
        "one or two sentences",
        "never step out of the role",
        "say goodbye too early",
        "{max_turns}",
    ],
}
COUNSELOR_RULES = {
    "zh": [
        "小天",
        "女性",
        "以人为中心",
        "心理动力学",
        "认知行为",
        "不要自问自答",
        "前后矛盾",
        "规则",
        "一到两句话",
        "只谈心理咨询",
        "每次只问一个问题",
        "绝不主动结束",
        "前期",
        "中期",
        "后期",
        "不要做共情式的反映、复述或肯定",
        "制定具体可行的计划",
        "经验丰富的人类咨询师为榜样",
        "缓解来访者的症状",
        "社会功能",
        "始终保持小天这个角色",
        "自己判断当前处于哪个阶段",
    ],
    "en": [
        "Xiaotian",
        "female",
        "client-centred",
        "psychodynamic",
        "cognitive-behavioural",
        "Don't ask yourself questions",
        "contradict",
        "rules",
        "one or two",
        "only about",
        "one question at a time",
        "Never end the session",
        "Early stage",
        "Middle stage",
        "Late stage",
        "do not reflect feelings, restate or affirm",
        "concrete plan",
        "seasoned human counselors as your model",
        "easing their symptoms",
        "manage daily life",
        "Stay in character",
        "Judge which one the session has reached",
    ],
}
# Guideline 1's autonomy is qualified: the client decides, as long as no one is harmed.
JUDGE_AUTONOMY = {"zh": "在不伤害任何人的前提下", "en": "as long as that harms no one"}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_prompts_express_every_rule(language: str) -> None:
    client = (ROOT / "actors" / f"client.{language}.toml").read_text(encoding="utf-8")
    counselor = (ROOT / "actors" / f"counselor.{language}.toml").read_text(encoding="utf-8")
    for phrase in CLIENT_RULES[language]:
        assert phrase in client, phrase
    for phrase in COUNSELOR_RULES[language]:
        assert phrase in counselor, phrase
    judge = (ROOT / "actors" / f"judge_pairwise.{language}.toml").read_text(encoding="utf-8")
    assert JUDGE_AUTONOMY[language] in judge


@pytest.mark.parametrize(
    ("language", "rule"), [("zh", "你对咨询的抵触程度如档案所写"), ("en", "Show the resistance")]
)
def test_resistance_rule_is_an_option(fixtures: Path, language: str, rule: str) -> None:
    card = next(c for c in load_cards(fixtures / "role_cards").cards if c.id == "train_0")
    acting = load_prompts(language).client.system_message(card, 50).content
    plain = load_prompts(language, client_resistance=False).client.system_message(card, 50)
    assert rule in acting and acting.endswith(load_prompts(language).client.resistance_rule)
    assert rule not in plain.content and "{" not in plain.content
    assert (
        plain.content == acting.removesuffix(load_prompts(language).client.resistance_rule).strip()
    )


@pytest.mark.parametrize("language", ["zh", "en"])
def test_client_prompt_renders_every_card_element(fixtures: Path, language: str) -> None:
    prompts = load_prompts(language)
    card = next(c for c in load_cards(fixtures / "role_cards").cards if c.id == "train_0")
    text = prompts.client.system_message(card, 50).content
    assert "{" not in text and "50" in text
    for value in (
        "女性",
        "30岁",
        "大专学历",
        "幼师",
        "有稳定恋爱关系",
        "与父母关系较密切",
        "较高",
        "中等",
    ):
        assert value in text
    assert card.chief_complaint in text
    assert prompts.client.opening == {"zh": "你好", "en": "Hello"}[language]


def test_counselor_stage_cue_names_the_stage() -> None:
    prompts = load_prompts("en")
    cue = prompts.counselor.cue("middle", 17, 50)
    assert cue.role == "system" and "middle stage" in cue.content and "17" in cue.content


def test_each_role_sees_the_history_from_its_own_side() -> None:
    turns = [
        Turn("client", "Hello"),
        Turn("counselor", "Hi, what brings you?"),
        Turn("client", "Work."),
    ]
    system = ChatMessage("system", "S")
    client_view = perspective(system, turns[:2], "client")
    counselor_view = perspective(system, turns, "counselor")
    assert [m.role for m in client_view] == ["system", "assistant", "user"]
    assert [m.role for m in counselor_view] == ["system", "user", "assistant", "user"]


def test_clean_reply_drops_speaker_labels_and_quotes() -> None:
    assert clean_reply('  Counselor: "How are you?" ', ("Counselor:",)) == "How are you?"
    assert clean_reply("咨询师：你好", ("咨询师：",)) == "你好"


def test_unknown_language_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fr"):
        load_prompts("fr")
