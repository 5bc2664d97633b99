"""``evaluate`` judges each corpus under the rules of the language its records state; it
guesses from the text only when they state none (a small model's Chinese sessions full of
English template words are still Chinese)."""

from __future__ import annotations

from pathlib import Path

import orjson

from interactive_agents.corpora import load_corpus
from interactive_agents.evaluation import choose_language

ENGLISH_LOOKING = "<|im_end|> user assistant I am fine thank you, how can I help"


def _write(path: Path, language: str | None) -> Path:
    records = []
    for n in range(3):
        record: dict[str, object] = {
            "id": f"s{n}",
            "turns": [
                {"role": "client", "content": ENGLISH_LOOKING},
                {"role": "counselor", "content": "你好，今天想聊些什么？"},
            ],
        }
        if language is not None:
            record["language"] = language
        records.append(record)
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n")
    return path


def test_the_language_the_records_state_wins_over_their_text(tmp_path: Path) -> None:
    corpus = load_corpus(_write(tmp_path / "zh.jsonl", "zh"))
    assert choose_language(corpus, "auto") == "zh"
    assert choose_language(corpus, "en") == "en"  # a language given on the command line


def test_records_that_state_no_language_are_read_for_it(tmp_path: Path) -> None:
    corpus = load_corpus(_write(tmp_path / "plain.jsonl", None))
    assert choose_language(corpus, "auto") == "en"
