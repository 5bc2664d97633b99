"""The annotation database on its own: accounts, session expiry, ownership, restart, the
battles people choose (ties, "both bad", reply lengths), and files of older releases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from interactive_agents.annotation._database import AnnotationStore, NotFound, Pending
from interactive_agents.errors import InputError

PASSWORD = "a long enough secret"


def test_passwords_are_salted_hashes_and_sessions_expire(tmp_path: Path) -> None:
    store = AnnotationStore(tmp_path / "a.db")
    store.add_user("ana", PASSWORD)
    store.add_user("bob", PASSWORD)
    with sqlite3.connect(tmp_path / "a.db") as db:
        rows = db.execute("SELECT salt, hash FROM users").fetchall()
    assert all(PASSWORD.encode() not in bytes(h) for _, h in rows)
    assert rows[0][0] != rows[1][0] and rows[0][1] != rows[1][1]
    assert store.sign_in("ana", "wrong password", 60) is None
    live = store.sign_in("ana", PASSWORD, 3600)
    expired = store.sign_in("ana", PASSWORD, -1)
    assert live is not None and expired is not None
    assert store.user_for(live) is not None and store.user_for(expired) is None
    store.sign_out(live)
    assert store.user_for(live) is None
    with pytest.raises(InputError, match="exists already"):
        store.add_user("ana", PASSWORD)


def test_dialogues_belong_to_their_annotator_and_survive_reopening(tmp_path: Path) -> None:
    store = AnnotationStore(tmp_path / "a.db")
    ana, bob = store.add_user("ana", PASSWORD), store.add_user("bob", PASSWORD)
    dialogue = store.new_dialogue(ana, "alpha", "beta")
    store.add_exchange(ana, dialogue, 0, "hello", Pending("from alpha", "from beta", "ba"))
    with pytest.raises(NotFound):
        store.dialogue(bob, dialogue)
    with pytest.raises(NotFound):
        store.choose(bob, dialogue, 1)
    with pytest.raises(InputError, match="choose one of the two replies first"):
        store.add_exchange(ana, dialogue, 1, "again", Pending("x", "y", "ab"))

    reopened = AnnotationStore(tmp_path / "a.db")
    assert reopened.dialogue(ana, dialogue).pending == Pending("from alpha", "from beta", "ba")
    reopened.choose(ana, dialogue, 1)  # shown first in order "ba": bot b's reply
    (battle,) = reopened.battles()
    assert (battle.winner, battle.shown_order, battle.judge) == ("b", "ba", "human:ana")
    assert [t.content for t in reopened.dialogue(ana, dialogue).turns] == ["hello", "from beta"]
    assert (battle.length_a, battle.length_b, battle.both_bad) == (2, 2, False)
    with pytest.raises(InputError, match="changed meanwhile"):  # a stale second tab
        reopened.add_exchange(ana, dialogue, 0, "again", Pending("x", "y", "ab"))


def test_add_user_and_export_report_bad_input_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from interactive_agents.annotation._auth import MAX_PASSWORD
    from interactive_agents.cli import main

    db = tmp_path / "a.db"
    for password in ("short", "x" * (MAX_PASSWORD + 1)):
        made = CliRunner().invoke(
            main,
            ["annotate", "add-user", "ana", "--db", str(db), "--password-stdin"],
            input=password + "\n",
        )
        assert made.exit_code == 2 and f"8 to {MAX_PASSWORD} characters" in made.output
        assert password not in made.output
    assert oct(db.stat().st_mode & 0o777) == oct(0o600)
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_bytes(b"this is not SQLite" * 100)
    exported = CliRunner().invoke(
        main, ["annotate", "export", "--db", str(not_a_db), "--out", str(tmp_path / "b.jsonl")]
    )
    assert exported.exit_code == 2 and "not an annotation database" in exported.output


def test_ties_and_both_bad_are_battles_and_the_list_counts_exchanges(tmp_path: Path) -> None:
    store = AnnotationStore(tmp_path / "a.db")
    ana = store.add_user("ana", PASSWORD)
    dialogue = store.new_dialogue(ana, "alpha", "beta")
    assert [(d.turns, d.waiting) for d in store.dialogues(ana)] == [(0, False)]
    store.add_exchange(
        ana, dialogue, 0, "hello", Pending("a short reply", "a much longer reply here", "ab")
    )
    assert [(d.turns, d.waiting) for d in store.dialogues(ana)] == [(0, True)]
    store.choose(ana, dialogue, "tie", undecided_keeps="b")
    assert [(d.turns, d.waiting) for d in store.dialogues(ana)] == [(1, False)]
    store.add_exchange(ana, dialogue, 2, "and then?", Pending("x", "y", "ba"))
    store.choose(ana, dialogue, "both_bad", undecided_keeps="a")
    tie, both_bad = store.battles()
    assert (tie.winner, tie.both_bad, tie.length_a, tie.length_b) == ("tie", False, 3, 5)
    assert (both_bad.winner, both_bad.both_bad, both_bad.turn) == ("tie", True, 2)
    # After a tie the reply of the bot drawn (here b, then a) continues the dialogue.
    turns = [t.content for t in store.dialogue(ana, dialogue).turns]
    assert turns == ["hello", "a much longer reply here", "and then?", "x"]
    assert [(d.turns, d.waiting) for d in store.dialogues(ana)] == [(2, False)]


FIRST_RELEASE_FILE = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, salt BLOB NOT NULL,
    hash BLOB NOT NULL, admin INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL,
    kdf TEXT NOT NULL DEFAULT 'scrypt:16384:8:1');
CREATE TABLE sessions (key TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    expires REAL NOT NULL);
CREATE TABLE dialogues (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    bot_a TEXT NOT NULL, bot_b TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE turns (dialogue_id INTEGER NOT NULL REFERENCES dialogues(id), idx INTEGER NOT NULL,
    role TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (dialogue_id, idx));
CREATE TABLE pending (dialogue_id INTEGER PRIMARY KEY REFERENCES dialogues(id),
    reply_a TEXT NOT NULL, reply_b TEXT NOT NULL, shown_order TEXT NOT NULL);
CREATE TABLE battles (id INTEGER PRIMARY KEY, dialogue_id INTEGER NOT NULL
    REFERENCES dialogues(id), turn INTEGER NOT NULL, bot_a TEXT NOT NULL, bot_b TEXT NOT NULL,
    shown_order TEXT NOT NULL, winner TEXT NOT NULL, judge TEXT NOT NULL,
    timestamp REAL NOT NULL, UNIQUE (dialogue_id, turn));
INSERT INTO users VALUES (1, 'ana', x'00', x'00', 0, 0, 'scrypt:16384:8:1');
INSERT INTO dialogues VALUES (1, 1, 'alpha', 'beta', 0);
INSERT INTO turns VALUES (1, 0, 'client', 'hello'), (1, 1, 'counselor', 'hi there');
INSERT INTO battles VALUES (1, 1, 1, 'alpha', 'beta', 'ab', 'a', 'human:ana', 5);
"""


def test_a_database_of_the_first_release_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_RELEASE_FILE)
    db.close()
    store = AnnotationStore(path)
    (battle,) = store.battles()
    assert (battle.winner, battle.length_a, battle.both_bad) == ("a", None, False)
    with sqlite3.connect(path) as db:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert version == 3 and {"devices", "tasks", "ratings"} <= tables
    # Opening it again (serve and add-user at once, or a restart) changes nothing.
    AnnotationStore(path)
    ana = store.users(["ana"])[0]
    assert [(d.id, d.turns) for d in store.dialogues(ana)] == [(1, 1)]
    fresh = tmp_path / "new.db"
    AnnotationStore(fresh)
    assert _schema(fresh) == _schema(path)


def _schema(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's and index's columns: name, type, not null, default, key."""
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master ORDER BY name")]
        schema = {
            name: [row[1:] for row in db.execute(f"PRAGMA table_xinfo('{name}')")]
            + [row[1:] for row in db.execute(f"PRAGMA index_xinfo('{name}')")]
            for name in names
        }
    db.close()
    return schema
