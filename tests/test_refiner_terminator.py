"""The refiner's acceptance rules and repair, and the terminator's phrase matching."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from interactive_agents._resources import bundled_dir
from interactive_agents.errors import ConfigError
from interactive_agents.method._config import TerminatorConfig
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._refiner import RefinerRules, enumeration
from interactive_agents.method._terminator import TerminatorRules

# Replies the refiner must refuse: an enumeration of two or more items, whatever
# marks them, or a line break of any kind.
ENUMERATIONS_AND_LINE_BREAKS = [
    # Arabic, every separator
    "1. 先休息 2. 再运动",
    "你可以试试：1）深呼吸；2）散步",
    "建议你：1，先把作息调整好；2，每天出去走走。",
    "你可以这样试试，1，每天记录情绪，2，睡前放下手机。",
    "可以先做两件事:1,写下让你担心的事,2,给它们排个序。",
    "我们可以从几个方面看：1、工作压力；2、家庭关系。",
    "你可以1、先深呼吸，2、再慢慢数到十。",
    "有两点想和你确认（1）你最近睡得怎么样（2）白天有没有精神？",
    "有两点想和你确认：（1）睡眠 （2）饮食，你觉得哪个更困扰你？",
    "先说说（1）工作上的事，再说说（2）家里的事好吗？",
    "可以尝试 (1) 放松训练 (2) 规律作息。",
    "１．多休息　２．多喝水",
    "【1】先休息【2】再运动",
    "第1点是休息，第2点是运动。",
    "1：先接纳情绪；2：再找原因。",
    # Chinese numerals and ordinal words
    "我有两个建议：一、多休息；二、多运动。",
    "第一，你要先照顾好自己；第二，试着和家人谈谈。",
    "第一、先把情绪稳定下来，第二、再看看具体怎么做。",
    "我觉得一是工作压力大，二是和家人沟通少，你怎么看？",
    "你提到的困扰，一来是睡不好，二来是吃不下，对吗？",
    "第一点，先规律作息；第二点，适当运动。",
    "第一步先深呼吸，第二步再慢慢说出你的感受。",
    "（一）情绪的来源（二）应对的方式，我们先聊哪个？",
    "首先，我们可以看看你的睡眠；其次，再聊聊你的工作。",
    "一，先睡够觉；二，别给自己太大压力。",
    # circled, Roman, letters, bullets
    "可以这样做①深呼吸②散步",
    "你可以考虑⑴休息⑵运动",
    "Ⅰ. 情绪 Ⅱ. 认知，你想从哪里开始？",
    "有几个方向：a) 工作，b) 家庭，你想先谈哪个？",
    "• 多休息 • 多运动",
    "- 多休息。- 多运动。",
    # line breaks of every kind
    "我明白。\n你想多说一点吗？",
    "我明白。\r你想多说一点吗？",
    "我明白。\u2028你想多说一点吗？",
    "我明白。\u2029你想多说一点吗？",
    "我明白。\u0085你想多说一点吗？",
    "我明白。\v你想多说一点吗？",
    "我明白。\f你想多说一点吗？",
    "我明白。\r\n你想多说一点吗？",
    "我明白。\x1e你想多说一点吗？",
    # English
    "1. Breathe slowly.",
    "Try this: (1) breathe, (2) walk.",
    "Two things might help: 1, rest more, 2, talk to a friend.",
    "Two things might help: 1) rest more 2) talk to a friend.",
    "First, let's look at your sleep; second, your work.",
    "Firstly, you deserve rest. Secondly, you can ask for help.",
    "First of all, breathe. Second, notice what you feel.",
    "There are a few options: a) take a walk, b) call a friend.",
    "Consider (a) resting and (b) talking to someone.",
    "Think about: i. your sleep ii. your meals.",
    "Think about (i) your sleep and (ii) your meals.",
    "• Rest more • Walk daily",
    "Here are ideas: - rest more. - walk daily.",
    "* Rest more. * Walk daily.",
    "I hear you.\nWhat happened next?",
    "I hear you.\u2028What happened next?",
    "One, you rest. Two, you walk.",
    "Step 1: breathe. Step 2: count to ten.",
    # letters with periods or brackets inside one line
    "A. 保持规律作息 B. 每天适当运动",
    "你可以试试 A. 深呼吸 B. 散步，哪个更适合你？",
    "建议如下：A.早点睡觉；B.少喝咖啡。",
    "A、保持规律作息 B、每天适当运动",
    "A．保持规律作息　B．每天适当运动",
    "(a) 写日记 (b) 和朋友聊天",
    "a. 多休息 b. 多运动，你觉得哪个容易做到？",
    "【A】倾诉 【B】运动",
    "（A）调整作息（B）寻求支持",
    "You could: A. take a short walk B. call a friend tonight.",
    "Options: a. journaling, b. talking to someone.",
    "Try A. breathing slowly B. counting to ten.",
    "[a] rest [b] walk",
    "Some ideas (a) rest more (b) see a friend (c) write it down.",
]
# Ordinary replies that mention numbers, ordinals or dashes: all accepted.
ORDINARY_REPLIES = [
    "第一次见面是什么感觉？",
    "你每天睡 7.5 个小时吗？",
    "一个人的时候呢？",
    "你说这件事是3年前开始的，那时发生了什么？",
    "如果用1到10分来打分，你现在的焦虑有几分？",
    "你最近每天大概睡3.5 小时，白天会很困吗？",
    "第一次出现这种感觉是在什么时候？",
    "你第一次和妈妈吵架，和第二次有什么不同吗？",
    "你今年25岁，工作两年了，对吗？",
    "听起来这两三年你一直很辛苦。",
    "你说每周有1、2次会失眠，是吗？",
    "2019年的那次搬家，对你影响大吗？",
    "一方面你想辞职，另一方面又担心收入，是这样吗？",
    "你刚才说一是一，二是二，你觉得自己是个很较真的人吗？",
    "首先想说，你愿意来聊聊已经很不容易了。",
    "你提到100%的精力都给了工作，那留给自己的呢？",
    "你说凌晨2:30还睡不着，那时你在想什么？",
    "万一是你误会了呢，你会怎么想？",
    "这件事让你唯一担心的是什么？",
    "你一来到公司就觉得紧张，是吗？",
    "你和他认识有10年了吧？",
    "那段时间你大概瘦了5公斤，对吗？",
    "列夫·托尔斯泰的书对你有什么意义？",
    "当你说“不想活了”的时候，是一闪而过的念头吗？",
    "你觉得这个问题可以分成几个部分来看吗？",
    "在1，000个人里面，你觉得自己是特别的吗？",
    "你上次说的第二个原因，我们可以聊聊吗？",
    "嗯，我在听，你慢慢说。",
    "你一直不是第一就是第二，总没考过别人，那时你是什么感受？",
    "他考了第一，你考了第二，这让你怎么想？",
    # English
    "It was 2 years ago, in 2019.",
    "On a scale from 1 to 10, how anxious do you feel right now?",
    "You said it started 3 years ago; what was happening then?",
    "You sleep about 3.5 hours a night?",
    "Is this the first time you have felt this way?",
    "What was it like the first time, and the second time?",
    "There are one or two things I would like to understand better.",
    "At first, you felt relieved; what changed later?",
    "You mentioned Plan A. What would Plan B look like for you?",
    "So do I. Then what happened?",
    "You were 25 when you moved, right?",
    "It sounds like 2 or 3 nights a week are hard.",
    "You said it was about 1,000 dollars; how did that feel?",
    "You woke at 2:30 again?",
    "I wonder - and tell me if I'm wrong - whether you feel alone.",
    "First things first: how are you feeling today?",
    "You said 100% of your energy goes to work.",
    "What would it mean to put yourself first, for once?",
    "Vitamin C, exercise and sleep all matter; which feels hardest?",
    "Which matters more to you: work or family?",
    # single letters that are not markers
    "维生素A、维生素B都很重要，你平时吃得怎么样？",
    "I got an A. Then everything changed, and I got a B. Why does that matter so much?",
    "If plan A fails, is there a plan B? What would it be?",
    "你说你是A型血，B型血的人你觉得性格不同吗？",
    "他说你考了个A，你自己觉得呢？",
    "You said the test had parts A and B. Which one worried you?",
    "A. 先不用急着做决定，我们慢慢来。",
    "Grade A. Grade B. Those labels seem to matter a lot to you.",
    "Your kids, A.J. and B.J., seem important to you.",
    "你觉得是A方案好，还是B方案好？",
    "Between option A and option B, which feels safer?",
    "你在B站上看到了什么让你难过的内容？",
]


@pytest.mark.parametrize("text", ENUMERATIONS_AND_LINE_BREAKS)
def test_enumerations_and_line_breaks_are_rejected(text: str) -> None:
    verdict = RefinerRules.for_language("zh", 400).check(text)
    assert not verdict.accepted
    assert verdict.reason == "contains a line break" or "enumerat" in verdict.reason


@pytest.mark.parametrize("text", ORDINARY_REPLIES)
def test_ordinary_replies_with_numbers_are_accepted(text: str) -> None:
    assert enumeration(text) is None
    assert RefinerRules.for_language("zh", 400).check(text).accepted


def test_enumeration_names_the_kind_of_marker() -> None:
    assert enumeration("第一，先休息；第二，多运动。") == "Chinese ordinal items"
    assert enumeration("1，先休息；2，多运动。") == "numbered items"
    assert enumeration("First, rest. Second, walk.") == "ordinal words"
    assert enumeration("a) rest b) walk") == "lettered items"
    assert enumeration("(i) rest (ii) walk") == "Roman numerals"
    assert enumeration("• rest • walk") == "bullets"
    assert enumeration("①休息") == "circled numbers"


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


def test_han_unit_counts_only_chinese_characters() -> None:
    """The paper's "200 Chinese characters": punctuation, digits and Latin letters are free."""
    han = RefinerRules.for_language("zh", 200, "han")
    reply = "好，" * 200 + "OK 123"
    assert han.length(reply) == 200 and han.check(reply).accepted
    assert han.check("好" * 201).reason == "too long (201 > 200 han)"
    assert RefinerRules.for_language("zh").check(reply).reason == "too long (406 > 200 chars)"
    assert han.repair("我理解你。" * 50) == "我理解你。" * 50
    cut = RefinerRules.for_language("zh", 9, "han").repair("我理解你。你愿意多说一点吗？")
    assert cut == "我理解你。"


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
    lettered = RefinerRules.for_language("zh").repair("A. 保持规律作息 B. 每天适当运动")
    assert lettered == "保持规律作息 每天适当运动"


