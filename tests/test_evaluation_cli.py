"""``interactive-agents evaluate``: reports on disk, JSON output, errors and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from interactive_agents.cli import main
from interactive_agents.evaluation import JudgeMonitor

from .support import CARD_A, HAND_MAPPING, engine_record, hand_run, write_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["evaluate", *args])


def _report(folder: Path, command: str) -> tuple[Any, str]:
    payload = json.loads((folder / f"{command}.json").read_text(encoding="utf-8"))
    return payload, (folder / f"{command}.md").read_text(encoding="utf-8")


def _assert_png(path: Path) -> None:
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_stats_report(tmp_path: Path, fixtures: Path) -> None:
    out = tmp_path / "report"
    result = _run(
        "stats", str(hand_run(tmp_path / "run")), str(fixtures / "dialogues"), "--out", str(out)
    )

    assert result.exit_code == 0, result.output
    assert "Dataset statistics" in result.stdout
    assert f"Report: {out / 'stats.md'}" in result.stdout
    payload, markdown = _report(out, "stats")
    run, dialogues = payload["corpora"]
    assert (run["name"], run["conversations"], run["avg_turns"]) == ("run", 4, 1.75)
    assert (dialogues["name"], dialogues["min_turns"], dialogues["max_turns"]) == (
        "dialogues",
        10,
        12,
    )
    assert run["skipped_invalid"] == 0
    assert "| conversations | 4 | 2 |" in markdown
    assert "| average turns (min-max) | 1.75 (1-2) | 11.00 (10-12) |" in markdown
    assert "![Turns per conversation](turns.png)" in markdown
    _assert_png(out / "turns.png")


def test_json_flag_prints_what_the_report_holds(tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = _run("stats", str(hand_run(tmp_path / "run")), "--out", str(out), "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == _report(out, "stats")[0]


def test_equal_corpus_names_are_told_apart(tmp_path: Path) -> None:
    run = str(hand_run(tmp_path / "run"))
    result = _run("stats", run, run, "--out", str(tmp_path / "report"), "--json")

    assert [c["name"] for c in json.loads(result.stdout)["corpora"]] == ["run#1", "run#2"]


def test_overlap_report(tmp_path: Path) -> None:
    out = tmp_path / "report"
    run = str(hand_run(tmp_path / "run"))
    result = _run("overlap", run, "--out", str(out), "--seed", "4", "--language", "en")

    assert result.exit_code == 0, result.output
    assert "Vocabulary overlap rate" in result.stdout
    payload, markdown = _report(out, "overlap")
    assert payload["settings"] == {
        "seed": 4,
        "test": "student",
        "draw": "independent",
        "language": "en",
        "stopwords": 0,
    }
    (corpus,) = payload["corpora"]
    assert [s["mapping"] for s in corpus["scores"]] == pytest.approx(HAND_MAPPING)
    assert corpus["mapping"]["mean"] == pytest.approx(sum(HAND_MAPPING) / 3)
    assert corpus["random"] == {"n": 3, "mean": 0.0, "std": 0.0}
    assert corpus["t_statistic"] > 0
    assert corpus["without_card"] == 1
    assert corpus["plot"] == "overlap-1-run.png"
    assert "![run](overlap-1-run.png)" in markdown
    assert "| run | regex (en) | 3 |" in markdown
    _assert_png(out / corpus["plot"])


def test_overlap_stopwords_file(tmp_path: Path) -> None:
    stopwords = tmp_path / "stop.txt"
    stopwords.write_text("chief\ncomplaint\n", encoding="utf-8")
    run = str(hand_run(tmp_path / "run"))
    args = ["--language", "en", "--stopwords", str(stopwords), "--json"]
    result = _run("overlap", run, "--out", str(tmp_path / "report"), *args)

    (corpus,) = json.loads(result.stdout)["corpora"]
    # Without "chief" and "complaint", card A has 7 words and card B 5: 3/7, 4/5, 5/7.
    assert [s["mapping"] for s in corpus["scores"]] == pytest.approx([3 / 7, 4 / 5, 5 / 7])
    assert corpus["method"] == "regex (en) - 2 stop words"


def test_semantic_report_with_the_offline_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = tmp_path / "report"
    result = _run("semantic", str(hand_run(tmp_path / "run")), "--out", str(out), "--device", "cpu")

    assert result.exit_code == 0, result.output
    payload, markdown = _report(out, "semantic")
    assert payload["settings"] == {
        "seed": 0,
        "test": "student",
        "draw": "independent",
        "models": {"run": "all-MiniLM-L6-v2"},
        "languages": {"run": "en"},
    }
    (corpus,) = payload["corpora"]
    assert corpus["method"] == "all-MiniLM-L6-v2"
    # Three sessions: the t-test runs, and the report says it cannot detect a large effect.
    assert corpus["sample"] == "too small: detects only d >= 3.07 with 80% power"
    assert "too small: detects only d >= 3.07 with 80% power" in markdown
    assert all(s["mapping"] > s["random"] for s in corpus["scores"])
    assert "# Semantic consistency (Eq. 2, docs/method.md#semantic-consistency-eq-2)" in markdown
    _assert_png(out / corpus["plot"])


def test_malformed_record_exits_2_naming_file_record_and_field(tmp_path: Path) -> None:
    bad = engine_record("bad", CARD_A, ["Hello", "Hi"])
    bad["turns"][1]["content"] = None
    run = write_run(tmp_path / "run", [engine_record("ok", CARD_A, ["Hello", "Hi"]), bad])
    out = tmp_path / "report"
    result = _run("stats", str(run), "--out", str(out))

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"Error: {run / 'dialogues.jsonl'}, record 2, field 'turns[1].content': "
        "expected a string, got NoneType"
    )
    assert not out.exists()

    result = _run("stats", str(run), "--out", str(out), "--skip-invalid", "--json")
    assert result.exit_code == 0, result.output
    (corpus,) = json.loads(result.stdout)["corpora"]
    assert (corpus["conversations"], corpus["skipped_invalid"]) == (1, 1)
    assert "record 2" in corpus["invalid"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["stats", "{tmp}/missing"], "missing: no such file or folder"),
        (["overlap", "{fixtures}/dialogues"], "at least two different role cards, found 0"),
        (["semantic", "{run}", "--model", "{tmp}/no-model"], "cannot load the embedding model"),
    ],
)
def test_input_errors_exit_2(tmp_path: Path, fixtures: Path, args: list[str], message: str) -> None:
    run = hand_run(tmp_path / "run")
    filled = [a.format(tmp=tmp_path, fixtures=fixtures, run=run) for a in args]
    result = _run(*filled, "--out", str(tmp_path / "report"))

    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize("command", ["stats", "overlap", "semantic"])
def test_help_has_examples(command: str) -> None:
    result = _run(command, "--help")

    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"interactive-agents evaluate {command} runs/a --out reports/{command}" in result.stdout
    assert "--skip-invalid" in result.stdout
    assert "--json" in result.stdout
    assert "CORPUS is an engine run directory" in result.stdout


@pytest.mark.parametrize("command", ["stats", "overlap", "semantic", "topics", "wai", "quality"])
def test_help_shows_the_defaults_of_the_configuration(command: str) -> None:
    options = " ".join(_run(command, "--help").stdout.partition("Options:")[2].split())
    assert "--limit INTEGER RANGE Only the first N dialogues of each corpus. [default: all;" in (
        options
    )
    assert "--skip-invalid Leave malformed records out" in options
    if command in ("topics", "wai"):
        assert "Nucleus sampling top-p (judge). [default: 0.9;" in options
        assert "Independent rounds per judgement. [default: 3;" in options
        assert "Requests in flight at once (judge). [default: 64; 1 for the embedded" in options


def test_group_help_lists_the_subcommands() -> None:
    result = _run("--help")

    assert result.exit_code == 0
    for command in ("stats", "overlap", "semantic"):
        assert command in result.stdout


def test_ctrl_c_in_a_judged_command_summarises_and_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interactive_agents.cli._evaluate import _wai as command

    async def interrupted(*args: Any, monitor: JudgeMonitor) -> None:
        monitor.progress.total, monitor.progress.done, monitor.progress.calls = 24, 7, 7
        monitor.run.cache_file = "wai.cache.jsonl"
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "evaluate_wai", interrupted)
    out = tmp_path / "out"
    result = _run(
        "wai",
        str(hand_run(tmp_path / "run")),
        "--out",
        str(out),
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "judge",
        "--quiet",
    )
    assert result.exit_code == 130
    assert "interrupted: 7 of 24 judgements done (7 calls" in result.stderr
    assert str(out / "wai.cache.jsonl") in result.stderr


def test_ctrl_c_in_a_local_command_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interactive_agents.cli._evaluate import _stats as command

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "evaluate_stats", interrupted)
    result = _run("stats", str(hand_run(tmp_path / "run")), "--out", str(tmp_path / "out"))
    assert result.exit_code == 130
    assert "interrupted: evaluate stats stopped before writing its report" in result.stderr


def test_semantic_shows_embedding_progress_and_quiet_hides_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long command: a progress bar while embedding (stderr), none with --quiet, and
    --quiet prints no table either; the report is written both times, identical."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    run = hand_run(tmp_path / "run")
    shown = _run("semantic", str(run), "--out", str(tmp_path / "a"), "--device", "cpu")
    assert shown.exit_code == 0, shown.output
    assert "embedding" in shown.stderr and "Semantic consistency" in shown.stdout
    quiet = _run("semantic", str(run), "--out", str(tmp_path / "b"), "--device", "cpu", "-q")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and "embedding" not in quiet.stderr
    first, second = _report(tmp_path / "a", "semantic")[0], _report(tmp_path / "b", "semantic")[0]
    assert first["corpora"] == second["corpora"]
    for command in ("stats", "overlap"):
        silent = _run(command, str(run), "--out", str(tmp_path / command), "--quiet")
        assert silent.exit_code == 0 and silent.stdout == ""
        assert (tmp_path / command / f"{command}.json").is_file()
