"""Quality flags computed by ``simulate --quality-flags``, and read back by export and evaluate.

A scripted client echoes the counselor verbatim in one card's sessions and speaks for
itself in the others; the records carry the flags, the summary counts them, ``export``
and ``evaluate quality`` use them when their rules are the same and compute them again
when they are not.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
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
    QualityThresholds,
    load_quality_rules,
)
from interactive_agents.testing import Call, FakeServer

from .support import base_args, read_records

ECHOING_CARD = "demo-en-01"  # the accountant: her client echoes the counselor
QUESTIONS = (
    "What brings you here today, and what would you like to be different?",
    "When the worry starts at night, what is the first thought you notice?",
    "Who could you ask for support this week, even in a small way?",
)
ANSWERS = (
    "My chest gets tight and I stare at the ceiling until dawn.",
    "Mostly that everyone will find out I am not coping at all.",
)


def _script(call: Call) -> str:
    if call.role == "counselor":
        return QUESTIONS[(call.turn - 1) % len(QUESTIONS)]
    if "accountant" in call.system:
        return call.last_user  # a verbatim echo of the counselor's last reply
    return ANSWERS[(call.turn - 2) % len(ANSWERS)]


def _simulate(server: FakeServer, out: Path, *extra: str) -> dict[str, Any]:
    server.script = _script
    result = CliRunner().invoke(main, [*base_args(server, out), "--json", *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = orjson.loads(result.stdout)
    return summary


def _default_flagger() -> Flagger:
    return Flagger.of(load_quality_rules(load_prompts("en")))


def _evaluate(run: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["evaluate", "quality", str(run), "--out", str(out), "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    (corpus,) = orjson.loads(result.stdout)["corpora"]
    return dict(corpus)


def _export(run: Path, out: Path, *extra: str) -> dict[str, Any]:
    args = ["export", "--run", str(run), "--out", str(out), "--val-ratio", "0", "--json", "-q"]
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, Any] = orjson.loads(result.stdout)
    return summary


def _rewrite(run: Path, change: Any) -> None:
    """Apply ``change`` to every record of the run, in place."""
    records = [change(record) for record in read_records(run / "dialogues.jsonl")]
    (run / "dialogues.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def test_records_carry_the_flags_and_the_summary_counts_them(
    server: FakeServer, tmp_path: Path
) -> None:
    summary = _simulate(server, tmp_path / "run", "--limit", "3", "--quality-flags")
    records = {r["id"]: r for r in read_records(tmp_path / "run" / "dialogues.jsonl")}
    assert len(records) == 3
    flagger = _default_flagger()
    for ident, record in records.items():
        quality = record["quality"]
        assert list(quality["flags"]) == list(FLAG_NAMES)
        assert quality["rules"] == flagger.fingerprint
        assert quality["thresholds"] == asdict(QualityThresholds(leak_ngram=6, leak_words=3))
        echo = quality["flags"]["echo"]
        if ident == ECHOING_CARD:
            assert echo == {"value": 1.0, "threshold": 0.6, "flagged": True, "turn": 2}
            # Echoing the counselor's questions is speaking as the counselor, too.
            assert quality["raised"] == ["echo", "role_flip"]
        else:
            assert not echo["flagged"] and echo["value"] < 0.6 and quality["raised"] == []
        raised = [name for name, flag in quality["flags"].items() if flag["flagged"]]
        assert raised == quality["raised"]
    counts = summary["quality_flags"]
    assert counts == {name: int(name in ("echo", "role_flip")) for name in FLAG_NAMES}


def test_without_the_flag_records_have_no_quality(server: FakeServer, tmp_path: Path) -> None:
    summary = _simulate(server, tmp_path / "run", "--limit", "2")
    assert summary["quality_flags"] is None
    records = read_records(tmp_path / "run" / "dialogues.jsonl")
    assert len(records) == 2 and all(record["quality"] is None for record in records)


def test_a_resumed_run_may_turn_the_flags_on(server: FakeServer, tmp_path: Path) -> None:
    run = tmp_path / "run"
    _simulate(server, run, "--limit", "1")
    before = orjson.loads((run / "manifest.json").read_bytes())["fingerprint"]
    summary = _simulate(server, run, "--limit", "2", "--quality-flags")
    assert summary["already_done"] == 1 and summary["finished"] == 1
    manifest = orjson.loads((run / "manifest.json").read_bytes())
    assert manifest["fingerprint"] == before and manifest["config"]["quality"]["enabled"]
    first, second = read_records(run / "dialogues.jsonl")
    assert first["quality"] is None and second["quality"]["raised"] == []


def test_recipe_thresholds_are_applied_and_named_in_the_record(
    server: FakeServer, tmp_path: Path
) -> None:
    recipe = tmp_path / "flags.toml"
    recipe.write_text("[quality]\nenabled = true\n[quality.thresholds]\necho = 1.01\n")
    summary = _simulate(server, tmp_path / "run", "--limit", "1", "--recipe", str(recipe))
    assert summary["quality_flags"]["echo"] == 0
    (record,) = read_records(tmp_path / "run" / "dialogues.jsonl")
    assert record["quality"]["thresholds"]["echo"] == 1.01
    assert record["quality"]["flags"]["echo"] == {
        "value": 1.0,
        "threshold": 1.01,
        "flagged": False,
        "turn": 2,
    }
    assert record["quality"]["rules"] != _default_flagger().fingerprint


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ("[quality.thresholds]\necho = -0.5", "quality.thresholds.echo"),
        ("[quality.thresholds]\nleak_ngram = 0", "quality.thresholds.leak_ngram"),
        ("[quality.thresholds]\nloudness = 2", "quality.thresholds.loudness"),
        ("[quality]\nenabled = 'yes'", "quality.enabled"),
    ],
)
def test_a_bad_quality_table_names_the_field(tmp_path: Path, table: str, field: str) -> None:
    recipe = tmp_path / "bad.toml"
    recipe.write_text(table + "\n")
    result = CliRunner().invoke(main, ["simulate", "--recipe", str(recipe)])
    assert result.exit_code == 2 and f"field '{field}'" in result.output


def test_export_exclude_flag_removes_the_echoing_sessions(
    server: FakeServer, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    _simulate(server, run, "--limit", "3", "--quality-flags")
    summary = _export(run, tmp_path / "data.jsonl", "--exclude-flag", "echo")
    assert summary["dialogues_read"] == 3 and summary["dialogues_kept"] == 2
    assert summary["dropped"] == {"quality_flags": 1}
    assert summary["removed_by_flag"] == {"echo": 1} and summary["train_dialogues"] == 2
    lines = (tmp_path / "data.jsonl").read_bytes().splitlines()
    exported = {orjson.loads(line)["id"].rsplit("-", 1)[0] for line in lines}
    assert lines and ECHOING_CARD not in exported  # the two others' samples are identical


def test_export_uses_stored_flags_only_under_the_same_rules(
    server: FakeServer, tmp_path: Path
) -> None:
    """A stored flag that the transcript does not show is believed while its rules match,
    and computed again (so not raised) once they do not."""
    run = tmp_path / "run"
    _simulate(server, run, "--limit", "3", "--quality-flags")

    def claim_closure(record: dict[str, Any]) -> dict[str, Any]:
        if record["id"] == "demo-en-02":
            record["quality"]["flags"]["premature_closure"]["flagged"] = True
        return record

    _rewrite(run, claim_closure)
    stored = _export(run, tmp_path / "a.jsonl", "--exclude-flag", "premature_closure")
    assert stored["removed_by_flag"] == {"premature_closure": 1}

    def other_rules(record: dict[str, Any]) -> dict[str, Any]:
        record["quality"]["rules"] = "0" * 16
        return record

    _rewrite(run, other_rules)
    computed = _export(run, tmp_path / "b.jsonl", "--exclude-flag", "premature_closure")
    assert computed["removed_by_flag"] == {} and computed["dialogues_kept"] == 3


def test_stored_flags_equal_evaluate_qualitys_recomputation(
    server: FakeServer, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    _simulate(server, run, "--limit", "3", "--quality-flags")
    stored = _evaluate(run, tmp_path / "stored")
    assert stored["stored_flags"] == 3
    bare = tmp_path / "bare"
    shutil.copytree(run, bare)
    _rewrite(bare, lambda record: {**record, "quality": None})
    recomputed = _evaluate(bare, tmp_path / "recomputed", "--language", "en")
    assert recomputed["stored_flags"] == 0
    assert recomputed["dialogues"] == stored["dialogues"]
    assert recomputed["rates"] == stored["rates"] and recomputed["rates"]["echo"] == 1 / 3
    records = {r["id"]: r["quality"] for r in read_records(run / "dialogues.jsonl")}
    for dialogue in recomputed["dialogues"]:
        assert dialogue["flags"] == records[dialogue["id"]]["flags"]
        assert dialogue["raised"] == records[dialogue["id"]]["raised"]
    # Other thresholds than the run's: nothing stored is used.
    strict = _evaluate(run, tmp_path / "strict", "--threshold", "echo=1.01")
    assert strict["stored_flags"] == 0 and strict["rates"]["echo"] == 0


def test_simulate_help_shows_the_option_and_an_example() -> None:
    result = CliRunner().invoke(main, ["simulate", "--help"])
    assert result.exit_code == 0
    options, _, examples = result.output.partition("Examples:")
    assert "--quality-flags" in options and "--quality-flags" in examples


def test_the_summary_table_counts_the_sessions_flagged(server: FakeServer, tmp_path: Path) -> None:
    server.script = _script
    args = [a for a in base_args(server, tmp_path / "run") if a != "--quiet"]
    result = CliRunner().invoke(main, [*args, "--limit", "2", "--quality-flags"])
    assert result.exit_code == 0, result.output
    assert "sessions flagged" in result.output
    assert "echo 1, repetition 0," in result.output  # the start of the (folded) row


def test_a_record_edited_after_the_run_is_flagged_again(server: FakeServer, tmp_path: Path) -> None:
    run = tmp_path / "run"
    _simulate(server, run, "--limit", "3", "--quality-flags")

    def redact(record: dict[str, Any]) -> dict[str, Any]:
        if record["id"] == ECHOING_CARD:
            for turn in record["turns"][2::2]:  # the client's echoes
                turn["content"] = "[redacted]"
        return record

    _rewrite(run, redact)
    corpus = _evaluate(run, tmp_path / "report")
    assert corpus["stored_flags"] == 2 and corpus["rates"]["echo"] == 0
    assert _export(run, tmp_path / "d.jsonl", "--exclude-flag", "echo")["removed_by_flag"] == {}


def test_two_shards_count_the_flags_of_every_session(server: FakeServer, tmp_path: Path) -> None:
    # The shards are processes of their own: the summary sums their counts.
    summary = _simulate(
        server, tmp_path / "run", "--limit", "3", "--quality-flags", "--workers", "2"
    )
    assert summary["shards"]["count"] == 2
    records = read_records(tmp_path / "run" / "dialogues.jsonl")
    assert len(records) == 3
    raised = [name for record in records for name in record["quality"]["raised"]]
    counts = summary["quality_flags"]
    assert counts == {name: raised.count(name) for name in FLAG_NAMES}
    assert counts["echo"] == 1
