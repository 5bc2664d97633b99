"""The annotation database's tables, and the migrations that bring an older file up to date.

The schema's version is SQLite's ``user_version``. A new file gets the tables of the
first release, then every migration in order, exactly as an existing file of that
release does, so old and new databases end up identical. Each migration runs in one
``BEGIN IMMEDIATE`` transaction that re-reads the version first, so two processes
opening the same file at once (``serve`` and ``add-user``) migrate it once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from interactive_agents.annotation._auth import LEGACY_COST

# The tables of the first release (0.1.0), whose files have user_version 0.
FIRST_RELEASE = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, salt BLOB NOT NULL,
    hash BLOB NOT NULL, admin INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    key TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS dialogues (
    id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    bot_a TEXT NOT NULL, bot_b TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    dialogue_id INTEGER NOT NULL REFERENCES dialogues(id), idx INTEGER NOT NULL,
    role TEXT NOT NULL, content TEXT NOT NULL, PRIMARY KEY (dialogue_id, idx));
CREATE TABLE IF NOT EXISTS pending (
    dialogue_id INTEGER PRIMARY KEY REFERENCES dialogues(id), reply_a TEXT NOT NULL,
    reply_b TEXT NOT NULL, shown_order TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS battles (
    id INTEGER PRIMARY KEY, dialogue_id INTEGER NOT NULL REFERENCES dialogues(id),
    turn INTEGER NOT NULL, bot_a TEXT NOT NULL, bot_b TEXT NOT NULL,
    shown_order TEXT NOT NULL, winner TEXT NOT NULL, judge TEXT NOT NULL,
    timestamp REAL NOT NULL, UNIQUE (dialogue_id, turn));
"""


def _password_cost(db: sqlite3.Connection) -> None:
    """Files made before the hash cost was stored hold hashes at the legacy cost."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(users)")}
    if "kdf" not in columns:
        db.execute(f"ALTER TABLE users ADD COLUMN kdf TEXT NOT NULL DEFAULT '{LEGACY_COST}'")


def _battle_details(db: sqlite3.Connection) -> None:
    """Reply lengths and "both bad" for human battles; device cookies for sign-in."""
    _run(
        db,
        "ALTER TABLE battles ADD COLUMN length_a INTEGER",
        "ALTER TABLE battles ADD COLUMN length_b INTEGER",
        "ALTER TABLE battles ADD COLUMN both_bad INTEGER NOT NULL DEFAULT 0",
        "CREATE TABLE devices (key TEXT PRIMARY KEY, "
        "user_id INTEGER NOT NULL REFERENCES users(id), created REAL NOT NULL)",
    )


def _rating_tasks(db: sqlite3.Connection) -> None:
    """Rating tasks: sessions assigned to annotators, rated on a judge's rubric card."""
    _run(
        db,
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, "
        "rubric TEXT NOT NULL, card TEXT NOT NULL, fingerprint TEXT NOT NULL, "
        "source TEXT NOT NULL, overlap INTEGER NOT NULL, created REAL NOT NULL)",
        "CREATE TABLE task_items (id INTEGER PRIMARY KEY, "
        "task_id INTEGER NOT NULL REFERENCES tasks(id), corpus TEXT NOT NULL, "
        "dialogue_id TEXT NOT NULL, session TEXT NOT NULL, "
        "UNIQUE (task_id, corpus, dialogue_id))",
        "CREATE TABLE assignments (item_id INTEGER NOT NULL REFERENCES task_items(id), "
        "user_id INTEGER NOT NULL REFERENCES users(id), position INTEGER NOT NULL, "
        "finished REAL, PRIMARY KEY (item_id, user_id))",
        "CREATE INDEX assignments_by_user ON assignments (user_id, position)",
        "CREATE TABLE ratings (item_id INTEGER NOT NULL, user_id INTEGER NOT NULL, "
        "rubric_item TEXT NOT NULL, value TEXT NOT NULL, updated REAL NOT NULL, "
        "PRIMARY KEY (item_id, user_id, rubric_item), "
        "FOREIGN KEY (item_id, user_id) REFERENCES assignments(item_id, user_id))",
    )


def _run(db: sqlite3.Connection, *statements: str) -> None:
    """One statement at a time: ``executescript`` would commit the open transaction."""
    for statement in statements:
        db.execute(statement)


# In order: the file's user_version is the number of migrations applied.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _password_cost,
    _battle_details,
    _rating_tasks,
)


def migrate(db: sqlite3.Connection) -> None:
    """Create the first release's tables if missing, then apply what the file lacks."""
    db.executescript(FIRST_RELEASE)
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version >= len(MIGRATIONS):
                db.execute("COMMIT")
                return
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