def test_paper_phrases_end_the_session_by_substring() -> None:
    zh = TerminatorRules(load_prompts("zh").terminator_phrases, mode="substring")
    assert zh.check("今天就到这里，再见！") is not None
    ending = zh.check("下一次你可以试着记录一下情绪。")
    assert ending is not None and ending.phrase == "下一次"
    assert zh.check("你愿意多说一点吗？") is None
    en = TerminatorRules(load_prompts("en").terminator_phrases, mode="substring")
    found = en.check("Thank you for sharing today. TAKE CARE of yourself.")
    assert found is not None and found.reason == "phrase" and found.phrase == "Take care"


def test_closing_mode_ignores_phrases_before_the_last_statement() -> None:
    rules = TerminatorRules(load_prompts("zh").terminator_phrases, mode="closing")
    assert rules.check("下一次遇到这种情况，你会怎么做？") is None
    assert rules.check("下一次你可以试着记录一下情绪。你现在感觉怎么样？") is None
    ending = rules.check("今天我们聊了很多。下次见，保重。")
    assert ending is not None and ending.phrase in {"保重", "下次见"}


# Replies of the default terminator: (reply, ends the session?). A closing phrase ends
# the session only when said as a farewell; in passing, it does not.
FAREWELL_CASES = [
    ("Thank you for sharing today. TAKE CARE of yourself.", True),
    ("Thank you for sharing. Take care!", True),
    ("Please take care.", True),
    ("Take care. I'm here whenever you need me.", True),
    ("Take care of yourself, and remember you can always reach out.", True),
    ("Good luck with everything, and see you next time.", True),
    ("Take care of yourself. How have you been sleeping this week?", False),
    ("It's important to take care of yourself, and I'd like to hear more about your week.", False),
    ("Next time you feel anxious, try to breathe slowly.", False),
    ("I hear you. Keep it up and let me know how it goes?", False),
    ("今天就到这里，再见！", True),
    ("加油，相信你一定可以做到的。", True),
    ("期待你下次再来。", True),
    ("希望你一切顺利。", True),
    ("今天我们聊了很多。下次见，保重。", True),
    ("下一次你可以试着记录一下情绪。", False),
    ("下一次遇到这种情况，你会怎么做？", False),
    ("祝你好运，你觉得呢？", False),
    ("下一次你可以试着记录一下情绪。你现在感觉怎么样？", False),
]


