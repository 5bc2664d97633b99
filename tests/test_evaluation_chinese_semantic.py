"""Semantic consistency on Chinese: the offline default separates own from other cards.

Measured on the real reference data: the two reference sessions (both played from
``train_0``) against the four reference cards, rendered as the engine renders them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.evaluation._embedding import (
    MULTILINGUAL_MODEL,
    default_model,
    english_only,
    load_embedder,
)
from interactive_agents.evaluation._significance import t_test
from interactive_agents.method._card_text import card_text
from interactive_agents.method._cards import load_cards

from .support import engine_record, write_run


def _reference_sessions(fixtures: Path) -> list[list[str]]:
    """The client utterances of the raw dialogue and of the ShareGPT record."""
    raw = json.loads((fixtures / "dialogues/raw_dialogue_0.json").read_text(encoding="utf-8"))
    record = json.loads(
        (fixtures / "dialogues/sharegpt_record_0.json").read_text(encoding="utf-8")
    )[0]["messages"]
    return [
        [u["content"] for u in raw if u["role"] == "client"],
        [m["content"] for m in record if m["role"] == "user"],
    ]


def _reference_cards(fixtures: Path) -> dict[str, str]:
    batch = load_cards(fixtures / "role_cards")
    return {card.id: card_text(card.to_dict(), "zh") for card in batch.cards}


def test_default_chinese_model_prefers_each_sessions_own_card(fixtures: Path) -> None:
    assert default_model("zh") == MULTILINGUAL_MODEL
    assert english_only(default_model("en")) and not english_only(MULTILINGUAL_MODEL)
    cards = _reference_cards(fixtures)
    own = list(cards).index("train_0")
    embed = load_embedder(default_model("zh"))
    card_vectors = embed(list(cards.values()))
    sessions = _reference_sessions(fixtures)

    whole = embed(["\n".join(session) for session in sessions]) @ card_vectors.T
    assert [int(np.argmax(row)) for row in whole] == [own, own]

    # Every substantial client utterance: own card against the mean of the other three.
    utterances = [u for session in sessions for u in session if len(u) >= 15]
    similarity = embed(utterances) @ card_vectors.T
    mapping = similarity[:, own].astype(np.float64)
    random = np.delete(similarity, own, axis=1).mean(axis=1).astype(np.float64)
    t_statistic, p_value = t_test(mapping, random, "paired")
    assert len(utterances) == 20
    assert mapping.mean() > random.mean() + 0.05
    assert t_statistic > 0 and p_value < 0.001


def _chinese_run(folder: Path, fixtures: Path) -> Path:
    cards = {card.id: card.to_dict() for card in load_cards(fixtures / "role_cards").cards}
    session = _reference_sessions(fixtures)[0]
    turns = [text for client in session for text in (client, "嗯，请继续说。")]
    records = [engine_record(f"d{i}", cards[name], turns, "zh") for i, name in enumerate(cards)]
    return write_run(folder, records)


def test_english_only_model_is_refused_on_a_chinese_corpus(tmp_path: Path, fixtures: Path) -> None:
    run = _chinese_run(tmp_path / "run", fixtures)
    out = str(tmp_path / "out")
    refused = CliRunner().invoke(
        main, ["evaluate", "semantic", str(run), "--out", out, "--model", "all-MiniLM-L6-v2"]
    )
    assert refused.exit_code == 2
    assert f"pass --model {MULTILINGUAL_MODEL}" in refused.output
    assert "English-only" in refused.output
    assert not (tmp_path / "out").exists()

    forced = CliRunner().invoke(
        main,
        [
            "evaluate",
            "semantic",
            str(run),
            "--out",
            out,
            "--model",
            "all-MiniLM-L6-v2",
            "--force",
            "--device",
            "cpu",
            "--json",
        ],
    )
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["settings"]["models"] == {"run": "all-MiniLM-L6-v2"}


def test_semantic_default_on_a_chinese_corpus_is_the_multilingual_model(
    tmp_path: Path, fixtures: Path
) -> None:
    run = _chinese_run(tmp_path / "run", fixtures)
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            "semantic",
            str(run),
            "--out",
            str(tmp_path / "out"),
            "--json",
            "--test",
            "paired",
            "--draw",
            "permutation",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["settings"]["models"] == {"run": MULTILINGUAL_MODEL}
    assert payload["settings"]["languages"] == {"run": "zh"}
    assert (payload["settings"]["test"], payload["settings"]["draw"]) == ("paired", "permutation")


def _english_run(folder: Path) -> Path:
    """Four demo cards, each client saying the first two sentences of its complaint."""
    cards = [card.to_dict() for card in load_cards("demo_en").cards][:4]
    records = []
    for i, card in enumerate(cards):
        said = str(card["chief_complaint"]).split(". ")[:2]
        records.append(engine_record(f"e{i}", card, [said[0], "Go on.", said[1], "I see."]))
    return write_run(folder, records)


def test_each_corpus_is_scored_with_its_own_languages_model(tmp_path: Path, fixtures: Path) -> None:
    english = _english_run(tmp_path / "english")
    chinese = _chinese_run(tmp_path / "chinese", fixtures)

    def evaluate(*runs: Path, out: str) -> dict[str, Any]:
        args = ["evaluate", "semantic", *map(str, runs), "--out", str(tmp_path / out), "--json"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        payload: dict[str, Any] = json.loads(result.stdout)
        return payload

    alone = evaluate(english, out="alone")
    together = evaluate(english, chinese, out="together")
    # The English corpus scores the same beside a Chinese one: each has its own model.
    assert together["corpora"][0]["scores"] == alone["corpora"][0]["scores"]
    assert together["settings"]["models"] == {
        "english": default_model("en"),
        "chinese": MULTILINGUAL_MODEL,
    }
    assert [c["method"] for c in together["corpora"]] == [default_model("en"), MULTILINGUAL_MODEL]
    markdown = (tmp_path / "together" / "semantic.md").read_text(encoding="utf-8")
    assert f"| english | {default_model('en')} |" in markdown
    assert f"| chinese | {MULTILINGUAL_MODEL} |" in markdown
