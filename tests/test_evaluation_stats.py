"""Table 1 statistics on hand-made and reference corpora."""

from __future__ import annotations

import json
import math
from pathlib import Path

from interactive_agents.corpora._readers import Corpus, Dialogue, Utterance, load_corpus
from interactive_agents.evaluation._stats import CorpusStats, corpus_stats
from interactive_agents.method._records import Role

from .conftest_evaluation import hand_run


def _dialogue(dialogue_id: str, *contents: str) -> Dialogue:
    roles: tuple[Role, Role] = ("client", "counselor")
    return Dialogue(
        dialogue_id, tuple(Utterance(roles[i % 2], text) for i, text in enumerate(contents))
    )


def test_hand_made_corpus() -> None:
    corpus = Corpus(
        "hand",
        (
            # 4 utterances = 2 turns; client lengths 2, 1; counselor lengths 4, 2.
            _dialogue("a", "ab", "cdef", "g", "hi"),
            # 3 utterances = 1.5 turns; client lengths 2, 1; counselor length 3.
            _dialogue("b", "你好", "您好呀", "嗯"),
        ),
    )
    assert corpus_stats(corpus) == CorpusStats(
        name="hand",
        conversations=2,
        avg_turns=1.75,
        min_turns=1.5,
        max_turns=2.0,
        client_utterances=4,
        counselor_utterances=3,
        avg_client_length=(2 + 1 + 2 + 1) / 4,
        avg_counselor_length=(4 + 2 + 3) / 3,
    )


def test_engine_run(tmp_path: Path) -> None:
    stats = corpus_stats(load_corpus(hand_run(tmp_path / "run")))
    # d1-d3 have 4 utterances (2 turns), d4 has 2 (1 turn).
    assert (stats.conversations, stats.avg_turns, stats.min_turns, stats.max_turns) == (
        4,
        1.75,
        1.0,
        2.0,
    )
    assert (stats.client_utterances, stats.counselor_utterances) == (7, 7)


def test_empty_corpus_has_no_averages() -> None:
    stats = corpus_stats(Corpus("empty", ()))
    assert (stats.conversations, stats.client_utterances, stats.counselor_utterances) == (0, 0, 0)
    assert all(
        math.isnan(value)
        for value in (stats.avg_turns, stats.min_turns, stats.max_turns, stats.avg_client_length)
    )


def test_reference_dialogues(reference: Path) -> None:
    """The raw dialogue has 20 utterances (10 turns); the ShareGPT record 24 after its system."""
    folder = reference / "dialogues"
    raw = json.loads((folder / "raw_dialogue_0.json").read_text(encoding="utf-8"))
    messages = json.loads((folder / "sharegpt_record_0.json").read_text(encoding="utf-8"))[0][
        "messages"
    ]
    client = [m["content"] for m in raw if m["role"] == "client"]
    client += [m["content"] for m in messages if m["role"] == "user"]
    counselor = [m["content"] for m in raw if m["role"] == "counselor"]
    counselor += [m["content"] for m in messages if m["role"] == "assistant"]

    stats = corpus_stats(load_corpus(folder))

    assert (stats.conversations, stats.min_turns, stats.max_turns, stats.avg_turns) == (
        2,
        10.0,
        12.0,
        11.0,
    )
    assert (stats.client_utterances, stats.counselor_utterances) == (22, 22)
    assert stats.avg_client_length == sum(map(len, client)) / 22
    assert stats.avg_counselor_length == sum(map(len, counselor)) / 22