@pytest.mark.parametrize(("reply", "ends"), FAREWELL_CASES)
def test_the_default_ends_on_a_farewell_not_on_a_phrase_in_passing(reply: str, ends: bool) -> None:
    language = "zh" if any("\u4e00" <= c <= "\u9fff" for c in reply) else "en"
    rules = TerminatorRules(load_prompts(language).terminator_phrases)
    assert rules.mode == "farewell"
    assert (rules.check(reply) is not None) is ends


# Counselor replies of qwen2.5-coder-1.5b-instruct recorded in tests/fixtures/quality_labels
# (round 3, fresh_*.jsonl): the answers to a thanks with which it closes a session, and the
# same answer going on (a question, "let's").
SIGN_OFF_CASES = [
    # r3-quick6-en/demo-en-02, turn 9
    (
        "You're welcome! I'm glad I could help. Remember, it's important to take care of "
        "yourself and seek support when you need it. Good luck with your project!",
        True,
    ),
    # r3-quick6-en/demo-en-04, turn 11
    (
        "You're welcome! If you have any other questions or concerns, feel free to ask. "
        "I'm here to help.",
        True,
    ),
    # r3-quick6-zh-b/zh_test60-00005, turn 7
    ("不客气，有其他问题随时可以问我。", True),
    # r3-quick6-en-crisis-b/crisis-en-09, turn 7
    ("You're welcome! I'm here to help. Let's talk about it.", False),
    # r3-quick6-en/demo-en-06, turn 7
    (
        "You're welcome! It's important to talk about your feelings, and it's okay to have "
        "them. I'm here to listen and support you. How can I help you today?",
        False,
    ),
    ("Take care. Let's talk about your sleep next week.", False),
    ("不客气，让我们继续聊聊你的工作。", False),
]


