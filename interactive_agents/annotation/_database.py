"""The annotation platform's SQLite store: accounts, sign-in sessions, device cookies,
battle dialogues and the battles people chose (rating tasks: :mod:`.task_store`).

One connection per operation, one ``BEGIN IMMEDIATE`` transaction per change, WAL
journal: safe to share between threads and to reopen after a restart. The file is
created readable by its owner only, and brought up to date by :mod:`.schema`.
"""

from __future__ import annotations

import hmac
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from interactive_agents.annotation._auth import (
    CURRENT_COST,
    MAX_PASSWORD,
    MIN_PASSWORD,
    ScryptCost,
    hash_password,
    new_token,
    token_key,
    verify_password,
)
from interactive_agents.annotation._schema import migrate
from interactive_agents.arena._battles import Battle, ShownOrder, Winner
from interactive_agents.errors import InputError
from interactive_agents.method._quality import text_tokens
from interactive_agents.method._records import Role, Turn

MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id names nothing
Verdict = Literal[1, 2, "tie", "both_bad"]  # as shown: reply 1, reply 2, or neither


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    admin: bool


@dataclass(frozen=True, slots=True)
class Pending:
    """Two candidate replies awaiting the annotator's choice, in the order shown."""

    reply_a: str
    reply_b: str
    shown_order: ShownOrder

    @property
    def shown(self) -> tuple[str, str]:
        return (
            (self.reply_a, self.reply_b)
            if self.shown_order == "ab"
            else (self.reply_b, self.reply_a)
        )

    def winner(self, verdict: Verdict) -> Winner:
        """The bot (a or b) of the reply shown at position 1 or 2, or a tie."""
        if verdict in ("tie", "both_bad"):
            return "tie"
        first_is_a = self.shown_order == "ab"
        return "a" if (verdict == 1) == first_is_a else "b"


@dataclass(frozen=True, slots=True)
class AnnotationDialogue:
    id: int
    bot_a: str
    bot_b: str
    turns: tuple[Turn, ...]
    pending: Pending | None


@dataclass(frozen=True, slots=True)
class DialogueSummary:
    """A line of the annotator's list: ``turns`` are finished exchanges (a client
    message and the reply kept); ``waiting`` when a choice is still to be made."""

    id: int
    turns: int
    waiting: bool


class NotFound(LookupError):
    """No such dialogue or item for this user (whether it exists for another is not told)."""


