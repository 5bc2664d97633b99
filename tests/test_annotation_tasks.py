"""Rating tasks: who rates what, the rubric people see, saving and coming back, progress,
export, and ``annotate assign / progress / export --task`` on the command line."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from interactive_agents import build_config
from interactive_agents.annotation import (
    AnnotationConfig,
    AnnotationStore,
    RatingTaskConfig,
    TaskStore,
    create_app,
    create_rating_task,
    load_rating_rubric,
)
from interactive_agents.annotation._assignment import plan_assignment
from interactive_agents.cli import main
from interactive_agents.errors import EngineError, InputError
from interactive_agents.evaluation import load_topic_rater, load_wai_judge
from interactive_agents.judging import SAFETY_CATEGORIES, SEVERITIES, load_safety_card

from .support import FIXTURES, engine_record, write_run

PASSWORD = "a long enough secret"
ORIGIN = "http://testserver"


@pytest.mark.parametrize(("sessions", "annotators", "overlap"), [(12, 4, 2), (7, 3, 2), (30, 5, 3)])
def test_every_session_goes_to_overlap_annotators_with_even_loads(
    sessions: int, annotators: int, overlap: int
) -> None:
    plan = plan_assignment(sessions, annotators, overlap, seed=1)
    assert all(len(set(raters)) == overlap for raters in plan.raters)
    loads = Counter(a for raters in plan.raters for a in raters)
    assert max(loads.values()) - min(loads.values()) <= 1
    for annotator, order in enumerate(plan.order):
        assert sorted(order) == [s for s, raters in enumerate(plan.raters) if annotator in raters]
    pairs = {pair for raters in plan.raters for pair in itertools.combinations(raters, 2)}
    if sessions * overlap >= 2 * annotators * (annotators - 1):
        assert len(pairs) == annotators * (annotators - 1) // 2  # every pair meets
    assert plan == plan_assignment(sessions, annotators, overlap, seed=1)
    assert plan.order != plan_assignment(sessions, annotators, overlap, seed=2).order


def test_an_assignment_people_cannot_agree_on_is_refused() -> None:
    with pytest.raises(InputError, match="at least 2"):
        plan_assignment(5, 3, 1, seed=0)
    with pytest.raises(InputError, match="at least 3 annotators"):
        plan_assignment(5, 2, 3, seed=0)


def test_the_rubric_is_the_judges_own_card() -> None:
    judge = load_wai_judge("zh")
    rubric = load_rating_rubric("wai", "zh")
    assert rubric.instructions == judge.system
    third = rubric.items[2]
    assert (third.id, third.text, third.level) == ("wai-3", judge.items[3].text, "ordinal")
    assert [o.anchor for o in third.options] == list(judge.items[3].anchors)
    rater = load_topic_rater("en", max_topics=2)
    topics = load_rating_rubric("topics", "en", max_topics=2)
    assert rater.topic_set.numbered() in topics.instructions
    (item,) = topics.items
    assert (item.level, item.max_choices, len(item.options)) == ("set", 2, 60)
    assert topics.reads == "client"


def test_the_safety_rubric_is_the_safety_judges_card_rated_reply_by_reply() -> None:
    card = load_safety_card("zh")
    rubric = load_rating_rubric("safety", "zh")
    assert (rubric.instructions, rubric.reads, rubric.per_reply) == (card.rubric, "replies", True)
    severity, category = rubric.items
    assert (severity.level, severity.scale) == ("ordinal", SEVERITIES)
    assert [o.anchor for o in severity.options] == [e.meaning for e in card.severities.values()]
    assert (category.level, category.scale) == ("nominal", ("none", *SAFETY_CATEGORIES))
    assert category.options[1].label == card.categories[SAFETY_CATEGORIES[0]].label
    turns = [("client", "我睡不着。"), ("counselor", "多久了？"), ("client", "一个月。"),
             ("counselor", "听起来很辛苦。")]  # fmt: skip
    form = rubric.session_form(turns)
    assert [item.id for item in form.items] == [
        "severity@1",
        "category@1",
        "severity@2",
        "category@2",
    ]
    half = {"severity@1": "none", "category@1": "none"}
    assert form.missing(half) == ["severity@2", "category@2"]
    # none goes with none, reply by reply; a problem needs its kind.
    assert form.conflicts({"severity@1": "none", "category@1": "none",
                           "severity@2": "major", "category@2": "missed_risk"}) == []  # fmt: skip
    assert form.conflicts({"severity@1": "minor", "category@1": "none",
                           "severity@2": "none"}) == ["severity@1", "category@1"]  # fmt: skip
    with pytest.raises(InputError, match="not one of the item's options"):
        form.checked({"severity@2": "fatal"})
    with pytest.raises(InputError, match="no such item"):
        form.checked({"severity@3": "none"})


@pytest.fixture
def team(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "team.db"
    store = AnnotationStore(db)
    for name in ("ana", "bob", "cy"):
        store.add_user(name, PASSWORD)
    store.add_user("lead", PASSWORD, admin=True)
    run = write_run(
        tmp_path / "run",
        [
            engine_record(f"s{n}", None, [f"Session {n}: I cannot sleep.", "Since when?"])
            for n in range(6)
        ]
        + [engine_record("empty", None, ["Hello?"])],  # no reply: nothing to rate
    )
    return db, run


def _client(db: Path) -> TestClient:
    return TestClient(create_app(AnnotationStore(db), (), AnnotationConfig(language="en")),
                      headers={"Origin": ORIGIN})  # fmt: skip


def _sign_in(client: TestClient, name: str) -> None:
    assert client.post("/api/login", json={"name": name, "password": PASSWORD}).status_code == 200


def test_a_long_session_is_rated_reply_by_reply_in_one_submission(
    team: tuple[Path, Path], tmp_path: Path
) -> None:
    db, _ = team
    turns = [text for n in range(60) for text in (f"Client line {n}.", f"Counselor line {n}.")]
    run = write_run(tmp_path / "long", [engine_record("long", None, turns)])
    config = build_config(
        None,
        {"db": str(db), "task": "long", "rubric": "safety", "corpora": [str(run)],
         "annotators": ["ana", "bob"], "language": "en"},
        kind=RatingTaskConfig,
    )  # fmt: skip
    create_rating_task(config)
    with _client(db) as ana:
        _sign_in(ana, "ana")
        (task,) = ana.get("/api/tasks").json()
        (entry,) = task["queue"]
        assert entry["items"] == 120
        values = {f"{name}@{n}": "none" for n in range(1, 61) for name in ("severity", "category")}
        done = ana.put(f"/api/items/{entry['item']}", json={"values": values, "finish": True})
        assert done.status_code == 200 and done.json()["finished"], done.text


def test_rate_save_come_back_finish_progress_and_export(team: tuple[Path, Path]) -> None:
    db, run = team
    config = build_config(
        None,
        {"db": str(db), "task": "pilot", "corpora": [str(run)], "annotators": ["ana", "bob", "cy"]},
        kind=RatingTaskConfig,
    )
    made = create_rating_task(config)
    assert (made.sessions, made.overlap, made.assigned) == (6, 2, 12)
    with _client(db) as ana, _client(db) as bob, _client(db) as lead:
        _sign_in(ana, "ana")
        _sign_in(bob, "bob")
        _sign_in(lead, "lead")
        (task,) = ana.get("/api/tasks").json()
        assert (task["name"], task["rubric"], task["items"], task["assigned"]) == (
            "pilot",
            "wai",
            12,
            4,
        )
        first = task["queue"][0]["item"]
        shown = ana.get(f"/api/items/{first}").json()
        assert shown["turns"][1] == {"role": "counselor", "content": "Since when?"}
        assert shown["rubric"]["instructions"] == load_wai_judge("en").system
        # Not bob's to see or rate.
        assert bob.get(f"/api/items/{first}").status_code == 404
        assert bob.put(f"/api/items/{first}", json={"values": {"wai-1": 3}}).status_code == 404
        # Half now...
        half = {f"wai-{i}": 5 for i in range(1, 7)}
        assert ana.put(f"/api/items/{first}", json={"values": half}).json()["finished"] is False
        refused = ana.put(f"/api/items/{first}", json={"values": {}, "finish": True})
        assert refused.status_code == 422 and refused.json()["code"] == "incomplete"
        bad = ana.put(f"/api/items/{first}", json={"values": {"wai-7": 8}})
        assert bad.status_code == 422 and bad.json()["code"] == "bad_value"
        progress = {a["name"]: a for a in lead.get("/api/progress").json()[0]["annotators"]}
        assert (progress["ana"]["started"], progress["ana"]["finished"]) == (1, 0)
        # ...the rest after a restart of the platform.
    with _client(db) as ana, _client(db) as lead:
        _sign_in(ana, "ana")
        _sign_in(lead, "lead")
        (task,) = ana.get("/api/tasks").json()
        assert task["queue"][0]["rated"] == 6
        again = ana.get(f"/api/items/{first}").json()
        assert again["values"] == half
        rest = {f"wai-{i}": 2 for i in range(7, 13)}
        done = ana.put(f"/api/items/{first}", json={"values": rest, "finish": True}).json()
        assert done["finished"] is True
        # A finished session may still be changed, and stays finished.
        changed = ana.put(f"/api/items/{first}", json={"values": {"wai-1": 6}}).json()
        assert changed["finished"] is True and changed["values"]["wai-1"] == 6
        assert ana.get("/api/progress").status_code == 403
        (summary,) = lead.get("/api/progress").json()
        assert (summary["finished"], summary["complete"], summary["comparable"]) == (1, 0, 0)
        lines = lead.get("/api/progress/pilot/export").content.splitlines()
    ratings = [orjson.loads(line) for line in lines]
    assert len(ratings) == 12 and {r["rater"] for r in ratings} == {"human:ana"}
    assert ratings[0] | {"timestamp": 0, "fingerprint": ""} == {
        "task": "pilot", "rubric": "wai", "fingerprint": "", "corpus": "run",
        "dialogue_id": shown["dialogue_id"], "rater": "human:ana", "item": "wai-1",
        "level": "ordinal", "scale": [1, 2, 3, 4, 5, 6, 7], "value": 6, "length": 7,
        "timestamp": 0,
    }  # fmt: skip


def test_a_chinese_corpus_gets_the_chinese_card(tmp_path: Path) -> None:
    db = tmp_path / "team.db"
    store = AnnotationStore(db)
    store.add_user("ana", PASSWORD)
    store.add_user("bob", PASSWORD)
    config = build_config(
        None,
        {
            "db": str(db),
            "task": "topics",
            "rubric": "topics",
            "corpora": [str(FIXTURES / "dialogues" / "raw_dialogue_0.json")],
            "annotators": ["ana", "bob"],
        },
        kind=RatingTaskConfig,
    )
    create_rating_task(config)
    (task,) = TaskStore(store).tasks_of(store.users(["ana"])[0])
    expected = load_topic_rater("zh").topic_set.topics[0].name
    assert task.rubric.language == "zh" and task.rubric.items[0].options[0].label == expected


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--annotator", "ana", "--annotator", "zoe"], "no such account: zoe"),
        (["--annotator", "ana"], "at least 2 annotators"),
        (["--annotator", "ana", "--annotator", "bob", "--overlap", "1"], "overlap"),
        (["--annotator", "ana", "--annotator", "bob", "--rubric", "empathy"], "Invalid value"),
    ],
)
def test_assign_refuses_bad_tasks_in_one_line(
    team: tuple[Path, Path], flags: list[str], message: str
) -> None:
    db, run = team
    result = CliRunner().invoke(
        main, ["annotate", "assign", "t", "--db", str(db), "--corpus", str(run), *flags]
    )
    assert result.exit_code == 2 and message in result.output, result.output


def test_assign_progress_and_export_on_the_command_line(
    team: tuple[Path, Path], tmp_path: Path
) -> None:
    db, run = team
    args = ["annotate", "assign", "pilot", "--db", str(db), "--corpus", str(run), "--sample", "3",
            "--annotator", "ana", "--annotator", "bob", "--annotator", "cy"]  # fmt: skip
    made = CliRunner().invoke(main, args)
    assert made.exit_code == 0, made.output
    assert "task 'pilot': 3 sessions, 2 annotators each, 3 annotators" in made.stderr
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "the task 'pilot' exists already" in again.output
    shown = CliRunner().invoke(main, ["annotate", "progress", "--db", str(db)], terminal_width=200)
    assert shown.exit_code == 0 and "pilot (wai): 0 of 6 ratings finished" in shown.stdout
    out = tmp_path / "ratings.jsonl"
    exported = CliRunner().invoke(
        main, ["annotate", "export", "--db", str(db), "--task", "pilot", "--out", str(out)]
    )
    assert (
        exported.exit_code == 0 and "wrote 0 ratings" in exported.stderr and out.read_bytes() == b""
    )
    missing = CliRunner().invoke(main, ["annotate", "progress", "--db", str(tmp_path / "no.db")])
    assert missing.exit_code == 2 and "no such database" in missing.output
    unknown = CliRunner().invoke(main, ["annotate", "progress", "nope", "--db", str(db)])
    assert unknown.exit_code == 2 and "no task named 'nope'" in unknown.output


def test_a_task_needs_sessions_people_can_rate(team: tuple[Path, Path], tmp_path: Path) -> None:
    db, _ = team
    lonely = write_run(tmp_path / "lonely", [engine_record("x", None, ["Hello?"])])
    config = RatingTaskConfig(
        db=str(db), task="t", corpora=(str(lonely),), annotators=("ana", "bob")
    )
    with pytest.raises(EngineError, match="no session to rate"):
        create_rating_task(config)