@pytest.mark.parametrize(("reply", "ends"), SIGN_OFF_CASES)
def test_the_default_ends_on_a_sign_off_that_answers_a_thanks(reply: str, ends: bool) -> None:
    prompts = load_prompts("zh" if any("\u4e00" <= c <= "\u9fff" for c in reply) else "en")
    assert (TerminatorConfig().rules(prompts).check(reply) is not None) is ends


@pytest.mark.parametrize("reply", [r for r, ends in SIGN_OFF_CASES[1:3]])
def test_the_paper_modes_and_a_recipe_without_sign_offs_read_none(reply: str) -> None:
    prompts = load_prompts("zh" if any("\u4e00" <= c <= "\u9fff" for c in reply) else "en")
    assert TerminatorConfig().rules(prompts).check(reply) is not None
    for config in (
        TerminatorConfig(mode="substring"),
        TerminatorConfig(mode="closing"),
        TerminatorConfig(sign_offs=()),
    ):
        assert config.rules(prompts).check(reply) is None


def test_a_terminator_card_without_sign_offs_still_loads(tmp_path: Path) -> None:
    bundled = bundled_dir("actors")
    for name in ("client.en.toml", "counselor.en.toml"):
        shutil.copy(bundled / name, tmp_path / name)
    (tmp_path / "terminator.toml").write_text('[phrases]\nen = ["Goodbye"]\n', encoding="utf-8")
    prompts = load_prompts("en", tmp_path)
    assert (prompts.terminator_sign_offs, prompts.terminator_continuations) == ((), ())
    assert TerminatorConfig().rules(prompts).check("You're welcome! Good luck.") is None
    (tmp_path / "terminator.toml").write_text(
        '[phrases]\nen = ["Goodbye"]\n[sign_offs]\nen = ["ok", ""]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"terminator\.toml, field 'sign_offs\.en'"):
        load_prompts("en", tmp_path)


# Counselor replies of gemma-3-270m recorded in tests/fixtures/quality_labels (plain
# recipe): the model runs past its turn and writes its chat template's markup.
TEMPLATE_REPLIES = [
    (
        "Hello<|im_end|> <|im_end|>user Hello<|im_end|> <|im_end|>user Hello<|im_end|>",
        "Hello",
    ),
    ("你好<|im_end|> <|im_start|>admin 你好<|im_end|> <|im_start|>admin 你好<|im_end|>", "你好"),
    ("<|im_end|> <|im_end|> <|im_end|> <|im_end|> <|im_end|> <|im", ""),
    (
        "我最近一直想咨询<|im_end|> <|im_start|>user 你好<|im_end|> <|im_start|>user 我<|im",
        "我最近一直想咨询",
    ),
]


@pytest.mark.parametrize(("reply", "repaired"), TEMPLATE_REPLIES)
def test_chat_template_tokens_are_refused_and_cut_by_repair(reply: str, repaired: str) -> None:
    rules = RefinerRules.for_language("zh")
    verdict = rules.check(reply)
    assert not verdict.accepted and verdict.reason.startswith("contains a chat-template token")
    assert rules.repair(reply) == repaired


def test_every_kind_of_template_token_is_refused() -> None:
    rules = RefinerRules.for_language("en")
    for token in ("<|eot_id|>", "<end_of_turn>", "</s>", "[INST]", "<<SYS>>", "<eos>", "</think>"):
        assert not rules.check(f"I hear you.{token} Go on.").accepted, token
    assert rules.check("I see <3 and a < b | c > d.").accepted
