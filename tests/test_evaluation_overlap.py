"""Vocabulary rule, overlap rate (Eq. 1) and the mapping-versus-random design."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats

from interactive_agents.corpora._readers import Corpus, Dialogue, Utterance, load_corpus
from interactive_agents.corpora._vocabulary import detect_language, read_stopwords, vocabulary
from interactive_agents.errors import InputError
from interactive_agents.evaluation._consistency import draw_other, permute_others
from interactive_agents.evaluation._overlap import overlap_rate, vocabulary_overlap
from interactive_agents.method._card_text import card_text

from .support import HAND_MAPPING, HAND_RANDOM, hand_run


def test_english_vocabulary_rule() -> None:
    text = "Don’t STOP—it's 30 cats' toys_box! ..."
    assert vocabulary(text, "en") == {"don't", "stop", "it's", "30", "cats", "toys", "box"}


def test_chinese_vocabulary_rule() -> None:
    # jieba: 我 / 喜欢 / 猫 / 。 / Hello / ' ' / 世界 / ！ ; punctuation and space dropped.
    assert vocabulary("我喜欢猫。Hello 世界！", "zh") == {"我", "喜欢", "猫", "hello", "世界"}


def test_stopwords_are_dropped_after_lower_casing(tmp_path: Path) -> None:
    path = tmp_path / "stop.txt"
    path.write_text("# common words\nThe\n\n  and \n", encoding="utf-8")
    stopwords = read_stopwords(path)
    assert stopwords == {"the", "and"}
    assert vocabulary("The cat and THE dog", "en", stopwords) == {"cat", "dog"}
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError) as caught:
        read_stopwords(path)
    assert caught.value.file == str(path)


def test_language_detection() -> None:
    assert detect_language(["我最近总是失眠", "I"]) == "zh"
    assert detect_language(["I moved to 北京 last year and I feel lonely"]) == "en"
    assert detect_language([]) == "en"


def test_overlap_rate_by_hand() -> None:
    card = vocabulary("I love cats and dogs.", "en")  # 5 words
    client = vocabulary("Cats! I love cats.", "en")  # cats, i, love
    assert overlap_rate(client, card) == 3 / 5
    assert overlap_rate(client, frozenset()) == 0.0


def test_hand_corpus_groups_and_t_test(tmp_path: Path) -> None:
    corpus = load_corpus(hand_run(tmp_path / "run"))
    result = vocabulary_overlap(corpus, np.random.default_rng(0), language="en")

    assert [s.dialogue_id for s in result.scores] == ["d1", "d2", "d3"]
    assert [s.mapping for s in result.scores] == pytest.approx(HAND_MAPPING)
    assert [s.random for s in result.scores] == HAND_RANDOM
    # Only two distinct cards: the other card is the only choice (card B is d2's, A is d1's).
    assert [s.random_card_from for s in result.scores] == ["d2", "d1", "d2"]
    assert result.without_card == 1
    assert (result.metric, result.method) == ("overlap", "regex (en)")

    mean = sum(HAND_MAPPING) / 3
    std = statistics.stdev(HAND_MAPPING)
    assert (result.mapping.n, result.random.n) == (3, 3)
    assert result.mapping.mean == pytest.approx(mean)
    assert result.mapping.std == pytest.approx(std)
    assert (result.random.mean, result.random.std) == (0.0, 0.0)
    # Student's t with a pooled variance: the random group has none, so
    # sp² = (2·std² + 0) / 4 and t = mean / sqrt(sp² · (1/3 + 1/3)) = mean·√3 / std.
    t = mean * math.sqrt(3) / std
    assert result.t_statistic == pytest.approx(t)
    assert result.t_statistic > 0
    assert result.p_value == pytest.approx(2 * scipy_stats.t.sf(t, df=4))


def test_auto_language_and_seeded_random_group() -> None:
    cards = ["我最近失眠，工作压力很大。", "我和妈妈经常吵架。", "我害怕在课堂上发言。"]
    clients = ["工作压力让我失眠", "妈妈总是和我吵架", "上课发言让我害怕"]
    dialogues = tuple(
        Dialogue(f"d{i}", (Utterance("client", clients[i % 3]),), cards[i % 3], f"c{i % 3}")
        for i in range(30)
    )
    corpus = Corpus("zh", dialogues)
    first = vocabulary_overlap(corpus, np.random.default_rng(5))
    again = vocabulary_overlap(corpus, np.random.default_rng(5))

    assert first == again
    assert first.method.startswith("jieba (zh)")
    owners = {"d0": cards[0], "d1": cards[1], "d2": cards[2]}
    assert {s.random_card_from for s in first.scores} == set(owners)
    assert all(
        owners[s.random_card_from] != cards[int(s.dialogue_id[1:]) % 3] for s in first.scores
    )
    # jieba: 工作/压力/让/我/失眠 shares 工作, 压力, 我, 失眠 with 我/最近/失眠/工作/压力/很大;
    # 妈妈/总是/和/我/吵架 shares 4 of 我/和/妈妈/经常/吵架; 上课/发言/让/我/害怕 shares
    # 我, 害怕, 发言 with 我/害怕/在/课堂/上/发言.
    assert [s.mapping for s in first.scores[:3]] == pytest.approx([4 / 6, 4 / 5, 3 / 6])
    assert first.mapping.mean > first.random.mean
    assert first.t_statistic > 0


def test_draw_other_is_uniform_over_the_other_cards() -> None:
    own = np.repeat(np.arange(4), 3000)
    drawn = draw_other(own, 4, np.random.default_rng(1))
    assert not np.any(drawn == own)
    for card in range(4):
        counts = np.bincount(drawn[own == card], minlength=4)
        others = np.delete(counts, card)
        assert counts[card] == 0
        assert np.all(np.abs(others - 1000) < 120)


def test_random_group_needs_two_cards() -> None:
    dialogue = Dialogue("d", (Utterance("client", "hello"),), "card", None)
    with pytest.raises(InputError, match="at least two different role cards, found 1"):
        vocabulary_overlap(Corpus("one", (dialogue, dialogue)), np.random.default_rng(0))


def test_reference_dialogue_matches_its_own_card(reference: Path) -> None:
    """raw_dialogue_0 was generated from train card 0: its own post is the best of all 1,000."""
    posts = json.loads((reference / "client_pool_train.json").read_text(encoding="utf-8"))
    dialogue = load_corpus(reference / "dialogues" / "raw_dialogue_0.json").dialogues[0]
    client = vocabulary(dialogue.client_text(), "zh")
    rates = [overlap_rate(client, vocabulary(post, "zh")) for post in posts]
    assert int(np.argmax(rates)) == 0
    own_card = card_text({"id": "train-0", "chief_complaint": posts[0]})
    assert overlap_rate(client, vocabulary(own_card, "zh")) > float(np.mean(rates[1:]))


def test_permutation_uses_every_card_once_and_never_its_own() -> None:

    own = np.array([0, 1, 2, 3, 4, 0, 1], dtype=np.intp)
    for seed in range(20):
        shuffled = permute_others(own, np.random.default_rng(seed))
        assert sorted(shuffled.tolist()) == sorted(own.tolist())
        assert not np.any(shuffled == own)


def test_permutation_is_refused_when_one_card_holds_most_dialogues() -> None:

    with pytest.raises(InputError, match="permutation"):
        permute_others(np.array([0, 0, 0, 1], dtype=np.intp), np.random.default_rng(0))


def test_paired_test_on_the_hand_corpus(tmp_path: Path) -> None:
    corpus = load_corpus(hand_run(tmp_path / "run"))
    result = vocabulary_overlap(corpus, np.random.default_rng(0), test="paired")
    # Differences 3/9, 4/7, 5/9 (random group all 0): t = mean / (sd / sqrt(3)).
    differences = np.array(HAND_MAPPING)
    expected = differences.mean() / (differences.std(ddof=1) / np.sqrt(3))
    assert result.test == "paired"
    assert result.t_statistic == pytest.approx(expected)
    assert result.p_value == pytest.approx(2 * scipy_stats.t.sf(expected, df=2))
