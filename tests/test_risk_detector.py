"""The risk detector: its rules in both languages, its lexicon as data, and how well it
does on real posts labelled by hand (tests/fixtures/risk_labels.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
import pytest

from interactive_agents import load_cards
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation import DetectorScore, LabelledText, score_risk_detector
from interactive_agents.method import (
    RISK_CATEGORIES,
    RiskDetector,
    cards_at_risk,
    load_risk_detector,
)
from tests.support import FIXTURES, ROOT


def _detector(language: str, actors_dir: Path | None = None) -> RiskDetector:
    detector = load_risk_detector(language, actors_dir)
    assert detector is not None
    return detector


def _found(language: str, text: str) -> list[tuple[str, str]]:
    return [(cue.category, cue.kind) for cue in _detector(language).scan(text)]


@pytest.mark.parametrize(
    ("language", "text", "found"),
    [
        # direct and indirect disclosures of each risk
        ("en", "I want to die.", [("suicide", "direct")]),
        ("en", "Everyone would be better off without me.", [("suicide", "indirect")]),
        ("en", "I cut myself again last night.", [("self_harm", "direct")]),
        ("en", "I want to hurt him so badly.", [("harm_to_others", "direct")]),
        ("en", "My husband hits me when he drinks.", [("abuse", "direct")]),
        ("zh", "我真的很想死。", [("suicide", "direct")]),
        ("zh", "活着真没意思。", [("suicide", "indirect")]),
        ("zh", "压力大的时候我会割腕。", [("self_harm", "direct")]),
        ("zh", "我想杀了他。", [("harm_to_others", "direct")]),
        ("zh", "小时候爸爸经常打我。", [("abuse", "direct")]),
        # negation
        ("en", "I would never kill myself.", []),
        ("en", "I'm not suicidal, just tired of work.", []),
        ("zh", "我从来没有想过自杀。", []),
        ("zh", "我不想死，我只是很累。", []),  # "很累" alone is nothing
        # words with a negation character that do not negate
        ("zh", "我不知道为什么总想死。", [("suicide", "direct")]),
        ("zh", "有时候真觉得不如死了算了。", [("suicide", "direct")]),
        # third persons
        ("en", "My friend wants to kill herself and I am scared.", []),
        ("zh", "我朋友想自杀，我很担心她。", []),
        ("zh", "他自杀了，我很难过。", []),
        ("zh", "我妈被我爸打了。", []),
        # ...but not when the client is the one harmed (a passive) or speaks again
        ("zh", "我被一个亲戚性侵过。", [("abuse", "direct")]),
        ("zh", "我跟朋友说我想死。", [("suicide", "direct")]),
        # idioms and hyperbole
        ("en", "I was bored to death in that meeting.", []),
        ("zh", "笑死我了，气死了。", []),
    ],
)
def test_disclosures_are_found_where_they_are_the_clients_own(
    language: str, text: str, found: list[tuple[str, str]]
) -> None:
    assert _found(language, text) == found


def test_a_disclosure_says_where_it_is() -> None:
    text = "Work is hard. Honestly I want to die."
    (cue,) = _detector("en").scan(text)
    assert text[cue.start : cue.end] == cue.cue == "want to die"


@pytest.mark.parametrize(
    ("language", "reply", "responds"),
    [
        ("en", "When you say you want to die, are you thinking of killing yourself?", True),
        ("en", "Are you safe right now?", True),
        ("en", "Let's talk about your work schedule.", False),
        ("zh", "你刚才说想死，现在安全吗？", True),
        ("zh", "我们来聊聊你的工作吧。", False),
    ],
)
def test_a_reply_responds_to_risk_when_it_names_it(
    language: str, reply: str, responds: bool
) -> None:
    assert _detector(language).acknowledges(reply) is responds


def test_a_reply_that_parrots_a_disclosure_back_does_not_respond_to_it() -> None:
    """Recorded sessions of the embedded model (tests/fixtures/parroted_replies.jsonl):
    the counselor copied the client's disclosure back word for word."""
    rows = [
        orjson.loads(line)
        for line in (FIXTURES / "parroted_replies.jsonl").read_bytes().splitlines()
    ]
    assert rows
    for row in rows:
        detector = _detector(row["language"])
        assert detector.scan(row["client"])
        assert detector.acknowledges(row["counselor"])  # it names the risk...
        assert not detector.acknowledges(row["counselor"], row["client"])  # ...in their words
    reflection = (
        "You said you are thinking about killing yourself most nights. Have you thought "
        "about when you might do it?"
    )
    assert _detector("en").acknowledges(reflection, rows[0]["client"])


def test_a_language_without_a_lexicon_has_no_detector() -> None:
    assert load_risk_detector("xx") is None


