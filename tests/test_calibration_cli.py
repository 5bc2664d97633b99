"""A calibration study end to end, as docs/evaluation.md tells it: a small corpus, a rating
task for two scripted annotators on the platform's HTTP API, the export, a scripted judge
through ``evaluate wai`` and ``evaluate topics``, and ``agreement``, which must recover the
agreement built into the scripts (computed beforehand with the ``krippendorff`` package).
The same for the safety rubric, rated reply by reply, against a judge's
``safety_replies.jsonl``. Also ``agreement`` on battles and its errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import krippendorff
import numpy as np
import orjson
import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

from interactive_agents.annotation import AnnotationConfig, annotation_app
from interactive_agents.arena._battles import Battle, Winner, write_battles
from interactive_agents.cli import main
from interactive_agents.evaluation import load_topic_set
from interactive_agents.judging import SAFETY_CATEGORIES, SEVERITIES
from interactive_agents.testing import Call, FakeServer

from .support import engine_record, write_run

PASSWORD = "correct horse battery"
SESSIONS = [f"s{n}" for n in range(10)]
TOPIC_IDS = load_topic_set("topics.en").ids
WAI = list(range(1, 8))


def ana_score(session: str, item: int) -> int:
    return (3 * int(session[1:]) + 5 * item) % 7 + 1


def bob_score(session: str, item: int) -> int:
    """Ana's, but one step off (7 wraps to 1) on a quarter of the ratings."""
    score = ana_score(session, item)
    return score % 7 + 1 if (int(session[1:]) + item) % 4 == 0 else score


def judge_score(session: str, item: int) -> int:
    """Ana's on every statement but 3, which the judge reads backwards."""
    score = ana_score(session, item)
    return 8 - score if item == 3 else score


def ana_topics(session: str) -> list[str]:
    n = int(session[1:])
    return [TOPIC_IDS[n % 5], TOPIC_IDS[5 + n % 3]]


def bob_topics(session: str) -> list[str]:
    chosen = ana_topics(session)
    return chosen if int(session[1:]) % 2 == 0 else chosen[:1]


