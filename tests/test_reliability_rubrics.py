"""Rubric fingerprints: judged reports say which rubric scored each corpus, never mix them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation._wai import load_wai_judge
from interactive_agents.judging._rubrics import require_one_rubric, rubric_fingerprint
from interactive_agents.testing import FakeServer

from .support import engine_record, write_run


def test_the_fingerprint_follows_the_card_and_the_model() -> None:
    en, zh = load_wai_judge("en"), load_wai_judge("zh")
    assert rubric_fingerprint(en, "m") == rubric_fingerprint(load_wai_judge("en"), "m")
    assert rubric_fingerprint(en, "m") != rubric_fingerprint(zh, "m")
    assert rubric_fingerprint(en, "m") != rubric_fingerprint(en, "other")
    require_one_rubric({"a": "x", "b": "x"})
    with pytest.raises(ConfigError, match="different rubrics"):
        require_one_rubric({"a": "x", "b": "y"})
    require_one_rubric({"a": "x", "b": "y"}, force=True)


def _wai(server: FakeServer, tmp_path: Path, *extra: str) -> tuple[int, str, Path]:
    en = write_run(tmp_path / "en", [engine_record("d1", None, ["I feel stuck.", "Go on."])])
    zh = write_run(
        tmp_path / "zh", [engine_record("d1", None, ["我很迷茫。", "请继续说说。"], "zh")]
    )
    out = tmp_path / "report"
    args = [
        "evaluate", "wai", str(en), str(zh), "--out", str(out), "--rounds", "1",
        "--base-url", server.base_url, "--model", "judge", "--quiet", *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output, out


def test_wai_refuses_to_compare_corpora_scored_with_different_cards(
    server: FakeServer, tmp_path: Path
) -> None:
    server.script = lambda call: "Final score: 4"
    code, output, _ = _wai(server, tmp_path)  # auto: an English and a Chinese card
    assert code == 2 and "different rubrics" in output and "--force-mix-rubrics" in output
    forced, output, out = _wai(server, tmp_path, "--force-mix-rubrics")
    assert forced == 0, output
    rubrics = json.loads((out / "wai.json").read_text())["settings"]["rubrics"]
    assert set(rubrics) == {"en", "zh"} and rubrics["en"] != rubrics["zh"]
    same, output, out = _wai(server, tmp_path, "--language", "en")
    assert same == 0, output
    rubrics = json.loads((out / "wai.json").read_text())["settings"]["rubrics"]
    assert rubrics["en"] == rubrics["zh"] == rubric_fingerprint(load_wai_judge("en"), "judge")