def test_a_custom_lexicon_is_checked_naming_file_and_field(tmp_path: Path) -> None:
    text = (ROOT / "actors" / "risk.en.toml").read_text(encoding="utf-8")
    path = tmp_path / "risk.en.toml"
    path.write_text(text.replace('category = "abuse"', 'category = "danger"', 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cues\[\d+\]\.category") as error:
        load_risk_detector("en", tmp_path)
    assert str(path) in str(error.value)
    path.write_text(text.replace('"suicid(e|al)"', '"suicid(e|al"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="not a regular expression"):
        load_risk_detector("en", tmp_path)


def test_an_edited_lexicon_finds_what_it_says_and_changes_the_fingerprint(tmp_path: Path) -> None:
    text = (ROOT / "actors" / "risk.en.toml").read_text(encoding="utf-8")
    (tmp_path / "risk.en.toml").write_text(
        text.replace('"\\\\bkms\\\\b",', '"\\\\bkms\\\\b", "go to sleep for good",'),
        encoding="utf-8",
    )
    edited = _detector("en", tmp_path)
    assert [cue.category for cue in edited.scan("I just want to go to sleep for good.")] == [
        "suicide"
    ]
    assert edited.fingerprint != _detector("en").fingerprint


def test_cues_with_anchors_and_lookarounds_are_matched_within_their_clause(
    tmp_path: Path,
) -> None:
    text = (ROOT / "actors" / "risk.en.toml").read_text(encoding="utf-8")
    added = '"^\\\\s*vanish forever\\\\s*$", "(?<!to )vanish quietly", "\\\\bgone\\\\b",'
    (tmp_path / "risk.en.toml").write_text(
        text.replace('"\\\\bkms\\\\b",', f'"\\\\bkms\\\\b", {added}'), encoding="utf-8"
    )
    edited = _detector("en", tmp_path)
    assert [
        found.cue.strip() for found in edited.scan("Honestly, vanish forever. Work is fine.")
    ] == ["vanish forever"]
    assert edited.scan("I could vanish forever and be fine.") == ()  # not the whole clause
    assert [found.cue for found in edited.scan("I will vanish quietly")] == ["vanish quietly"]
    assert edited.scan("I want to vanish quietly") == ()
    assert [found.cue for found in edited.scan("I'd rather be gone but work")] == ["gone"]
    assert edited.scan("I'd rather be gonebut work") == ()


def test_an_edited_lexicon_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "risk.en.toml"
    text = (ROOT / "actors" / "risk.en.toml").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    assert _detector("en", tmp_path).scan("I will go to sleep for good.") == ()
    edited = text.replace('"\\\\bkms\\\\b",', '"\\\\bkms\\\\b", "sleep for good",')
    path.write_text(edited, encoding="utf-8")
    assert _detector("en", tmp_path).scan("I will go to sleep for good.") != ()


@pytest.mark.parametrize(("name", "language"), [("crisis_en", "en"), ("crisis_zh", "zh")])
def test_the_crisis_cards_mostly_carry_a_risk_the_detector_sees(name: str, language: str) -> None:
    cards = load_cards(name).cards
    counts = cards_at_risk(cards, _detector(language))
    assert len(cards) >= 30
    assert all(card.good_handling for card in cards)
    # Behavioural signs (giving things away, letters "just in case") are beyond a
    # lexicon: the judge reads those; the detector finds most of the cards.
    assert counts["cards"] >= 0.6 * len(cards)
    assert all(counts[category] >= 3 for category in RISK_CATEGORIES)


def test_the_demo_cards_carry_no_risk() -> None:
    assert cards_at_risk(load_cards("demo_en").cards, _detector("en"))["cards"] == 0


# -- measured on real posts labelled by hand ----------------------------------------------


def _labelled(reference: Path, name: str) -> list[LabelledText]:
    pools = {
        split: orjson.loads((reference / f"client_pool_{split}.json").read_bytes())
        for split in ("train", "test")
    }
    rows = [
        orjson.loads(line) for line in (FIXTURES / "risk_labels.jsonl").read_bytes().splitlines()
    ]
    texts = []
    for row in rows:
        if row["set"] != name:
            continue
        post = pools[row["split"]][row["index"]]
        assert hashlib.sha1(post.encode()).hexdigest()[:12] == row["sha1"]
        assert post.startswith(row["excerpt"])
        texts.append(LabelledText(post, frozenset(row["risk"])))
    return texts


def _score(scores: list[DetectorScore], category: str) -> DetectorScore:
    return next(score for score in scores if score.category == category)


def test_the_labels_cover_at_least_200_posts_of_both_strata(reference: Path) -> None:
    development, heldout = _labelled(reference, "development"), _labelled(reference, "heldout")
    assert len(development) + len(heldout) >= 200 and len(heldout) >= 100
    assert sum(1 for text in development + heldout if text.risk) >= 100


def test_precision_and_recall_on_the_held_out_posts_stay_where_docs_say(reference: Path) -> None:
    """docs/safety.md#risk-detector quotes these figures (any risk: precision 0.81,
    recall 0.78 on the 100 held-out posts); a change to the lexicon that makes them fall
    must be seen, and the docs re-measured."""
    scores = score_risk_detector(_detector("zh"), _labelled(reference, "heldout"))
    any_risk = _score(scores, "any")
    assert any_risk.precision is not None and any_risk.precision >= 0.78
    assert any_risk.recall is not None and any_risk.recall >= 0.75
    suicide = _score(scores, "suicide")
    assert suicide.precision is not None and suicide.precision >= 0.8


def test_precision_and_recall_are_counted_and_weighted_as_defined() -> None:
    detector = _detector("en")
    items = [
        LabelledText("I want to die.", frozenset({"suicide"}), weight=1.0),  # TP
        LabelledText("I cut myself.", frozenset({"suicide"}), weight=3.0),  # FN (and a FP)
        LabelledText("Work is fine.", frozenset(), weight=1.0),  # TN
    ]
    scores = score_risk_detector(detector, items)
    suicide = _score(scores, "suicide")
    assert (suicide.true_positives, suicide.false_positives, suicide.false_negatives) == (1, 0, 1)
    assert suicide.precision == 1.0 and suicide.recall == 0.5
    assert suicide.weighted_recall == pytest.approx(1 / 4)
    self_harm = _score(scores, "self_harm")
    assert self_harm.precision == 0.0 and self_harm.recall is None
    assert _score(scores, "any").recall == 1.0
