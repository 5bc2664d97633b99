"""The annotation database on its own: accounts, session expiry, ownership, restart."""

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
        store.choose(bob, dialogue, 0)
    with pytest.raises(InputError, match="choose one of the two replies first"):
        store.add_exchange(ana, dialogue, 1, "again", Pending("x", "y", "ab"))

    reopened = AnnotationStore(tmp_path / "a.db")
    assert reopened.dialogue(ana, dialogue).pending == Pending("from alpha", "from beta", "ba")
    reopened.choose(ana, dialogue, 0)  # shown first in order "ba": bot b's reply
    (battle,) = reopened.battles()
    assert (battle.winner, battle.shown_order, battle.judge) == ("b", "ba", "human:ana")
    assert [t.content for t in reopened.dialogue(ana, dialogue).turns] == ["hello", "from beta"]
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
