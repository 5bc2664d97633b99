"""Reading corpora: the three layouts, detection, card text, and located errors."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from interactive_agents import evaluation
from interactive_agents.corpora._readers import Dialogue, Utterance, load_corpus
from interactive_agents.errors import InputError
from interactive_agents.method._card_text import card_text

from .support import CARD_A, engine_record, hand_run, write_run


def test_public_api_is_complete_and_sorted() -> None:
    public = {
        name
        for name in vars(evaluation)
        if not name.startswith("_")
        and name not in {"annotations"}
        and not isinstance(getattr(evaluation, name), type(evaluation))
    }
    assert set(evaluation.__all__) == public
    assert evaluation.__all__ == sorted(evaluation.__all__, key=lambda n: (not n.isupper(), n))


def test_engine_run_directory(tmp_path: Path) -> None:
    corpus = load_corpus(hand_run(tmp_path / "run-a"))
    assert corpus.name == "run-a"
    assert [d.id for d in corpus.dialogues] == ["d1", "d2", "d3", "d4"]
    first = corpus.dialogues[0]
    assert first.turns[:2] == (
        Utterance("client", "Hello"),
        Utterance("counselor", "Hi, how are you?"),
    )
    assert first.card_id == "card-a"
    assert first.card_text == "Occupation: nurse\nChief complaint: I love cats and dogs."
    assert first.client_text() == "Hello\nI love my cats."
    assert corpus.dialogues[3].card_text is None
    assert corpus.skipped == ()


def test_run_file_given_directly_is_named_after_its_run(tmp_path: Path) -> None:
    run = hand_run(tmp_path / "run-b")
    assert load_corpus(run / "dialogues.jsonl").name == "run-b"


def test_card_text_reproduces_the_reference_layout(fixtures: Path) -> None:
    """An engine card built from reference card train_0 renders as the reference's full card."""
    posts = json.loads((fixtures / "client_pool_train.json").read_text(encoding="utf-8"))
    text = (fixtures / "role_cards" / "train_0.txt").read_text(encoding="utf-8").strip()
    fields = {
        "性别": "gender",
        "年龄": "age",
        "教育程度": "education",
        "职业": "occupation",
        "婚恋情况": "marital_status",
        "家庭关系": "family_relationships",
    }
    traits = {"开放性": "openness", "尽责性": "conscientiousness", "外向性": "extraversion"}
    traits |= {"宜人性": "agreeableness", "神经质": "neuroticism"}
    card: dict[str, object] = {"id": "train-0", "chief_complaint": posts[0]}
    personality: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        key, _, value = line.strip(" -").partition("：")
        level, _, explanation = value.partition("，")
        if key in fields:
            card[fields[key]] = value
        elif key in traits:
            personality[traits[key]] = {"level": level, "explanation": explanation}
        elif key == "对心理咨询的阻抗程度":
            card["resistance"] = {"level": level, "explanation": explanation}
    card["personality"] = personality
    assert card_text(card) == f"{text}\n来访者的主诉问题：{posts[0]}"


def test_card_text_skips_null_fields_and_bare_levels() -> None:
    card = {
        "id": "c",
        "gender": None,
        "age": "30",
        "personality": {"openness": {"level": "high", "explanation": ""}, "neuroticism": None},
        "resistance": {"level": "low", "explanation": "eager to talk"},
        "chief_complaint": "I cannot sleep.",
    }
    assert card_text(card, "en") == (
        "Age: 30\nBig Five personality:\n - Openness: high\n"
        "Resistance to counseling: low, eager to talk\nChief complaint: I cannot sleep."
    )


def test_reference_raw_dialogue_and_sharegpt_record(fixtures: Path) -> None:
    folder = fixtures / "dialogues"
    raw = json.loads((folder / "raw_dialogue_0.json").read_text(encoding="utf-8"))
    record = json.loads((folder / "sharegpt_record_0.json").read_text(encoding="utf-8"))[0]
    corpus = load_corpus(folder)
    assert corpus.name == "dialogues"
    assert [d.id for d in corpus.dialogues] == ["raw_dialogue_0", "sharegpt_record_0-0"]
    raw_dialogue, sharegpt = corpus.dialogues
    assert raw_dialogue == Dialogue(
        "raw_dialogue_0", tuple(Utterance(m["role"], m["content"]) for m in raw)
    )
    roles = {"user": "client", "assistant": "counselor"}
    expected = [(roles[m["role"]], m["content"]) for m in record["messages"][1:]]
    assert [(u.role, u.content) for u in sharegpt.turns] == expected
    assert sharegpt.card_text is None


