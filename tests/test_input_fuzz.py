"""Fuzzing the readers of user files: whatever the bytes, only InputError comes out.

Card files (JSON Lines, JSON, TOML, reference .txt), recipes and corpora are written
with arbitrary bytes and with arbitrary JSON-like structures; each reader must load
them or raise its InputError subclass naming the file, never anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interactive_agents.corpora._readers import load_corpus
from interactive_agents.errors import CardError, ConfigError, InputError
from interactive_agents.method._cards import load_cards
from interactive_agents.method._config import build_config

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# JSON-like values, including the awkward ones: bools for ids, huge integers, NaN-free floats.
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
CARD_KEYS = [
    "id", "chief_complaint", "gender", "age", "personality", "resistance", "openness",
    "level", "explanation", "neuroticism",
]  # fmt: skip
card_like = st.dictionaries(
    st.sampled_from(CARD_KEYS) | st.text(max_size=8), json_values, max_size=6
)
CORPUS_KEYS = ["id", "turns", "messages", "role", "content", "card", "card_id", "language"]
corpus_like = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(CORPUS_KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


def refused(load: Callable[[], object], kind: type[InputError]) -> InputError | None:
    """None if it loads, the error if it is refused as ``kind``; anything else fails."""
    try:
        load()
    except kind as error:
        return error
    return None


def dumps(value: Any) -> bytes:
    """JSON text of any generated value (orjson refuses integers past 64 bits)."""
    return json.dumps(value, ensure_ascii=False).encode()


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".toml", ".txt"])
@FUZZ
@given(content=st.binary(max_size=300))
def test_card_files_of_any_bytes(tmp_path: Path, suffix: str, content: bytes) -> None:
    path = tmp_path / f"train_0{suffix}"
    path.write_bytes(content)
    error = refused(partial(load_cards, path, pool=tmp_path / "pool.json"), CardError)
    assert error is None or error.file is not None
    skipping = partial(load_cards, path, skip_invalid=True, pool=tmp_path / "pool.json")
    error = refused(skipping, CardError)
    assert error is None or error.record is None  # only whole-file problems stop a skip


@FUZZ
@given(records=st.lists(card_like | json_values, max_size=5))
def test_card_records_of_any_structure(tmp_path: Path, records: list[Any]) -> None:
    as_list = tmp_path / "cards.json"
    as_list.write_bytes(dumps(records))
    as_lines = tmp_path / "cards.jsonl"
    as_lines.write_bytes(b"\n".join(dumps(r) for r in records))
    for path in (as_list, as_lines):
        refused(partial(load_cards, path), CardError)
        for card in load_cards(path, skip_invalid=True).cards:  # the valid records
            assert isinstance(card.id, str) and card.chief_complaint.strip()


TEXT_KEYS = [
    "性别",
    "年龄",
    "开放性",
    "神经质",
    "对心理咨询的阻抗程度",
    "来访者的主诉问题",
    "大五人格",
]


@FUZZ
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(TEXT_KEYS) | st.text(max_size=6), st.text(max_size=20)),
        max_size=8,
    ),
    pool=json_values,
)
def test_reference_text_cards_of_any_lines(
    tmp_path: Path, lines: list[tuple[str, str]], pool: Any
) -> None:
    (tmp_path / "client_pool_train.json").write_bytes(dumps(pool))
    card = tmp_path / "train_0.txt"
    card.write_text("\n".join(f"{key}：{value}" for key, value in lines), encoding="utf-8")
    refused(partial(load_cards, card), CardError)


@FUZZ
@given(content=st.binary(max_size=300))
def test_recipes_of_any_bytes(tmp_path: Path, content: bytes) -> None:
    recipe = tmp_path / "recipe.toml"
    recipe.write_bytes(content)
    error = refused(partial(build_config, recipe), ConfigError)
    assert error is None or error.file == str(recipe)


RECIPE_KEYS = [
    "language", "max_turns", "seed", "client", "counselor", "endpoint", "refiner",
    "stages", "terminator", "cards", "base_urls", "model", "api_key_env", "concurrency",
    "temperature", "max_attempts", "middle_from", "mode", "phrases",
]  # fmt: skip
toml_scalars = (
    st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=15)
)
recipe_tables = st.dictionaries(
    st.sampled_from(RECIPE_KEYS),
    st.recursive(
        toml_scalars,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(RECIPE_KEYS), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    max_size=5,
)


@FUZZ
@given(table=recipe_tables)
def test_recipes_of_any_structure(table: dict[str, Any]) -> None:
    """Every table is reached through dotted overrides, the way the CLI passes flags."""
    refused(partial(build_config, None, dict(_dotted(table))), ConfigError)


def _dotted(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    pairs: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict) and value:
            pairs += _dotted(value, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
@FUZZ
@given(content=st.binary(max_size=300))
def test_corpora_of_any_bytes(tmp_path: Path, suffix: str, content: bytes) -> None:
    path = tmp_path / f"corpus{suffix}"
    path.write_bytes(content)
    for skip in (False, True):
        error = refused(partial(load_corpus, path, skip_invalid=skip), InputError)
        assert error is None or error.file == str(path)


@FUZZ
@given(records=st.lists(corpus_like, max_size=4))
def test_corpora_of_any_structure(tmp_path: Path, records: list[Any]) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / "a.json").write_bytes(dumps(records))
    (folder / "b.jsonl").write_bytes(b"\n".join(dumps(r) for r in records))
    if records:
        (folder / "raw_1².json").write_bytes(dumps(records[0]))
    refused(partial(load_corpus, folder), InputError)
    corpus = load_corpus(folder, skip_invalid=True)
    assert all(isinstance(d.id, str) for d in corpus.dialogues)


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe", b"[" * 3000 + b"]" * 3000, b'[{"id": ' + b"9" * 5000 + b"}]", b'[{"role": []}]'],
)
def test_evaluate_stats_reports_a_bad_corpus_in_one_line(tmp_path: Path, content: bytes) -> None:
    from click.testing import CliRunner

    from interactive_agents.cli import main

    corpus = tmp_path / "corpus.json"
    corpus.write_bytes(content)
    result = CliRunner().invoke(
        main, ["evaluate", "stats", str(corpus), "--out", str(tmp_path / "stats")]
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and str(corpus) in result.output
