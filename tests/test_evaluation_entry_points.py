"""The evaluations without an LLM from Python: one call reads the corpora under an
``EvaluationConfig``, writes the report and returns what it says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from interactive_agents import build_config
from interactive_agents.corpora import load_corpus
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation import (
    ConsistencyResult,
    CorpusQuality,
    CorpusStats,
    Evaluation,
    EvaluationConfig,
    evaluate_overlap,
    evaluate_quality,
    evaluate_semantic,
    evaluate_stats,
)

from .support import (
    CARD_A,
    HAND_DIALOGUES,
    HAND_MAPPING,
    engine_record,
    hand_run,
    write_run,
)


def _config(**overrides: Any) -> EvaluationConfig:
    return build_config(None, overrides, kind=EvaluationConfig)


def _written(evaluation: Evaluation[Any], command: str) -> None:
    """The report on disk is the one returned, and the summary is its table."""
    folder = evaluation.report.parent
    assert evaluation.report == folder / f"{command}.md"
    on_disk = json.loads((folder / f"{command}.json").read_bytes())
    assert on_disk == json.loads(orjson.dumps(evaluation.payload))
    markdown = evaluation.report.read_text(encoding="utf-8")
    for row in evaluation.table.rows:
        assert "| " + " | ".join(row) + " |" in markdown


def test_stats_of_paths_and_corpora_with_equal_names_told_apart(
    tmp_path: Path, fixtures: Path
) -> None:
    run = hand_run(tmp_path / "run")
    dialogues = load_corpus(fixtures / "dialogues")
    done = evaluate_stats([run, dialogues, str(run)], _config(), tmp_path / "out")
    assert all(isinstance(figures, CorpusStats) for figures in done.results)
    assert [s.name for s in done.results] == ["run#1", "dialogues", "run#2"]
    assert [s.conversations for s in done.results] == [4, 2, 4]
    assert done.table.title == "Dataset statistics"
    assert done.table.headers == ["", "run#1", "dialogues", "run#2"]
    assert done.table.rows[0] == ["conversations", "4", "2", "4"]
    assert done.payload["plots"] == ["turns.png"]
    _written(done, "stats")


def test_limit_and_skip_invalid_apply_to_every_corpus(tmp_path: Path) -> None:
    bad = engine_record("bad", CARD_A, ["Hello", "Hi"])
    bad["turns"][1]["content"] = None
    records = [engine_record(*dialogue) for dialogue in HAND_DIALOGUES]
    run = write_run(tmp_path / "run", [*records, bad])
    done = evaluate_stats([run], _config(limit=2, skip_invalid=True), tmp_path / "out")
    assert done.results[0].conversations == 2
    assert done.payload["corpora"][0]["skipped_invalid"] == 1
    assert done.table.rows[-1] == ["records skipped as invalid", "1"]


def test_overlap_under_its_table(tmp_path: Path) -> None:
    stopwords = tmp_path / "stop.txt"
    stopwords.write_text("chief\n", encoding="utf-8")
    config = _config(**{"seed": 3, "overlap.test": "paired", "overlap.stopwords": str(stopwords)})
    done = evaluate_overlap([hand_run(tmp_path / "run")], config, tmp_path / "out")
    (result,) = done.results
    assert isinstance(result, ConsistencyResult) and result.test == "paired"
    assert result.method == "regex (en) - 1 stop words"
    assert done.payload["settings"] == {
        "seed": 3,
        "test": "paired",
        "draw": "independent",
        "language": "auto",
        "stopwords": 1,
    }
    assert done.table.title == "Vocabulary overlap rate (mean ± std)"
    assert done.table.rows[0][:3] == ["run", "regex (en) - 1 stop words", "3"]
    _written(done, "overlap")

    plain = evaluate_overlap([hand_run(tmp_path / "plain")], _config(), tmp_path / "plain-out")
    assert [s.mapping for s in plain.results[0].scores] == pytest.approx(HAND_MAPPING)


def test_semantic_chooses_the_model_and_reports_each_batch_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedded: list[int] = []
    config = _config(**{"semantic.device": "cpu", "semantic.test": "paired"})
    run = hand_run(tmp_path / "run")
    done = evaluate_semantic([run], config, tmp_path / "out", on_embedded=embedded.append)
    (result,) = done.results
    assert result.method == "all-MiniLM-L6-v2" and result.test == "paired"
    assert sum(embedded) == 3 + 2  # the three carded clients' texts, then the two cards
    assert done.payload["settings"]["languages"] == {"run": "en"}
    assert done.table.title == "Semantic consistency (mean ± std)"
    _written(done, "semantic")


def test_semantic_refuses_an_english_only_model_on_a_chinese_corpus(tmp_path: Path) -> None:
    run = hand_run(tmp_path / "run")
    config = _config(**{"language": "zh", "semantic.model": "all-MiniLM-L6-v2"})
    with pytest.raises(ConfigError, match="English-only") as error:
        evaluate_semantic([run], config, tmp_path / "out")
    assert error.value.field == "semantic.model"
    assert not (tmp_path / "out").exists()


def test_quality_under_the_configured_thresholds(tmp_path: Path) -> None:
    run = hand_run(tmp_path / "run")
    lenient = evaluate_quality([run], _config(language="en"), tmp_path / "a")
    strict = evaluate_quality(
        [run], _config(**{"language": "en", "quality.thresholds.closure_turns": 1}), tmp_path / "b"
    )
    for done in (lenient, strict):
        (result,) = done.results
        assert isinstance(result, CorpusQuality) and len(result.sessions) == 4
        assert done.table.title == "Session quality: share of sessions flagged"
        _written(done, "quality")
    assert strict.payload["thresholds"]["premature_closure"] == 1
    assert lenient.payload["thresholds"]["premature_closure"] == 8