def test_sharegpt_jsonl_with_cards_and_ids(tmp_path: Path) -> None:
    records = [
        {"id": "x", "card": "a plain card", "messages": [{"role": "user", "content": "hi"}]},
        {"card": CARD_A, "card_id": 7, "messages": [{"role": "assistant", "content": "yes"}]},
    ]
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in records) + b"\n\n")
    first, second = load_corpus(path).dialogues
    assert (first.id, first.card_text, first.card_id) == ("x", "a plain card", None)
    assert (second.id, second.card_id) == ("train-2", "7")
    assert second.card_text == card_text(CARD_A)
    assert second.turns == (Utterance("counselor", "yes"),)


def test_folder_of_raw_dialogues_in_natural_order(tmp_path: Path) -> None:
    for index in (10, 2):
        dialogue = [{"role": "client", "content": f"c{index}"}]
        (tmp_path / f"raw_{index}.json").write_text(json.dumps(dialogue), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a corpus", encoding="utf-8")
    assert [d.id for d in load_corpus(tmp_path).dialogues] == ["raw_2", "raw_10"]


def test_malformed_record_names_file_record_and_field(tmp_path: Path) -> None:
    good = engine_record("ok", CARD_A, ["Hello", "Hi"])
    bad = engine_record("bad", CARD_A, ["Hello", "Hi"])
    bad["turns"][1]["role"] = "therapist"
    run = write_run(tmp_path / "run", [good, bad])
    with pytest.raises(InputError) as caught:
        load_corpus(run)
    error = caught.value
    assert error.file == str(run / "dialogues.jsonl")
    assert error.record == 2
    assert error.field == "turns[1].role"
    assert "therapist" in str(error)
    assert str(error).startswith(f"{run / 'dialogues.jsonl'}, record 2, field 'turns[1].role': ")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"turns": "hello"}, "turns"),
        ({"id": ""}, "id"),
        ({"card": {"id": "c"}}, "card.chief_complaint"),
        ({"card": {"chief_complaint": "x", "resistance": "low"}}, "card.resistance"),
        (
            {"card": {"chief_complaint": "x", "personality": {"openness": {"level": 3}}}},
            "card.personality.openness",
        ),
    ],
)
def test_each_bad_field_is_named(tmp_path: Path, change: dict[str, object], field: str) -> None:
    record = engine_record("r", CARD_A, ["Hello", "Hi"]) | change
    with pytest.raises(InputError) as caught:
        load_corpus(write_run(tmp_path / "run", [record]))
    assert (caught.value.record, caught.value.field) == (1, field)


def test_raw_dialogue_error_names_its_utterance(tmp_path: Path) -> None:
    path = tmp_path / "raw.json"
    path.write_text(json.dumps([{"role": "client", "content": 3}]), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_corpus(path)
    assert (caught.value.file, caught.value.record, caught.value.field) == (
        str(path),
        "raw",
        "[0].content",
    )


def test_skip_invalid_keeps_the_rest_and_counts(tmp_path: Path) -> None:
    run = hand_run(tmp_path / "run")
    with (run / "dialogues.jsonl").open("ab") as handle:
        handle.write(b'{"id": "broken", \n')
        handle.write(b'{"something": "else"}\n')
    corpus = load_corpus(run, skip_invalid=True)
    assert len(corpus.dialogues) == 4
    assert len(corpus.skipped) == 2
    assert corpus.skipped[0].startswith(f"{run / 'dialogues.jsonl'}, record 5: not valid JSON")
    assert "record 6" in corpus.skipped[1]
    with pytest.raises(InputError, match="record 5"):
        load_corpus(run)


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(InputError, match=r"no dialogues\.jsonl"):
        load_corpus(tmp_path)
