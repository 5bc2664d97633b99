"""Quality flags on hand-made sessions with known flags, and the ``evaluate quality`` report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._quality import (
    FLAG_NAMES,
    Flagger,
    QualityRules,
    QualityThresholds,
    assess_session,
    jaccard,
    load_quality_rules,
    script_share,
    token_shingles,
)
from interactive_agents.method._records import Turn

from .support import CLEAN_EN, session_record, session_turns, write_run


def _rules(language: str, **thresholds: Any) -> QualityRules:
    return load_quality_rules(load_prompts(language), thresholds=QualityThresholds(**thresholds))


def test_shingles_are_character_pairs_in_chinese_and_word_pairs_in_english() -> None:
    assert token_shingles("我很累。") == {("我", "很"), ("很", "累")}
    assert token_shingles("I am so TIRED") == {("i", "am"), ("am", "so"), ("so", "tired")}
    assert token_shingles("Yes.") == {("yes",)}
    a, b = token_shingles("a b c d"), token_shingles("a b c e")
    assert jaccard(a, b) == pytest.approx(2 / 4)  # {ab, bc} shared of {ab, bc, cd, ce}
    assert script_share("你好hello", "zh") == pytest.approx(2 / 7)
    assert script_share("ok", "en") is None


def test_a_clean_session_raises_nothing() -> None:
    quality = assess_session(CLEAN_EN, _rules("en"), card_text="Occupation: accountant")
    assert quality.raised == ()
    assert [flag.name for flag in quality.flags] == list(FLAG_NAMES)


def test_a_verbatim_echo_of_the_counselor_is_flagged_at_its_turn() -> None:
    turns = [*CLEAN_EN[:4], Turn("client", CLEAN_EN[3].content), *CLEAN_EN[5:]]
    echo = assess_session(turns, _rules("en")).flag("echo")
    assert echo.flagged and echo.value == 1.0 and echo.turn == 4
    looser = assess_session(turns, _rules("en", echo=1.01)).flag("echo")
    assert not looser.flagged and looser.value == 1.0


def test_repeating_oneself_is_repetition_not_echo() -> None:
    turns = [*CLEAN_EN, CLEAN_EN[5], CLEAN_EN[2]]
    quality = assess_session(turns, _rules("en"))
    assert quality.raised == ("repetition",)
    assert quality.flag("repetition").turn == 7  # the counselor repeated its turn 5
    assert (quality.flag("echo").value or 0) < 0.6


def test_short_replies_never_count_as_echo_or_repetition() -> None:
    turns = session_turns("Hello", "Okay.", "Okay.", "Okay.", "Okay.")
    quality = assess_session(turns, _rules("en"))
    assert not quality.flag("echo").flagged and not quality.flag("repetition").flagged


@pytest.mark.parametrize(
    ("language", "client_line", "counselor_line"),
    [
        ("en", "As your counselor, I want to hear more.", "Honestly, I need your help too."),
        ("en", "Counselor: tell me about your week.", None),
        ("en", "Hello! I'm here to listen and offer any support you may need.", None),
        ("zh", "作为你的咨询师，我想多了解一些。", "我最近很困扰，你能帮帮我吗？"),
        ("zh", "你好，我是你的心理咨询师小王。", None),
        ("zh", "你好！我是一名心理咨询师，能够帮助你。", None),
    ],
)
def test_role_flips_of_either_party(
    language: str, client_line: str, counselor_line: str | None
) -> None:
    turns = session_turns("hi", "ok, go on with what happened next", client_line)
    flip = assess_session(turns, _rules(language)).flag("role_flip")
    assert flip.flagged and flip.turn == 2
    if counselor_line is not None:
        swapped = session_turns("hi", counselor_line)
        assert assess_session(swapped, _rules(language)).flag("role_flip").value == 1


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_stage_cue_or_system_prompt_in_a_reply_is_leakage(language: str) -> None:
    prompts = load_prompts(language)
    cue = prompts.counselor.cue("middle", 7, 20).content
    rules = _rules(language)
    leak = assess_session(session_turns("hi", "fine", cue), rules).flag("prompt_leakage")
    assert leak.flagged and leak.turn == 2
    sentence = prompts.counselor.system.strip().splitlines()[0][:80]
    assert assess_session(session_turns("hi", sentence), rules).flag("prompt_leakage").flagged
    # The card profile is in the client's prompt but talking about it is the point.
    assert not rules.leaks("My manager criticises me in front of the team.")


def test_replies_in_the_wrong_language_are_drift() -> None:
    turns = session_turns(
        "你好", "你最近睡得怎么样？", "I sleep badly and wake up early.", "嗯，多久了？"
    )
    drift = assess_session(turns, _rules("zh")).flag("language_drift")
    # "你好" has too few letters to be judged: one of the three other turns drifts.
    assert drift.flagged and drift.value == pytest.approx(1 / 3) and drift.turn == 2
    mixed = session_turns("你好", "你了解CBT吗？", "听说过CBT，但没试过。")
    assert not assess_session(mixed, _rules("zh")).flag("language_drift").flagged


def test_pouring_out_the_card_in_the_first_turns_is_premature_disclosure() -> None:
    card = "Chief complaint: manager criticises presentations, freeze, insomnia, divorce"
    early = session_turns(
        "Hello",
        "What brings you here?",
        "My manager criticises my presentations, I freeze, I have insomnia since my divorce.",
    )
    disclosure = assess_session(early, _rules("en"), card_text=card).flag("premature_disclosure")
    # card words: chief complaint manager criticises presentations freeze insomnia divorce
    assert disclosure.value == pytest.approx(6 / 8) and disclosure.flagged
    slow = assess_session(CLEAN_EN, _rules("en"), card_text=card).flag("premature_disclosure")
    assert slow.value == pytest.approx(3 / 8) and not slow.flagged  # manager criticises freeze
    assert assess_session(early, _rules("en")).flag("premature_disclosure").value is None
    own = assess_session(early, _rules("en"), card_text=card, tokenize=str.split)
    assert own.flag("premature_disclosure").value != disclosure.value


def test_a_goodbye_before_turn_k_is_premature_closure() -> None:
    lines = [t.content for t in CLEAN_EN]
    closed = session_turns(*lines, "Take care, and good luck with your manager.")
    closure = assess_session(closed, _rules("en")).flag("premature_closure")
    assert closure.value == 4 and closure.flagged and closure.turn == 7
    thanked = session_turns("Hello", "How are you?", "Thank you so much for your help, bye!")
    assert assess_session(thanked, _rules("en")).flag("premature_closure").value == 2
    assert (
        not assess_session(closed, _rules("en", closure_turns=4)).flag("premature_closure").flagged
    )
    assert assess_session(CLEAN_EN, _rules("en")).flag("premature_closure").value is None


def test_evaluate_quality_writes_rates_per_corpus(tmp_path: Path) -> None:
    echoing = [*[t.content for t in CLEAN_EN[:4]], CLEAN_EN[3].content]
    run = write_run(
        tmp_path / "run",
        [session_record("clean", [t.content for t in CLEAN_EN]), session_record("echo", echoing)],
    )
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main, ["evaluate", "quality", str(run), "--out", str(out), "--language", "en", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    (corpus,) = payload["corpora"]
    assert corpus["rates"]["echo"] == 0.5 and corpus["no_flag"] == 0.5
    by_id = {d["id"]: d for d in corpus["dialogues"]}
    assert by_id["echo"]["raised"] == ["echo"] and by_id["clean"]["raised"] == []
    assert by_id["echo"]["flags"]["echo"]["turn"] == 4
    assert (out / "quality.png").read_bytes()[:4] == b"\x89PNG"
    assert "| run | 2 | 50.0% |" in (out / "quality.md").read_text()
    strict = CliRunner().invoke(
        main, ["evaluate", "quality", str(run), "--out", str(out), "--threshold", "echo=2"]
    )
    assert strict.exit_code == 0 and "echo" in strict.output
    assert orjson.loads((out / "quality.json").read_bytes())["corpora"][0]["rates"]["echo"] == 0


def test_a_bad_threshold_is_a_usage_error(tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [session_record("clean", [t.content for t in CLEAN_EN])])
    result = CliRunner().invoke(
        main, ["evaluate", "quality", str(run), "--out", str(tmp_path), "--threshold", "loud=1"]
    )
    assert result.exit_code == 2 and "--threshold" in result.output


def test_a_flagger_reuses_only_documents_of_its_own_rules() -> None:
    flagger = Flagger.of(_rules("en"))
    turns = session_turns(*[t.content for t in CLEAN_EN[:4]], CLEAN_EN[3].content)
    computed = flagger.assess(turns, card_text=None)
    document = orjson.loads(orjson.dumps(flagger.document(computed, turns, card_text=None)))
    assert document["raised"] == ["echo"] and document["thresholds"]["leak_ngram"] == 6
    reused = flagger.assess(turns, card_text=None, stored=document)
    assert reused == computed and reused.stored and not computed.stored
    assert reused.raised == ("echo",) and reused.flag("role_flip").value == 0
    for other in (Flagger.of(_rules("en", echo=0.9)), Flagger.of(_rules("zh"))):
        assert other.fingerprint != flagger.fingerprint
        assert other.reusable(document, turns, card_text=None) is None
    # Another transcript or card than the one the document was made from: computed again.
    edited = [*turns[:-1], Turn("client", "[redacted]")]
    assert flagger.reusable(document, edited, card_text=None) is None
    assert flagger.reusable(document, turns, card_text="Occupation: nurse") is None
    assert flagger.assess(edited, card_text=None, stored=document).raised == ()
    broken = {**document, "flags": {**document["flags"], "echo": {"value": "high"}}}
    missing = {**document, "flags": {k: v for k, v in document["flags"].items() if k != "echo"}}
    for bad in (broken, missing, {**document, "flags": None}, "echo", None):
        assert flagger.reusable(bad, turns, card_text=None) is None
        assert not flagger.assess(turns, card_text=None, stored=bad).stored