def run(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result


def judge_script(call: Call) -> str:
    """The judge of both evaluations: the session from its marker, the item from the prompt."""
    prompt = call.messages[-1]["content"]
    session = re.search(r"Session (s\d+):", prompt)
    assert session is not None
    item = re.search(r"Statement \(item (\d+)\)", prompt)
    if item is not None:
        return f"It fits.\nFinal score: {judge_score(session.group(1), int(item.group(1)))}"
    numbers = [str(TOPIC_IDS.index(t) + 1) for t in ana_topics(session.group(1))]
    return f"The client talks about these.\nTopics: {', '.join(numbers)}"


def rate_everything(
    client: TestClient,
    name: str,
    score: Callable[[str, int], int],
    topics: Callable[[str], list[str]],
) -> None:
    """A scripted annotator: signs in and rates every session of every task given to them,
    the first one in two sittings (saved half-done, finished on coming back)."""
    assert client.post("/api/login", json={"name": name, "password": PASSWORD}).status_code == 200
    for task in client.get("/api/tasks").json():
        for position, entry in enumerate(task["queue"]):
            item = client.get(f"/api/items/{entry['item']}").json()
            session = item["dialogue_id"]
            if task["rubric"] == "wai":
                values: dict[str, object] = {f"wai-{i}": score(session, i) for i in range(1, 13)}
            else:
                values = {"topics": topics(session)}
            if position == 0 and task["rubric"] == "wai":
                half = dict(list(values.items())[:6])
                saved = client.put(f"/api/items/{entry['item']}", json={"values": half})
                assert saved.json()["finished"] is False
            done = client.put(
                f"/api/items/{entry['item']}", json={"values": values, "finish": True}
            )
            assert done.status_code == 200 and done.json()["finished"], done.text
    client.post("/api/logout")


def package_alpha(*coders: list[int], level: Literal["ordinal", "nominal"] = "ordinal") -> float:
    domain = WAI if level == "ordinal" else [0, 1]
    return float(
        krippendorff.alpha(
            reliability_data=np.array(coders, dtype=float),
            level_of_measurement=level,
            value_domain=domain,
        )
    )


@pytest.mark.slow
def test_a_calibration_study_recovers_the_agreement_built_in(
    server: FakeServer, tmp_path: Path
) -> None:
    corpus = write_run(
        tmp_path / "pilot",
        [
            engine_record(
                session,
                None,
                [
                    f"Session {session}: I lie awake before every exam.",
                    "What goes through your mind then?",
                    "That I will fail and let my parents down.",
                    "That sounds like a heavy weight. Shall we look at it together?",
                ],
            )
            for session in SESSIONS
        ],
    )
    db = str(tmp_path / "team.db")
    for name, flags in (("lead", ["--admin"]), ("ana", []), ("bob", [])):
        run("annotate", "add-user", name, "--db", db, "--password-stdin", *flags, stdin=PASSWORD)
    for task, rubric in (("wai-pilot", "wai"), ("topics-pilot", "topics")):
        run("annotate", "assign", task, "--db", db, "--rubric", rubric, "--corpus", str(corpus),
            "--annotator", "ana", "--annotator", "bob", "--overlap", "2")  # fmt: skip

    with TestClient(annotation_app(AnnotationConfig(db=db, language="en"))) as client:
        rate_everything(client, "ana", ana_score, ana_topics)
        rate_everything(client, "bob", bob_score, bob_topics)

    progress = orjson.loads(run("annotate", "progress", "--db", db, "--json").stdout)
    assert [(t["task"], t["complete"], t["comparable"]) for t in progress] == [
        ("wai-pilot", 10, 10),
        ("topics-pilot", 10, 10),
    ]
    people = {task: tmp_path / f"{task}.jsonl" for task in ("wai-pilot", "topics-pilot")}
    for task, path in people.items():
        run("annotate", "export", "--db", db, "--task", task, "--out", str(path))
    lines = [orjson.loads(line) for line in people["wai-pilot"].read_bytes().splitlines()]
    assert len(lines) == 2 * 10 * 12 and {line["rater"] for line in lines} == {
        "human:ana",
        "human:bob",
    }

    server.script = judge_script
    judge = ["--base-url", server.base_url, "--model", "judge", "--rounds", "1", "--language", "en"]
    run("evaluate", "wai", str(corpus), "--out", str(tmp_path / "wai"), "--quiet", *judge)
    run("evaluate", "topics", str(corpus), "--out", str(tmp_path / "topics"), "--quiet", *judge)

    out = tmp_path / "calibration"
    wai_report = str(tmp_path / "wai" / "wai.json")
    shown = run(
        "agreement", "--human", str(people["wai-pilot"]), "--judge", wai_report,
        "--out", str(out), "--bootstrap", "100", "--json",
    )  # fmt: skip
    payload = orjson.loads(shown.stdout)
    among = {row["item"]: row for row in payload["people"]}
    (judged,) = payload["judges"]
    rows = {row["item"]: row for row in judged["items"]}
    for item in range(1, 13):
        ana = [ana_score(s, item) for s in SESSIONS]
        bob = [bob_score(s, item) for s in SESSIONS]
        judge_values = [judge_score(s, item) for s in SESSIONS]
        people_alpha = package_alpha(ana, bob)
        judge_alpha = package_alpha(judge_values * 2, ana + bob)
        assert among[f"wai-{item}"]["alpha"] == pytest.approx(people_alpha, abs=1e-12)
        assert rows[f"wai-{item}"]["alpha"] == pytest.approx(judge_alpha, abs=1e-12)
        assert rows[f"wai-{item}"]["meets"] is (judge_alpha >= 0.667)
        assert rows[f"wai-{item}"]["missing"] == rows[f"wai-{item}"]["unmatched"] == 0
    assert rows["wai-3"]["meets"] is False and rows["wai-1"]["meets"] is True
    assert "wai (all items)" in judged["verdict"]
    assert (out / "agreement.png").read_bytes().startswith(b"\x89PNG")
    markdown = (out / "agreement.md").read_text(encoding="utf-8")
    assert "## People" in markdown and "rows: judge, columns: people" in markdown

    topics = orjson.loads(
        run(
            "agreement", "--human", str(people["topics-pilot"]),
            "--judge", str(tmp_path / "topics" / "topics.json"), "--bootstrap", "50", "--json",
        ).stdout
    )  # fmt: skip
    judged_topics = {row["item"]: row for row in topics["judges"][0]["items"]}
    pooled = judged_topics["topics"]
    # The judge chose ana's topics: equal to ana's sets, to bob's on the even sessions.
    assert pooled["agreement"] == pytest.approx((10 + 5) / 20)
    first = TOPIC_IDS[0]
    ana_has = [int(first in ana_topics(s)) for s in SESSIONS]
    bob_has = [int(first in bob_topics(s)) for s in SESSIONS]
    assert judged_topics[f"topics={first}"]["alpha"] == pytest.approx(
        package_alpha(ana_has * 2, ana_has + bob_has, level="nominal"), abs=1e-12
    )

    table = run("agreement", "--human", str(people["wai-pilot"]), "--judge", wai_report,
                "--bootstrap", "20").stdout  # fmt: skip
    assert "People with people" in table and "with people" in table and "wai-12" in table


Verdict = tuple[str, str]


def ana_safety(session: str, reply: int) -> Verdict:
    severity = SEVERITIES[(int(session[1:]) + 2 * reply) % 4]
    category = "none" if severity == "none" else SAFETY_CATEGORIES[(int(session[1:]) + reply) % 6]
    return severity, category


def bob_safety(session: str, reply: int) -> Verdict:
    """Ana's, but one severity milder on the first reply of every third session."""
    severity, category = ana_safety(session, reply)
    if reply == 1 and int(session[1:]) % 3 == 0 and severity != "none":
        milder = SEVERITIES[SEVERITIES.index(severity) - 1]
        return milder, "none" if milder == "none" else category
    return severity, category


def judge_safety(session: str, reply: int) -> Verdict | None:
    """Ana's, but one severity harsher on every second reply (critical stays critical),
    with the kind of a reply it newly finds a problem in always missed_risk; s9's last
    reply it could not rate."""
    if (session, reply) == ("s9", 2):
        return None
    severity, category = ana_safety(session, reply)
    if reply == 2 and severity != "critical":
        harsher = SEVERITIES[SEVERITIES.index(severity) + 1]
        return harsher, category if severity != "none" else "missed_risk"
    return severity, category


def write_safety_replies(path: Path, corpus: str) -> Path:
    """What ``evaluate safety`` writes, one line per counselor reply."""
    lines = []
    for session in SESSIONS:
        for reply in (1, 2):
            verdict = judge_safety(session, reply)
            severity, category = verdict if verdict else (None, None)
            rounds = [{"severity": severity, "category": None if severity == "none" else category}
                      if verdict else None]  # fmt: skip
            lines.append({
                "corpus": corpus, "dialogue_id": session, "turn": 2 * reply - 1,
                "number": reply, "rounds": rounds, "severity": severity,
                "category": None if severity == "none" else category, "reply": "f" * 16,
            })  # fmt: skip
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def rate_safety(client: TestClient, name: str, verdict: Callable[[str, int], Verdict]) -> None:
    """A scripted annotator of the safety task: every reply of every session, the
    first session with a severity of none but a kind of problem first (refused)."""
    assert client.post("/api/login", json={"name": name, "password": PASSWORD}).status_code == 200
    (task,) = client.get("/api/tasks").json()
    assert task["per_reply"] and all(entry["items"] == 4 for entry in task["queue"])
    for position, entry in enumerate(task["queue"]):
        item = client.get(f"/api/items/{entry['item']}").json()
        assert [i["id"] for i in item["rubric"]["items"]] == [
            "severity@1",
            "category@1",
            "severity@2",
            "category@2",
        ]
        session = item["dialogue_id"]
        values: dict[str, str] = {}
        for reply in (1, 2):
            severity, category = verdict(session, reply)
            values |= {f"severity@{reply}": severity, f"category@{reply}": category}
        url = f"/api/items/{entry['item']}"
        if position == 0:
            wrong = {**values, "severity@1": "none", "category@1": "beyond_role"}
            refused = client.put(url, json={"values": wrong, "finish": True})
            assert refused.status_code == 422 and "severity@1, category@1" in refused.text
        done = client.put(url, json={"values": values, "finish": True})
        assert done.status_code == 200 and done.json()["finished"], done.text
    client.post("/api/logout")


def test_a_safety_calibration_reply_by_reply_recovers_the_agreement_built_in(
    tmp_path: Path,
) -> None:
    corpus = write_run(
        tmp_path / "crisis",
        [
            engine_record(
                session,
                None,
                [
                    f"Session {session}: Lately I feel everyone would be better off without me.",
                    "What do you mean by that?",
                    "I keep thinking about not waking up.",
                    "Thank you for telling me. Are you safe right now?",
                ],
            )
            for session in SESSIONS
        ],
    )
    db = str(tmp_path / "team.db")
    for name, flags in (("lead", ["--admin"]), ("ana", []), ("bob", [])):
        run("annotate", "add-user", name, "--db", db, "--password-stdin", *flags, stdin=PASSWORD)
    run("annotate", "assign", "safety-pilot", "--db", db, "--rubric", "safety",
        "--corpus", str(corpus), "--annotator", "ana", "--annotator", "bob")  # fmt: skip
    with TestClient(annotation_app(AnnotationConfig(db=db, language="en"))) as client:
        rate_safety(client, "ana", ana_safety)
        rate_safety(client, "bob", bob_safety)

    (progress,) = orjson.loads(run("annotate", "progress", "--db", db, "--json").stdout)
    assert (progress["rubric"], progress["complete"], progress["comparable"]) == ("safety", 10, 10)
    people = tmp_path / "safety-people.jsonl"
    run("annotate", "export", "--db", db, "--task", "safety-pilot", "--out", str(people))
    lines = [orjson.loads(line) for line in people.read_bytes().splitlines()]
    assert len(lines) == 2 * 10 * 2 * 2
    first = lines[0]
    assert (first["dialogue_id"], first["reply"], first["item"], first["level"]) == (
        "s0",
        1,
        "severity",
        "ordinal",
    )
    assert first["scale"] == list(SEVERITIES) and first["rater"] == "human:ana"

    judge = write_safety_replies(tmp_path / "safety_replies.jsonl", "crisis")
    payload = orjson.loads(
        run(
            "agreement", "--human", str(people), "--judge", str(judge),
            "--out", str(tmp_path / "calibration"), "--bootstrap", "100", "--json",
        ).stdout
    )  # fmt: skip
    among = {row["item"]: row for row in payload["people"]}
    (judged,) = payload["judges"]
    rows = {row["item"]: row for row in judged["items"]}
    units = [(s, r) for s in SESSIONS for r in (1, 2)]
    rated = [unit for unit in units if judge_safety(*unit) is not None]
    scales: dict[str, tuple[int, Literal["ordinal", "nominal"], list[str]]] = {
        "severity": (0, "ordinal", list(SEVERITIES)),
        "category": (1, "nominal", ["none", *SAFETY_CATEGORIES]),
    }
    for item, (index, level, scale) in scales.items():
        ana = [scale.index(ana_safety(*u)[index]) for u in units]
        bob = [scale.index(bob_safety(*u)[index]) for u in units]
        assert among[item]["alpha"] == pytest.approx(
            safety_alpha([ana, bob], level, len(scale)), abs=1e-12
        )
        people_values = [scale.index(f(*u)[index]) for f in (ana_safety, bob_safety) for u in rated]
        judge_values = [scale.index(v[index]) for u in rated if (v := judge_safety(*u))] * 2
        assert rows[item]["alpha"] == pytest.approx(
            safety_alpha([judge_values, people_values], level, len(scale)), abs=1e-12
        )
        expected_kappa = cohen_kappa_score(
            judge_values, people_values, labels=list(range(len(scale))),
            weights="quadratic" if level == "ordinal" else None,
        )  # fmt: skip
        assert rows[item]["kappa"] == pytest.approx(expected_kappa, abs=1e-12)
        assert (rows[item]["missing"], rows[item]["unmatched"]) == (1, 0)

    # Per session, the worst reply's severity: s9 the judge could not rate whole.
    def worst(verdict: Callable[[str, int], Verdict | None], session: str) -> int:
        return max(SEVERITIES.index(v[0]) for r in (1, 2) if (v := verdict(session, r)))

    whole = [s for s in SESSIONS if s != "s9"]
    people_worst = [worst(f, s) for f in (ana_safety, bob_safety) for s in whole]
    judge_worst = [worst(judge_safety, s) for s in whole] * 2
    assert set(rows) == {"severity", "category", "session severity"}  # no pool of the two
    session_row = rows["session severity"]
    assert session_row["alpha"] == pytest.approx(
        safety_alpha([judge_worst, people_worst], "ordinal", 4), abs=1e-12
    )
    assert (session_row["units"], session_row["missing"]) == (9, 1)
    assert among["session severity"]["alpha"] == pytest.approx(
        safety_alpha([[worst(f, s) for s in SESSIONS] for f in (ana_safety, bob_safety)],
                     "ordinal", 4), abs=1e-12
    )  # fmt: skip
    # The judge rates harsher: its offset from people, in severity steps, is positive.
    assert rows["severity"]["offset"]["mean"] > 0
    markdown = (tmp_path / "calibration" / "agreement.md").read_text(encoding="utf-8")
    assert "severity" in markdown and "category" in markdown


def safety_alpha(coders: list[list[int]], level: Literal["ordinal", "nominal"], size: int) -> float:
    return float(
        krippendorff.alpha(
            reliability_data=np.array(coders, dtype=float),
            level_of_measurement=level,
            value_domain=list(range(size)),
        )
    )


def _labels(path: Path, winners: str, judge: str) -> Path:
    """One battle per turn of dialogue d between A and B, with the given winners."""
    names: dict[str, Winner] = {"a": "a", "b": "b", "t": "tie", "u": "unparsable"}
    battles = [Battle("d", t, "A", "B", "ab", names[w], judge) for t, w in enumerate(winners)]
    write_battles(path, battles)
    return path


def test_agreement_on_battles_reports_each_judge(tmp_path: Path) -> None:
    human = _labels(tmp_path / "human.jsonl", "aabbau", "human:ana")
    first = _labels(tmp_path / "g1.jsonl", "abbbtb", "g1")
    second = _labels(tmp_path / "g2.jsonl", "aabbua", "g2")
    result = CliRunner().invoke(
        main,
        ["agreement", "--human", str(human), "--judge", str(first), "--judge", str(second),
         "--json", "--bootstrap", "20"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    one, two = (judge["items"][0] for judge in payload["judges"])
    # g1 on the five readable human labels: a/a b/a b/b b/b t/a: 3 agree.
    assert (one["pairs"], one["agreement"], one["missing"]) == (5, pytest.approx(0.6), 0)
    # g2: one verdict unparsable (missing), four agree.
    assert (two["pairs"], two["agreement"], two["missing"]) == (4, 1.0, 1)
    assert payload["judges"][0]["biases"][0]["judge"] == "g1"
    table = CliRunner().invoke(main, ["agreement", "--human", str(human), "--judge", str(first)])
    assert "60%" in table.stdout and "Position bias" in table.stdout


def test_agreement_errors_name_the_file_line_and_field(tmp_path: Path) -> None:
    human = _labels(tmp_path / "human.jsonl", "ab", "human:ana")
    judge = tmp_path / "judge.jsonl"
    judge.write_text('{"dialogue_id": "d", "turn": 0, "winner": "a"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["agreement", "--human", str(human), "--judge", str(judge)])
    assert result.exit_code == 2
    assert f"{judge}, record 1, field 'bot_a': missing required field" in result.stderr
    ratings = tmp_path / "ratings.jsonl"
    line = {"corpus": "c", "dialogue_id": "d", "rater": "x", "rubric": "wai", "item": "wai-1",
            "level": "ordinal", "scale": [1, 2], "value": 3}  # fmt: skip
    ratings.write_bytes(orjson.dumps(line) + b"\n")
    mixed = CliRunner().invoke(main, ["agreement", "--human", str(ratings), "--judge", str(human)])
    assert mixed.exit_code == 2 and "'value': 3 is not in 'scale'" in mixed.stderr
    ratings.write_bytes(orjson.dumps({**line, "value": 2}) + b"\n")
    mixed = CliRunner().invoke(main, ["agreement", "--human", str(ratings), "--judge", str(human)])
    assert mixed.exit_code == 2 and "compare like with like" in mixed.stderr
    safety = tmp_path / "safety_replies.jsonl"
    reply = {"corpus": "c", "dialogue_id": "d", "turn": 1, "number": 1, "rounds": [None],
             "severity": "fatal", "category": None, "reply": "f"}  # fmt: skip
    safety.write_bytes(orjson.dumps({**reply, "severity": None}) + b"\n" + orjson.dumps(reply))
    bad = CliRunner().invoke(main, ["agreement", "--human", str(ratings), "--judge", str(safety)])
    assert bad.exit_code == 2 and f"{safety}, record 2" in bad.stderr
    assert "unknown severity 'fatal'" in bad.stderr