class AnnotationStore:
    """Opens a connection per operation; safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the database: {exc}", file=str(self.path)) from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")  # persistent: kept in the file
            migrate(db)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not an annotation database: {exc}", file=str(self.path)) from exc
        finally:
            db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one ``BEGIN IMMEDIATE`` transaction, committed on success."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    # -- users, sessions and devices -----------------------------------------------

    def add_user(self, name: str, password: str, *, admin: bool = False) -> User:
        name = name.strip()
        if not name or len(name) > 64 or not name.isprintable():
            raise InputError("must be 1 to 64 printable characters", field="name")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InputError(
                f"must have {MIN_PASSWORD} to {MAX_PASSWORD} characters", field="password"
            )
        salt, digest = hash_password(password)
        with self.transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO users (name, salt, hash, admin, created, kdf) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (name, salt, digest, int(admin), time.time(), str(CURRENT_COST)),
                )
            except sqlite3.IntegrityError as exc:
                raise InputError(f"the user {name!r} exists already", field="name") from exc
            return User(int(cursor.lastrowid or 0), name, admin)

    def users(self, names: list[str] | None = None) -> list[User]:
        """Every account in name order, or those of ``names`` (InputError for a missing one)."""
        with self.transaction() as db:
            rows = db.execute("SELECT id, name, admin FROM users ORDER BY name").fetchall()
        found = [User(r[0], r[1], bool(r[2])) for r in rows]
        if names is None:
            return found
        by_name = {user.name: user for user in found}
        missing = [name for name in names if name not in by_name]
        if missing:
            raise InputError(
                f"no such account: {', '.join(missing)} (create it with annotate add-user)",
                field="annotators",
            )
        return [by_name[name] for name in names]

    def sign_in(self, name: str, password: str, lifetime: float) -> str | None:
        """A new session token, or None if the name or password is wrong.

        An unknown name costs one scrypt at the current cost like a known one, so the
        time taken does not tell which names exist. A hash at an older cost is
        replaced by one at the current cost once the password is known to be right.
        """
        if len(password) > MAX_PASSWORD:
            return None
        with self.transaction() as db:
            row = db.execute(
                "SELECT id, salt, hash, kdf FROM users WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            hmac.compare_digest(hash_password(password)[1], secrets.token_bytes(32))
            return None
        cost = ScryptCost.parse(row[3])
        if not verify_password(password, row[1], row[2], cost):
            return None
        upgrade = hash_password(password) if cost != CURRENT_COST else None
        token = new_token()
        now = time.time()
        with self.transaction() as db:
            if upgrade is not None:
                db.execute(
                    "UPDATE users SET salt = ?, hash = ?, kdf = ? WHERE id = ?",
                    (*upgrade, str(CURRENT_COST), row[0]),
                )
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?)", (token_key(token), row[0], now + lifetime)
            )
        return token

    def sign_out(self, token: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE key = ?", (token_key(token),))

    def user_for(self, token: str) -> User | None:
        """The signed-in user of a live session."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT users.id, users.name, users.admin FROM sessions JOIN users "
                "ON users.id = sessions.user_id WHERE sessions.key = ? AND sessions.expires > ?",
                (token_key(token), time.time()),
            ).fetchone()
        return User(row[0], row[1], bool(row[2])) if row else None

    def add_device(self, user: User) -> str:
        """A device token for a browser where ``user`` just signed in (stored hashed)."""
        token = new_token()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO devices VALUES (?, ?, ?)", (token_key(token), user.id, time.time())
            )
        return token

    def device_owner(self, token: str) -> str | None:
        """The name of the account a device token was given to."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT users.name FROM devices JOIN users ON users.id = devices.user_id "
                "WHERE devices.key = ?",
                (token_key(token),),
            ).fetchone()
        return str(row[0]) if row else None

    # -- battle dialogues ------------------------------------------------------------

    def new_dialogue(self, user: User, bot_a: str, bot_b: str) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO dialogues (user_id, bot_a, bot_b, created) VALUES (?, ?, ?, ?)",
                (user.id, bot_a, bot_b, time.time()),
            )
            return int(cursor.lastrowid or 0)

    def dialogues(self, user: User) -> list[DialogueSummary]:
        """The user's dialogues, newest first."""
        with self.transaction() as db:
            rows = db.execute(
                "SELECT d.id, "
                "(SELECT COUNT(*) FROM turns t WHERE t.dialogue_id = d.id "
                " AND t.role = 'counselor'), "
                "EXISTS (SELECT 1 FROM pending p WHERE p.dialogue_id = d.id) "
                "FROM dialogues d WHERE d.user_id = ? ORDER BY d.id DESC",
                (user.id,),
            ).fetchall()
        return [DialogueSummary(int(r[0]), int(r[1]), bool(r[2])) for r in rows]

    def dialogue(self, user: User, dialogue_id: int) -> AnnotationDialogue:
        with self.transaction() as db:
            return self._dialogue(db, user, dialogue_id)

    @staticmethod
    def _dialogue(db: sqlite3.Connection, user: User, dialogue_id: int) -> AnnotationDialogue:
        if not 0 < dialogue_id <= MAX_ID:
            raise NotFound(dialogue_id)
        row = db.execute(
            "SELECT bot_a, bot_b FROM dialogues WHERE id = ? AND user_id = ?",
            (dialogue_id, user.id),
        ).fetchone()
        if row is None:
            raise NotFound(dialogue_id)
        turns = tuple(
            Turn(_role(role), content)
            for role, content in db.execute(
                "SELECT role, content FROM turns WHERE dialogue_id = ? ORDER BY idx",
                (dialogue_id,),
            )
        )
        waiting = db.execute(
            "SELECT reply_a, reply_b, shown_order FROM pending WHERE dialogue_id = ?",
            (dialogue_id,),
        ).fetchone()
        pending = Pending(waiting[0], waiting[1], waiting[2]) if waiting else None
        return AnnotationDialogue(dialogue_id, row[0], row[1], turns, pending)

    def add_exchange(
        self, user: User, dialogue_id: int, seen_turns: int, text: str, pending: Pending
    ) -> None:
        """Append the client's message and the candidates it drew, as one transaction.

        ``seen_turns`` is the length of the history the candidates answered: if it has
        changed since (a second tab, a double click), nothing is written.
        """
        with self.transaction() as db:
            dialogue = self._dialogue(db, user, dialogue_id)
            if dialogue.pending is not None:
                raise InputError("choose one of the two replies first", field="text")
            if len(dialogue.turns) != seen_turns:
                raise InputError("the dialogue changed meanwhile: reload it", field="text")
            db.execute(
                "INSERT INTO turns VALUES (?, ?, 'client', ?)", (dialogue_id, seen_turns, text)
            )
            db.execute(
                "INSERT INTO pending VALUES (?, ?, ?, ?)",
                (dialogue_id, pending.reply_a, pending.reply_b, pending.shown_order),
            )

    def choose(
        self, user: User, dialogue_id: int, verdict: Verdict, *, undecided_keeps: str = "a"
    ) -> None:
        """Record the battle for ``verdict`` and keep the chosen reply as the history.

        A tie or "both bad" names no reply: the one of bot ``undecided_keeps`` (the
        caller draws it at random) continues the dialogue.
        """
        with self.transaction() as db:
            dialogue = self._dialogue(db, user, dialogue_id)
            pending = dialogue.pending
            if pending is None:
                raise InputError("there is nothing to choose", field="choice")
            winner = pending.winner(verdict)
            turn = sum(1 for t in dialogue.turns if t.role == "client")
            db.execute(
                "INSERT INTO battles (dialogue_id, turn, bot_a, bot_b, shown_order, winner, "
                "judge, timestamp, length_a, length_b, both_bad) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dialogue_id,
                    turn,
                    dialogue.bot_a,
                    dialogue.bot_b,
                    pending.shown_order,
                    winner,
                    f"human:{user.name}",
                    time.time(),
                    len(text_tokens(pending.reply_a)),
                    len(text_tokens(pending.reply_b)),
                    int(verdict == "both_bad"),
                ),
            )
            kept = winner if winner != "tie" else undecided_keeps
            chosen = pending.reply_a if kept == "a" else pending.reply_b
            db.execute(
                "INSERT INTO turns VALUES (?, ?, 'counselor', ?)",
                (dialogue_id, len(dialogue.turns), chosen),
            )
            db.execute("DELETE FROM pending WHERE dialogue_id = ?", (dialogue_id,))

    def battles(self) -> list[Battle]:
        """Every battle of every annotator, in time order."""
        with self.transaction() as db:
            rows = db.execute(
                "SELECT dialogue_id, turn, bot_a, bot_b, shown_order, winner, judge, timestamp, "
                "length_a, length_b, both_bad FROM battles ORDER BY timestamp, id"
            ).fetchall()
        return [
            Battle(
                f"annotation-{r[0]}",
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                timestamp=r[7],
                length_a=r[8],
                length_b=r[9],
                both_bad=bool(r[10]),
            )
            for r in rows
        ]


def _role(value: str) -> Role:
    return "client" if value == "client" else "counselor"
