"""Battle records: JSON Lines round trip and errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from interactive_agents.arena._battles import Battle, read_battles, write_battles
from interactive_agents.errors import InputError


def _battle(**changes: Any) -> Battle:
    fields: dict[str, Any] = {
        "dialogue_id": "d1",
        "turn": 3,
        "bot_a": "SoulChat",
        "bot_b": "MeChat",
        "shown_order": "ba",
        "winner": "a",
        "judge": "qwen2-72b",
        "reasoning": "共情更充分，最后的选择：B",
        "timestamp": 1700000000.5,
    }
    fields.update(changes)
    return Battle(**fields)


def _line(**changes: Any) -> bytes:
    data: dict[str, Any] = orjson.loads(orjson.dumps(_battle()))
    data.update(changes)
    return orjson.dumps({k: v for k, v in data.items() if v is not None})


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    battles = [_battle(), _battle(turn=4, winner="tie"), _battle(turn=5, winner="unparsable")]
    path = tmp_path / "battles.jsonl"
    assert write_battles(path, battles) == 3
    assert read_battles(path).battles == battles


def test_lines_are_the_dataclass_fields_in_declared_order(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    write_battles(path, [_battle()])
    record = orjson.loads(path.read_bytes().splitlines()[0])
    assert list(record) == [
        "dialogue_id",
        "turn",
        "bot_a",
        "bot_b",
        "shown_order",
        "winner",
        "judge",
        "reasoning",
        "timestamp",
        "rubric",
        "choices",
        "length_a",
        "length_b",
        "both_bad",
        "refused",
        "safety",
        "gated",
    ]


def test_both_bad_is_a_tie_and_defaults_to_false(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    write_battles(path, [_battle(winner="tie", both_bad=True)])
    assert read_battles(path).battles[0].both_bad is True
    path.write_bytes(_line(both_bad=None) + b"\n")  # a line written before the field existed
    assert read_battles(path).battles[0].both_bad is False
    path.write_bytes(_line(both_bad=True) + b"\n")  # winner "a"
    with pytest.raises(InputError, match="only a tie can be 'both bad'"):
        read_battles(path)
    path.write_bytes(_line(winner="tie", both_bad="yes") + b"\n")
    with pytest.raises(InputError, match="must be true or false"):
        read_battles(path)


def test_choices_and_lengths_round_trip_and_default_when_absent(tmp_path: Path) -> None:
    judged = _battle(choices={"ba": "a", "ab": "unparsable"}, length_a=12, length_b=0)
    path = tmp_path / "battles.jsonl"
    write_battles(path, [judged])
    assert read_battles(path).battles == [judged]
    path.write_bytes(_line(choices=None, length_a=None, length_b=None) + b"\n")
    (old,) = read_battles(path).battles  # a line written before the fields existed
    assert (old.choices, old.length_a, old.length_b) == ({}, None, None)


def test_append_adds_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    write_battles(path, [_battle()])
    write_battles(path, [_battle(turn=9)], append=True)
    assert [b.turn for b in read_battles(path).battles] == [3, 9]


def test_several_files_are_read_in_order(tmp_path: Path) -> None:
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    write_battles(first, [_battle(turn=1)])
    write_battles(second, [_battle(turn=2)])
    assert [b.turn for b in read_battles([second, first]).battles] == [2, 1]


def test_optional_fields_default_and_extra_keys_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_bytes(_line(reasoning=None, timestamp=None, extra="kept out") + b"\n")
    battle = read_battles(path).battles[0]
    assert (battle.reasoning, battle.timestamp) == ("", 0.0)


def test_blank_lines_are_skipped_without_shifting_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_bytes(_line() + b"\n\n" + _line(winner="c") + b"\n")
    with pytest.raises(InputError) as caught:
        read_battles(path)
    assert caught.value.record == 3


def test_usable_is_false_only_for_unparsable() -> None:
    assert [_battle(winner=w).usable for w in ("a", "b", "tie", "unparsable")] == [
        True,
        True,
        True,
        False,
    ]


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_bytes(_line() + b"\n{not json\n")
    with pytest.raises(InputError, match="not valid JSON") as caught:
        read_battles(path)
    assert (caught.value.file, caught.value.record, caught.value.field) == (str(path), 2, None)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"winner": "c"}, "winner", "must be one of"),
        ({"winner": None}, "winner", "missing required field"),
        ({"shown_order": "xy"}, "shown_order", "must be one of"),
        ({"turn": -1}, "turn", "non-negative integer"),
        ({"turn": "3"}, "turn", "non-negative integer"),
        ({"turn": True}, "turn", "non-negative integer"),
        ({"bot_a": ""}, "bot_a", "non-empty string"),
        ({"bot_b": "SoulChat"}, "bot_b", "cannot battle itself"),
        ({"dialogue_id": 7}, "dialogue_id", "non-empty string"),
        ({"judge": None}, "judge", "missing required field"),
        ({"timestamp": "now"}, "timestamp", "must be a number"),
        ({"reasoning": 1}, "reasoning", "must be a string"),
        ({"choices": {"ab": "first"}}, "choices", "must be one of"),
        ({"choices": {"xy": "a"}}, "choices", "must map shown orders"),
        ({"choices": ["ab", "a"]}, "choices", "must map shown orders"),
        ({"length_a": -1}, "length_a", "non-negative integer"),
        ({"length_b": 2.5}, "length_b", "non-negative integer"),
    ],
)
def test_bad_field_names_file_line_and_field(
    tmp_path: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_bytes(_line() + b"\n" + _line(**changes) + b"\n")
    with pytest.raises(InputError, match=message) as caught:
        read_battles(path)
    assert (caught.value.file, caught.value.record, caught.value.field) == (str(path), 2, field)
    assert f"{path}, record 2, field {field!r}" in str(caught.value)


def test_a_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_bytes(b"[1, 2]\n")
    with pytest.raises(InputError, match="expected a JSON object, got list"):
        read_battles(path)


def test_skip_invalid_collects_bad_lines_and_reads_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "battles.jsonl"
    path.write_bytes(b"\n".join([_line(turn=1), b"oops", _line(winner="x"), _line(turn=4)]))
    batch = read_battles(path, skip_invalid=True)
    assert [b.turn for b in batch.battles] == [1, 4]
    assert [(e.record, e.field) for e in batch.invalid] == [(2, None), (3, "winner")]


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(InputError) as caught:
        read_battles(missing)
    assert caught.value.file == str(missing)
