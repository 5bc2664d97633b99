"""Role cards: every input layout, and errors that name file, record and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import CardError
from interactive_agents.method._cards import load_cards


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_cards_with_traits_as_objects_or_strings(tmp_path: Path) -> None:
    source = write(
        tmp_path / "cards.jsonl",
        '{"id": "a", "age": 30, "chief_complaint": "I cannot sleep.",'
        ' "personality": {"openness": "high, likes novelty", "neuroticism": {"level": "low"}},'
        ' "resistance": "中等，愿意分享"}\n'
        "\n"
        '{"chief_complaint": "Work is too much."}\n',
    )
    cards = load_cards(source).cards
    assert [c.id for c in cards] == ["a", "cards-00003"]
    first = cards[0]
    assert first.age == "30"
    assert first.personality is not None and first.personality.openness is not None
    assert (first.personality.openness.level, first.personality.openness.explanation) == (
        "high",
        "likes novelty",
    )
    assert first.resistance is not None and first.resistance.level == "中等"
    assert first.resistance.explanation == "愿意分享"


def test_json_list_of_bare_complaints_is_a_pool(reference: Path) -> None:
    cards = load_cards(reference / "client_pool_train.json").cards
    assert len(cards) == 1000
    assert cards[0].gender is None
    assert cards[0].chief_complaint.startswith("为什么两个相爱的人")
    assert len({c.id for c in cards}) == 1000


def test_toml_cards(tmp_path: Path) -> None:
    source = write(
        tmp_path / "cards.toml",
        '[[cards]]\nid = "t1"\ngender = "male"\nchief_complaint = "Lonely at university."\n'
        '[cards.resistance]\nlevel = "high"\nexplanation = "sent by his advisor"\n',
    )
    (card,) = load_cards(source).cards
    assert card.id == "t1" and card.resistance is not None
    assert card.resistance.explanation == "sent by his advisor"


def test_reference_text_cards_take_complaint_from_the_pool(fixtures: Path) -> None:
    cards = {c.id: c for c in load_cards(fixtures / "role_cards").cards}
    assert set(cards) == {"test_0", "test_1", "train_0", "train_1"}
    card = cards["train_0"]
    assert card.gender == "女性" and card.occupation == "幼师"
    assert card.personality is not None and card.personality.neuroticism is not None
    assert card.personality.neuroticism.level == "较高"
    pool = (fixtures / "client_pool_train.json").read_text(encoding="utf-8")
    assert card.chief_complaint[:30] in pool
    assert cards["test_0"].chief_complaint.startswith("家庭不和谐")


def test_bad_field_type_names_file_record_and_field(tmp_path: Path) -> None:
    source = write(
        tmp_path / "bad.jsonl",
        '{"id": "ok", "chief_complaint": "fine"}\n{"id": "x", "chief_complaint": 42}\n',
    )
    with pytest.raises(CardError) as caught:
        load_cards(source)
    error = caught.value
    assert (error.file, error.record, error.field) == (str(source), 2, "chief_complaint")
    assert "bad.jsonl" in str(error) and "record 2" in str(error)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"id": "x", "chief_complaint": "  "}', "chief_complaint"),
        ('{"id": "x", "chief_complaint": "ok", "ocupation": "typo"}', "ocupation"),
        (
            '{"id": "x", "chief_complaint": "ok", "personality": {"openness": 3}}',
            "personality.openness",
        ),
        ('{"id": "x"}', None),
    ],
)
def test_invalid_cards_are_located(tmp_path: Path, line: str, field: str | None) -> None:
    source = write(tmp_path / "c.jsonl", line + "\n")
    with pytest.raises(CardError) as caught:
        load_cards(source)
    assert caught.value.record == 1
    if field is not None:
        assert caught.value.field == field


def test_skip_invalid_reports_and_keeps_going(tmp_path: Path) -> None:
    source = write(
        tmp_path / "mixed.jsonl",
        '{"id": "a", "chief_complaint": "one"}\n'
        "{not json}\n"
        '{"id": "a", "chief_complaint": "duplicate id"}\n'
        '{"id": "b", "chief_complaint": "two"}\n',
    )
    batch = load_cards(source, skip_invalid=True)
    assert [c.id for c in batch.cards] == ["a", "b"]
    assert [e.record for e in batch.invalid] == [2, 3]
    assert batch.invalid[1].field == "id"


def test_missing_file_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(CardError, match="no such file"):
        load_cards(tmp_path / "nope.jsonl")
    with pytest.raises(CardError, match="unsupported"):
        load_cards(write(tmp_path / "cards.csv", "a,b\n"))


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ('{"id": true, "chief_complaint": "ok"}', "id"),
        ('{"id": 1.5, "chief_complaint": "ok"}', "id"),
        ('{"id": "x", "chief_complaint": "ok", "age": false}', "age"),
        ('{"chief_complaint": "ok", "personality": {"opennes": "high"}}', "personality.opennes"),
        (
            '{"chief_complaint": "ok", "personality": {"openness": {"level": "high", "why": "x"}}}',
            "personality.openness.why",
        ),
        (
            '{"chief_complaint": "ok", "resistance": {"level": "low", "note": "x"}}',
            "resistance.note",
        ),
    ],
)
def test_ids_and_traits_are_never_guessed(tmp_path: Path, record: str, field: str) -> None:
    """True is not the id "True", and a misspelt trait is refused, not dropped."""
    with pytest.raises(CardError) as caught:
        load_cards(write(tmp_path / "c.json", f"[{record}]"))
    assert (caught.value.record, caught.value.field) == (0, field)


def test_integer_ids_are_accepted_as_text(tmp_path: Path) -> None:
    (card,) = load_cards(write(tmp_path / "c.json", '[{"id": 7, "chief_complaint": "ok"}]')).cards
    assert card.id == "7"


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("cards.toml", b"\xff\xfe[[cards]]", "not UTF-8"),
        ("train_0.txt", "性别：女".encode("gbk"), "not UTF-8"),
        ("cards.jsonl", b'{"chief_complaint": "\xff"}', "not valid JSON"),
        ("cards.toml", b"a = " + b"[" * 3000 + b"]" * 3000, "nested too deeply"),
        ("cards.toml", b"[[cards]]\nid = " + b"9" * 5000 + b'\nchief_complaint = "x"', "TOML"),
        ("cards.json", b'[{"id": ' + b"9" * 5000 + b', "chief_complaint": "x"}]', "JSON"),
        ("cards.json", b"[" * 3000 + b"]" * 3000, "not valid JSON"),
        ("train_" + "9" * 150 + ".txt", "性别：女".encode(), "SPLIT_INDEX"),
    ],
)
def test_unreadable_card_files_are_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CardError, match=why) as caught:
        load_cards(path)
    assert caught.value.file == str(path)
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["simulate", "--cards", str(path), "--out", str(out), "--model", "m",
               "--base-url", "http://127.0.0.1:9/v1"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and str(path) in result.output


def test_a_folder_with_odd_names_and_subfolders(tmp_path: Path) -> None:
    write(tmp_path / "1²2.json", '[{"id": "sup", "chief_complaint": "one"}]')
    write(tmp_path / "a10.json", '[{"id": "a10", "chief_complaint": "two"}]')
    write(tmp_path / "a2.json", '[{"id": "a2", "chief_complaint": "three"}]')
    write(tmp_path / "٣.json", '[{"id": "arabic", "chief_complaint": "four"}]')
    (tmp_path / "nested.json").mkdir()
    write(tmp_path / "notes.md", "not a card")
    ids = [c.id for c in load_cards(tmp_path).cards]
    assert sorted(ids) == ["a10", "a2", "arabic", "sup"]
    assert ids.index("a2") < ids.index("a10")
    with pytest.raises(CardError, match="no card files"):
        load_cards(tmp_path / "nested.json")


def test_built_in_card_sets_by_name_through_the_public_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import interactive_agents

    monkeypatch.chdir(tmp_path)  # found in the bundled data, not in the working directory
    by_name = interactive_agents.load_cards("demo_en").cards
    demo = Path(__file__).resolve().parents[1] / "runners" / "cards" / "demo_en.jsonl"
    assert [c.id for c in by_name] == [c.id for c in load_cards(demo).cards]
    assert len(by_name) == 6
    assert interactive_agents.load_cards("demo_en.jsonl").cards == by_name
    # A file of that name in the working directory wins over the built-in set.
    write(tmp_path / "demo_en", '{"id": "mine", "chief_complaint": "ok"}\n')
    with pytest.raises(CardError, match="unsupported"):
        interactive_agents.load_cards("demo_en")
    sets = r"\(crisis_en, crisis_zh, demo_en\)"
    with pytest.raises(CardError, match=rf"no such file or folder.*{sets}") as raised:
        interactive_agents.load_cards("demo_xx")
    assert raised.value.file == "demo_xx"
