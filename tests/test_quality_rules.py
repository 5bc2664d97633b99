"""The rules behind the quality flags, on turns the embedded models wrote.

Every model line below is copied from a session of ``tests/fixtures/quality_labels``
(the session's id is beside it). What the rules must leave alone is real speech (the
1,100 help-seeking posts of the reference data, the counselor of its dialogue) and a
few lines written here that a client might say. The helper's formula in its many
wordings is a role flip from the client and says nothing (so it is neither echo nor
repetition, and a loop of it is degenerate); the prompt's self-description paraphrased
and a garbled stage cue are leakage; a client telling its trouble is none of these.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from interactive_agents import Turn
from interactive_agents.errors import ConfigError
from interactive_agents.method import (
    Flagger,
    QualityRules,
    QualityThresholds,
    Role,
    load_prompts,
    load_quality_rules,
)


def _rules(language: str, **thresholds: Any) -> QualityRules:
    return load_quality_rules(load_prompts(language), thresholds=QualityThresholds(**thresholds))


def _raised(language: str, *lines: tuple[Role, str]) -> tuple[str, ...]:
    turns = [Turn(role, content) for role, content in lines]
    return Flagger.of(_rules(language)).assess(turns, card_text=None).raised


@pytest.mark.parametrize(
    ("language", "line"),
    [
        # qwen2.5-coder-0.5b-instruct/long-zh/zh_cards14-00003, 00005, 00001
        ("zh", "当然可以，有什么问题或者需要我帮助的吗？"),
        ("zh", "你好！很乐意帮助你，如果你有其他问题或需要帮助，请随时告诉我。"),
        ("zh", "当然可以，我是一个心理咨询师，可以帮助你处理许多困扰和情感问题。"),
        # qwen2.5-coder-0.5b-instruct/plain-zh/zh_cards14-00004: a gap inside the phrase
        ("zh", "你好！我是一个非常有热情和耐心的咨询师，随时可以与你交流。"),
        # qwen2.5-coder-0.5b-instruct/quick-zh/zh_cards14-00005
        ("zh", "你最近有什么困扰，可以告诉我吗？"),
        # smollm2-135m-instruct/cued-zh/zh_cards14-00007: English in a Chinese session
        ("zh", "I'm all right. Just a quick reminder that I'm here to support and help."),
        # gemma-3-270m/long-zh/zh_cards14-00013: the host's welcome, inside template tokens
        ("zh", "Welcome<|im_end|>\n<|im_end|>user\nWelcome<|im_end|>"),
        # smollm2-135m-instruct/quick-en/demo-en-03, gemma-3-270m/long-en/demo-en-06
        (
            "en",
            "You're right, I'll be glad to help. I'm so glad you're here and I'm happy to "
            "assist you.",
        ),
        (
            "en",
            "Hello<|im_end|>\n<|im_start|>user\nI’m a psychotherapist, counsellor and facilitator.",
        ),
        # gemma-3-270m/hot-en/demo-en-01
        (
            "en",
            "I am 35 and living in China. I started working in 1998 and am a professional "
            "counsellor.",
        ),
        # advice, reflection and comfort in the second person (fresh_*.jsonl):
        # qwen2.5-coder-0.5b-instruct/r3-plain-zh/zh_test36-00000
        ("zh", "你最近一直感到情绪崩溃，这是很常见的情况。你可以试着找一个心理咨询师来帮你咨询。"),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-zh/zh_test12-00001
        (
            "zh",
            "你好！我理解你在面对一些心理困扰。根据你的描述，你的自卑和抑郁可能与家庭经历有关。",
        ),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-zh-b/zh_test60-00003
        ("zh", "当然可以。你提到老公挣钱不多，能用家务活来补吗？"),
        # smollm2-135m-instruct/r3-hot-en-crisis/crisis-en-15
        (
            "en",
            "I'm really glad you're looking for a new perspective. I can see you're struggling.",
        ),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-en/demo-en-06
        (
            "en",
            "I'm sorry to hear about the loss of your child. How are you feeling about your job?",
        ),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-en-crisis-b/crisis-en-09
        ("en", "Great! What would you like to talk about?"),
        # round four (round4_*.jsonl): the helper's moves in looser wordings.
        # qwen2.5-coder-1.5b-instruct/r4-quick6-en-crisis/crisis-en-18
        ("en", "Hello! I'm just here to listen and offer support. What's bothering you?"),
        # qwen2.5-coder-1.5b-instruct/r4-quick6-en/demo-en-06
        (
            "en",
            "Hi! I'm sorry to hear about your experience. Can you tell me more about what "
            "happened?",
        ),
        # qwen2.5-coder-1.5b-instruct/r4-quick6-en/demo-en-02
        ("en", "Have you ever discussed your academic goals with your parents?"),
        # smollm2-135m-instruct/r4-cued-en/demo-en-04
        ("en", "(smiling warmly) Ah, welcome to our creative exploration! I'm thrilled."),
        # qwen2.5-coder-0.5b-instruct/r4-paper-zh/zh_test90-00002
        ("zh", "当然，很高兴能见到你。你有什么问题或需要我帮助的地方吗？"),
        # qwen2.5-coder-1.5b-instruct/r4-quick6-zh/zh_test66-00005
        ("zh", "好的，我会一直在这里支持你。如果需要帮助，随时可以联系我。"),
    ],
)
def test_the_client_speaking_the_helpers_formula_is_a_role_flip(language: str, line: str) -> None:
    rules = _rules(language)
    assert rules.flips(Turn("client", line))
    assert not rules.flips(Turn("counselor", line))


@pytest.mark.parametrize(
    ("language", "line"),
    [
        # smollm2-135m-instruct/long-en/demo-en-03
        ("en", "Hello Xiaotian, I hope you're well. I'm glad to have you as our therapist."),
        # qwen2.5-coder-0.5b-instruct/r3-hot-zh/zh_test48-00003: the client's acceptance
        # of the counselor's advice, said by the counselor
        ("zh", "好的，我会尝试用一些简单的言语来引导孩子。"),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-zh/zh_test12-00002
        ("zh", "非常感谢你的建议。我会考虑带女儿参加一些儿童教育或社交活动。"),
    ],
)
def test_the_counselor_speaking_as_the_help_seeker_is_a_role_flip(language: str, line: str) -> None:
    assert _rules(language).flips(Turn("counselor", line))


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "You should get some rest tonight, my sister told me, but I can't."),
        ("zh", "爸妈总说你应该理解父母，可他们从来不理解我。"),  # quoting the others' advice
        ("zh", "我应该怎么办？我试过很多方法都没用。"),
    ],
)
def test_a_client_quoting_advice_it_was_given_is_no_role_flip(language: str, line: str) -> None:
    assert not _rules(language).flips(Turn("client", line))


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "You're welcome, and thanks for listening."),  # a pleasantry, not a host
        ("en", "I was afraid it would sound silly, as an aid worker."),  # "as an ai" is a word
        ("en", "I'm a bit scared of therapists, to be honest."),
        ("zh", "我需要帮助，我真的不知道该怎么办。"),
        ("zh", "妈妈需要我帮她照顾弟弟，我每天都很累。"),
        ("en", "I'm sorry to hear myself say it, but I haven't tried anything yet."),
        ("zh", "我一直在这里等他回来，可他不会支持我的。"),
    ],
)
def test_a_client_telling_its_trouble_is_no_role_flip(language: str, line: str) -> None:
    assert not _rules(language).flips(Turn("client", line))


def test_real_help_seeking_posts_are_neither_flips_nor_content_free(reference: Path) -> None:
    """The 1,100 posts of the reference pools, whole and sentence by sentence, are what
    real clients say: almost none may read as the helper, as the prompt or as nothing."""
    posts = [
        post
        for name in ("client_pool_train.json", "client_pool_test.json")
        for post in json.loads((reference / name).read_text(encoding="utf-8"))
    ]
    sentences = [s for post in posts for s in post.replace("？", "。").split("。") if len(s) > 8]
    flagger = Flagger.of(_rules("zh"))
    flips = [s for s in [*posts, *sentences] if flagger.rules.flips(Turn("client", s))]
    # Two sentences of one post: "咨询师…作为咨询师" about the client's own counselor.
    assert len(flips) <= 2, flips
    said = [
        flagger.assess([Turn("client", s), Turn("client", s)], card_text=None)
        for s in sentences[:2000]
    ]
    assert sum("degenerate" in quality.raised for quality in said) <= 2


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        # qwen2.5-coder-0.5b-instruct/long-zh/zh_cards14-00007 (both parties, nine times)
        ("zh", ["你好！我是一个人工智能咨询师，非常乐意帮助你。有什么我可以帮你的吗？"] * 2),
        # qwen2.5-coder-0.5b-instruct/quick-zh/zh_cards14-00004
        (
            "zh",
            [
                "你好，很高兴见到你。有什么我可以帮忙的吗？",
                "你好，很高兴见到你。有啥我可以帮忙的吗？",
            ],
        ),
        # the counselor's opening in the reference's dialogue (fixtures/dialogues)
        ("zh", ["你好，你最近还好吗？有什么需要帮助的吗？"] * 2),
        # qwen2.5-coder-0.5b-instruct/quick-en/demo-en-02
        (
            "en",
            [
                "Hello! I'm here to help you with any questions or concerns you may have. "
                "How can I assist you today?"
            ]
            * 2,
        ),
        # qwen2.5-coder-0.5b-instruct/cued-en/demo-en-05
        ("en", ["I'm just fine, thank you! How about yourself?"] * 2),
        # wordings no pleasantry list holds whole (fresh_*.jsonl): few content words
        # remain. qwen2.5-coder-0.5b-instruct/r3-long-en-crisis/crisis-en-25
        (
            "en",
            [
                "Hello Xiaotian! I'm here to help you with any questions you have. How can I "
                "assist you today?"
            ]
            * 2,
        ),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-en-crisis-b/crisis-en-10
        (
            "en",
            [
                "You're welcome! I'm here to help. If you have any other questions or need "
                "further support, don't hesitate to reach out."
            ]
            * 2,
        ),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-zh/zh_test12-00003
        ("zh", ["你好，很高兴能和你交流。"] * 2),
        # round four: the formula in wordings of its own, and a sign-off with a farewell.
        # qwen2.5-coder-0.5b-instruct/r4-quick-zh/zh_test96-00000
        ("zh", ["当然可以！请告诉我你有什么具体的问题或困扰，我会尽力帮你解答。"] * 2),
        # qwen2.5-coder-0.5b-instruct/r4-quick-zh/zh_test96-00003
        ("zh", ["当然，我很乐意帮助你。请告诉我你遇到的困扰是什么，我会尽力帮助你解决。"] * 2),
        # qwen2.5-coder-1.5b-instruct/r4-quick6-en-crisis/crisis-en-19
        (
            "en",
            [
                "You're welcome! I'm here to help. Don't hesitate to let me know if you have "
                "any other questions or need further support. Good luck with your journey."
            ]
            * 2,
        ),
    ],
)
def test_the_helpers_formula_traded_is_degenerate_not_echo(language: str, lines: list[str]) -> None:
    raised = _raised(
        language, ("client", "Hello"), ("counselor", lines[0]),
        ("client", lines[-1]), ("counselor", lines[0]), ("client", lines[-1]),
    )  # fmt: skip
    assert "degenerate" in raised
    assert "echo" not in raised and "repetition" not in raised


def test_content_traded_back_is_still_echo_and_repetition() -> None:
    # qwen2.5-coder-0.5b-instruct/hot-en/demo-en-03: the counselor copies the client's story.
    story = (
        "Hello Xiaotian, I am a 58-year-old male with a high school diploma and a retired "
        "school bus driver. I am married to Ray, a 59-year-old male."
    )
    raised = _raised(
        "en", ("client", "Hello"), ("counselor", "How can I assist you today?"),
        ("client", story), ("counselor", story), ("client", story),
    )  # fmt: skip
    assert {"echo", "repetition"} <= set(raised) and "degenerate" not in raised


@pytest.mark.parametrize(
    "line",
    [
        # qwen2.5-coder-0.5b-instruct/cued-en/demo-en-06: a short line of its own
        "Sorry, but I can't help you with that.",
        # qwen2.5-coder-1.5b-instruct/r3-quick6-en/demo-en-03: a refusal, not a pleasantry
        "I'm sorry, but I don't think I can help you with that.",
    ],
)
def test_a_short_line_with_content_traded_is_echo_and_repetition(line: str) -> None:
    raised = _raised(
        "en", ("client", "Hello"), ("counselor", "How can I assist you today?"),
        ("client", line), ("counselor", line), ("client", line),
    )  # fmt: skip
    assert {"echo", "repetition"} <= set(raised)


def test_a_short_line_a_party_says_again_is_degenerate() -> None:
    # smollm2-135m-instruct/r4-cued-zh-crisis/crisis-zh-09: one garbled line (six words,
    # a Han character counting half) passed back and forth, each party saying it again
    line = "你好，您还是一个新的班子－－－－－－－－－－－－－－－－－－－－－－－"
    raised = _raised(
        "zh", ("client", "你好"), ("counselor", line), ("client", line),
        ("counselor", line), ("client", line),
    )  # fmt: skip
    assert "degenerate" in raised
    # A short question asked once and copied once is an echo, not a loop.
    question = "When you freeze, what do you notice in your body?"
    raised = _raised(
        "en", ("client", "Hello"), ("counselor", "What would you like to talk about today?"),
        ("client", "My manager criticises me in front of the team and I freeze."),
        ("counselor", question), ("client", question),
    )  # fmt: skip
    assert "echo" in raised and "degenerate" not in raised


@pytest.mark.parametrize(
    ("language", "line"),
    [
        # qwen2.5-coder-0.5b-instruct/cued-en/demo-en-03, hot-en/demo-en-05, quick-en/demo-en-05
        ("en", "Hi Xiaotian! I'm here to help you think and question unhelpful thinking."),
        ("en", "I'm Xiaotian, a virtual counselor dedicated to helping people notice, "
               "question, and explore unhelpful thinking."),
        ("en", "Hello! I'm a virtual counselor, and I'm here to help you understand and "
               "question unhelpful thinking."),
    ],
)  # fmt: skip
def test_the_self_description_paraphrased_is_prompt_leakage(language: str, line: str) -> None:
    assert _rules(language).leaks(line)
    # With longer runs of content words the paraphrase is no longer found.
    assert not _rules(language, leak_words=8).leaks(line)


@pytest.mark.parametrize(
    ("language", "line"),
    [
        # smollm2-135m-instruct/cued-zh/zh_cards14-00012: a garbled stage cue
        ("zh", "在第 3 轮处于咨询中期（领\ufffdonation阶段），我们将使用一个设计糖割的价值"),
        # gemma-3-270m/r3-hot-en-crisis/crisis-en-19: the stage rules in other words
        ("en", "In the middle stage, focus on the relationship between you and the person."),
        # smollm2-135m-instruct/r3-cued-zh/zh_test54-00004: the cue cut after its number
        ("zh", "你好，你好，可以在这里福，不福！ 这是第 3"),
    ],
)
def test_the_prompts_stage_names_and_a_cut_cue_are_prompt_leakage(language: str, line: str) -> None:
    assert _rules(language).leaks(line)


@pytest.mark.parametrize(
    ("language", "line"),
    [
        # gemma-3-270m/paper-en/demo-en-01, gemma-3-270m/hot-en/demo-en-01: naming oneself
        ("en", "I am Xiaotian, a female virtual counselor I am here to help you"),
        ("en", "I'm Xiaotian, a counselor specializing in client-centred work."),
        ("zh", "你好，我是小天，一名心理咨询师。"),
        # qwen2.5-coder-1.5b-instruct/r3-quick6-zh-b/zh_test60-00005: the prompt's words,
        # but only the name and the role
        ("zh", "你好，我叫小天，是一个女性虚拟心理咨询师。"),
        ("zh", "这是第3次了，我还是睡不着。"),
        ("en", "When I can't sleep I question my thinking about work."),
    ],
)
def test_naming_oneself_and_ones_role_is_no_leakage(language: str, line: str) -> None:
    assert not _rules(language).leaks(line)


def test_a_phrase_file_without_the_new_lists_still_loads(tmp_path: Path) -> None:
    bundled = Path(__file__).resolve().parents[1] / "actors" / "quality.en.toml"
    text = bundled.read_text(encoding="utf-8")
    older = text.split("[prompt_leakage]")[0] + "[closing]" + text.split("[closing]", 1)[1]
    older = older.replace('also = ["zh"]', "")
    (tmp_path / "quality.en.toml").write_text(older, "utf-8")
    rules = load_quality_rules(load_prompts("en"), tmp_path)
    assert rules.flips(Turn("client", "How can I assist you today?"))
    assert not rules.flips(Turn("client", "我可以帮助你"))  # no ``also``: English only
    (tmp_path / "quality.en.toml").write_text('also = "zh"\n' + older, "utf-8")
    with pytest.raises(ConfigError, match="also"):
        load_quality_rules(load_prompts("en"), tmp_path)
