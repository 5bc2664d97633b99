"""Rating tasks in the annotation database: sessions assigned to annotators, rated on a rubric.

A task holds its rubric (the judge's card as people see it, kept as it was when the task
was made), its sessions (the transcripts, so the database stands alone) and who rates
which (:mod:`.assignment`). An annotator's ratings are saved item by item as they go
and the session is *finished* when they submit it with every item rated; they may come
back to any session, finished or not, and change it. Progress is counted per annotator
and per task, and the finished ratings leave as :class:`~interactive_agents.ratings.Rating`
lines (``annotate export --task``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from interactive_agents.annotation._assignment import plan_assignment
from interactive_agents.annotation._database import MAX_ID, AnnotationStore, NotFound, User
from interactive_agents.annotation._rubrics import RatingRubric, split_item
from interactive_agents.corpora import Corpus, Dialogue
from interactive_agents.errors import InputError
from interactive_agents.method._quality import text_tokens
from interactive_agents.ratings._rating_records import Rating, Value


@dataclass(frozen=True, slots=True)
class TaskSession:
    """One session to rate: its corpus, its id there, and its utterances (role, text)."""

    corpus: str
    dialogue_id: str
    turns: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One session in an annotator's queue: ``rated`` of its ``items`` so far,
    ``finished`` or not."""

    item_id: int
    position: int
    dialogue_id: str
    rated: int
    finished: bool
    items: int


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as one annotator sees it: their sessions in their order."""

    id: int
    name: str
    rubric: RatingRubric
    queue: tuple[QueueEntry, ...]

    @property
    def finished(self) -> int:
        return sum(entry.finished for entry in self.queue)


@dataclass(frozen=True, slots=True)
class ItemView:
    """One session of a task with this annotator's ratings so far; ``rubric`` is the
    session's form (:meth:`RatingRubric.session_form`)."""

    item_id: int
    task_id: int
    task: str
    rubric: RatingRubric
    session: TaskSession
    values: dict[str, Value]
    finished: bool
    position: int
    assigned: int


@dataclass(frozen=True, slots=True)
class AnnotatorProgress:
    name: str
    assigned: int
    started: int  # at least one item rated, not finished
    finished: int


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """A task's progress: per annotator, and per session how many finished it."""

    name: str
    rubric: str
    sessions: int
    overlap: int
    annotators: tuple[AnnotatorProgress, ...]
    complete: int  # sessions every assigned annotator finished
    comparable: int  # sessions at least two annotators finished (human-human agreement)

    @property
    def assigned(self) -> int:
        return sum(a.assigned for a in self.annotators)

    @property
    def finished(self) -> int:
        return sum(a.finished for a in self.annotators)

    def to_dict(self) -> dict[str, Any]:
        """The progress as JSON-ready data (the web page's and ``annotate progress --json``)."""
        return {
            "name": self.name,
            "rubric": self.rubric,
            "sessions": self.sessions,
            "overlap": self.overlap,
            "assigned": self.assigned,
            "finished": self.finished,
            "complete": self.complete,
            "comparable": self.comparable,
            "annotators": [
                {
                    "name": a.name,
                    "assigned": a.assigned,
                    "started": a.started,
                    "finished": a.finished,
                }
                for a in self.annotators
            ],
        }


def task_sessions(corpora: Sequence[Corpus]) -> list[TaskSession]:
    """The sessions of ``corpora`` people can rate: both parties said something."""
    sessions = []
    seen: set[tuple[str, str]] = set()
    for corpus in corpora:
        for dialogue in corpus.dialogues:
            if not _rateable(dialogue):
                continue
            key = (corpus.name, dialogue.id)
            if key in seen:
                raise InputError(f"the dialogue id {dialogue.id!r} occurs twice", file=corpus.name)
            seen.add(key)
            turns = tuple((u.role, u.content) for u in dialogue.turns)
            sessions.append(TaskSession(corpus.name, dialogue.id, turns))
    return sessions


def _rateable(dialogue: Dialogue) -> bool:
    return {u.role for u in dialogue.turns if u.content.strip()} == {"client", "counselor"}


class TaskStore:
    """Rating tasks over an :class:`AnnotationStore`'s database."""

    def __init__(self, store: AnnotationStore) -> None:
        self.store = store

    def create(
        self,
        name: str,
        rubric: RatingRubric,
        sessions: Sequence[TaskSession],
        annotators: Sequence[User],
        *,
        overlap: int,
        seed: int,
        source: str,
    ) -> TaskProgress:
        """Make the task and assign every session to ``overlap`` of ``annotators``."""
        name = name.strip()
        if not name or len(name) > 64 or not name.isprintable():
            raise InputError("must be 1 to 64 printable characters", field="task")
        if not sessions:
            raise InputError("no session to rate (each needs a client and a counselor turn)",
                             field="corpus")  # fmt: skip
        if len({user.id for user in annotators}) != len(annotators):
            raise InputError("an annotator is named twice", field="annotators")
        plan = plan_assignment(len(sessions), len(annotators), overlap, seed)
        now = time.time()
        with self.store.transaction() as db:
            try:
                task_id = db.execute(
                    "INSERT INTO tasks (name, rubric, card, fingerprint, source, overlap, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (name, rubric.name, rubric.to_json(), rubric.fingerprint(), source, overlap,
                     now),
                ).lastrowid  # fmt: skip
            except sqlite3.IntegrityError as exc:
                raise InputError(f"the task {name!r} exists already", field="task") from exc
            item_ids = []
            for session in sessions:
                cursor = db.execute(
                    "INSERT INTO task_items (task_id, corpus, dialogue_id, session) "
                    "VALUES (?, ?, ?, ?)",
                    (task_id, session.corpus, session.dialogue_id, orjson.dumps(session.turns)),
                )
                item_ids.append(cursor.lastrowid)
            for annotator, order in zip(annotators, plan.order, strict=True):
                db.executemany(
                    "INSERT INTO assignments (item_id, user_id, position) VALUES (?, ?, ?)",
                    [(item_ids[s], annotator.id, p) for p, s in enumerate(order, start=1)],
                )
        return self.progress(name)[0]

    # -- an annotator's view -------------------------------------------------------

    def tasks_of(self, user: User) -> list[TaskView]:
        """The tasks ``user`` has sessions in, oldest first."""
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT DISTINCT t.id, t.name, t.card FROM tasks t JOIN task_items i "
                "ON i.task_id = t.id JOIN assignments a ON a.item_id = i.id "
                "WHERE a.user_id = ? ORDER BY t.id",
                (user.id,),
            ).fetchall()
            views = []
            for task_id, name, card in rows:
                rubric = RatingRubric.from_json(card)
                queue = self._queue(db, user, task_id, rubric)
                views.append(TaskView(task_id, name, rubric, queue))
            return views

    @staticmethod
    def _queue(
        db: sqlite3.Connection, user: User, task_id: int, rubric: RatingRubric
    ) -> tuple[QueueEntry, ...]:
        rows = db.execute(
            "SELECT i.id, a.position, i.dialogue_id, a.finished IS NOT NULL, "
            "(SELECT COUNT(*) FROM ratings r WHERE r.item_id = i.id AND r.user_id = a.user_id), "
            f"{'i.session' if rubric.per_reply else 'NULL'} "
            "FROM assignments a JOIN task_items i ON i.id = a.item_id "
            "WHERE a.user_id = ? AND i.task_id = ? ORDER BY a.position",
            (user.id, task_id),
        ).fetchall()
        return tuple(
            QueueEntry(r[0], r[1], r[2], r[4], bool(r[3]), _items(rubric, r[5])) for r in rows
        )

    def item(self, user: User, item_id: int) -> ItemView:
        with self.store.transaction() as db:
            return self._item(db, user, item_id)

    @staticmethod
    def _item(db: sqlite3.Connection, user: User, item_id: int) -> ItemView:
        if not 0 < item_id <= MAX_ID:
            raise NotFound(item_id)
        row = db.execute(
            "SELECT t.id, t.name, t.card, i.corpus, i.dialogue_id, i.session, a.finished, "
            "a.position, (SELECT COUNT(*) FROM assignments b JOIN task_items j "
            " ON j.id = b.item_id WHERE b.user_id = a.user_id AND j.task_id = t.id) "
            "FROM assignments a JOIN task_items i ON i.id = a.item_id "
            "JOIN tasks t ON t.id = i.task_id WHERE a.item_id = ? AND a.user_id = ?",
            (item_id, user.id),
        ).fetchone()
        if row is None:
            raise NotFound(item_id)
        values = {
            rubric_item: _decoded(value)
            for rubric_item, value in db.execute(
                "SELECT rubric_item, value FROM ratings WHERE item_id = ? AND user_id = ?",
                (item_id, user.id),
            )
        }
        turns = tuple((str(role), str(text)) for role, text in orjson.loads(row[5]))
        return ItemView(
            item_id=item_id,
            task_id=row[0],
            task=row[1],
            rubric=RatingRubric.from_json(row[2]).session_form(turns),
            session=TaskSession(row[3], row[4], turns),
            values=values,
            finished=row[6] is not None,
            position=row[7],
            assigned=row[8],
        )

    def save(
        self, user: User, item_id: int, values: Mapping[str, Any], *, finish: bool
    ) -> ItemView:
        """Store the values given (checked against the rubric); ``finish`` submits the
        session, which needs every item rated (a finished session stays finished: its
        values can change, never go)."""
        with self.store.transaction() as db:
            current = self._item(db, user, item_id)
            checked = current.rubric.checked(values)
            missing = current.rubric.missing({**current.values, **checked})
            if finish and missing:
                raise InputError(f"rate every item first: {', '.join(missing)}", field="values")
            conflicts = current.rubric.conflicts({**current.values, **checked})
            if finish and conflicts:
                raise InputError(
                    f"none goes with none, a problem with its kind: {', '.join(conflicts)}",
                    field="values",
                )
            now = time.time()
            db.executemany(
                "INSERT INTO ratings VALUES (?, ?, ?, ?, ?) ON CONFLICT "
                "(item_id, user_id, rubric_item) DO UPDATE SET value = excluded.value, "
                "updated = excluded.updated",
                [(item_id, user.id, key, _encoded(value), now) for key, value in checked.items()],
            )
            if finish and not current.finished:
                db.execute(
                    "UPDATE assignments SET finished = ? WHERE item_id = ? AND user_id = ?",
                    (now, item_id, user.id),
                )
            return self._item(db, user, item_id)

    # -- the lead's view -------------------------------------------------------------

    def progress(self, name: str | None = None) -> list[TaskProgress]:
        """Every task's progress (or the one named), oldest first."""
        with self.store.transaction() as db:
            tasks = db.execute(
                "SELECT id, name, rubric, overlap FROM tasks "
                "WHERE ? IS NULL OR name = ? ORDER BY id",
                (name, name),
            ).fetchall()
            if name is not None and not tasks:
                raise InputError(f"no task named {name!r}", field="task")
            return [self._progress(db, *task) for task in tasks]

    @staticmethod
    def _progress(
        db: sqlite3.Connection, task_id: int, name: str, rubric: str, overlap: int
    ) -> TaskProgress:
        rows = db.execute(
            "SELECT u.name, COUNT(*), SUM(a.finished IS NOT NULL), "
            "SUM(a.finished IS NULL AND EXISTS (SELECT 1 FROM ratings r "
            " WHERE r.item_id = a.item_id AND r.user_id = a.user_id)) "
            "FROM assignments a JOIN task_items i ON i.id = a.item_id "
            "JOIN users u ON u.id = a.user_id WHERE i.task_id = ? GROUP BY u.id ORDER BY u.name",
            (task_id,),
        ).fetchall()
        per_session = db.execute(
            "SELECT COUNT(*), SUM(a.finished IS NOT NULL) FROM assignments a "
            "JOIN task_items i ON i.id = a.item_id WHERE i.task_id = ? GROUP BY i.id",
            (task_id,),
        ).fetchall()
        return TaskProgress(
            name=name,
            rubric=rubric,
            sessions=len(per_session),
            overlap=overlap,
            annotators=tuple(AnnotatorProgress(r[0], r[1], r[3], r[2]) for r in rows),
            complete=sum(1 for assigned, done in per_session if done == assigned),
            comparable=sum(1 for _, done in per_session if done >= 2),
        )

    def export(self, name: str) -> list[Rating]:
        """Every finished session's ratings of the task ``name``, one per rubric item."""
        with self.store.transaction() as db:
            task = db.execute(
                "SELECT id, card, fingerprint FROM tasks WHERE name = ?", (name,)
            ).fetchone()
            if task is None:
                raise InputError(f"no task named {name!r}", field="task")
            sessions = {
                (corpus, dialogue_id): orjson.loads(session)
                for corpus, dialogue_id, session in db.execute(
                    "SELECT corpus, dialogue_id, session FROM task_items WHERE task_id = ?",
                    (task[0],),
                )
            }
            rows = db.execute(
                "SELECT i.corpus, i.dialogue_id, u.name, r.rubric_item, r.value, r.updated "
                "FROM ratings r JOIN assignments a ON a.item_id = r.item_id "
                "AND a.user_id = r.user_id JOIN task_items i ON i.id = r.item_id "
                "JOIN users u ON u.id = r.user_id "
                "WHERE i.task_id = ? AND a.finished IS NOT NULL ORDER BY i.id, u.name",
                (task[0],),
            ).fetchall()
        rubric = RatingRubric.from_json(task[1])
        order = {item.id: index for index, item in enumerate(rubric.items)}

        def position(row: tuple[Any, ...]) -> tuple[Any, ...]:
            base, reply = split_item(row[3])
            return row[0], row[1], row[2], int(reply or 0), order.get(base, len(order))

        ratings = []
        for corpus, dialogue_id, annotator, item_id, value, updated in sorted(rows, key=position):
            base, reply = split_item(item_id)
            item = rubric.item(base)
            turns = sessions[(corpus, dialogue_id)]
            ratings.append(
                Rating(
                    corpus=corpus,
                    dialogue_id=dialogue_id,
                    rater=f"human:{annotator}",
                    rubric=rubric.name,
                    item=base,
                    level=item.level,
                    scale=item.scale,
                    value=_decoded(value),
                    task=name,
                    fingerprint=task[2],
                    length=_length(turns, None if reply is None else int(reply)),
                    timestamp=updated,
                    reply=None if reply is None else int(reply),
                )
            )
        return ratings


def _length(turns: Sequence[Sequence[str]], reply: int | None) -> int:
    """The session's length in tokens (as the quality flags count them), or the reply's
    (the ``reply``-th counselor turn) when one reply is rated."""
    if reply is None:
        return sum(len(text_tokens(text)) for _, text in turns)
    replies = [text for role, text in turns if role == "counselor"]
    return len(text_tokens(replies[reply - 1]))


def _items(rubric: RatingRubric, session: str | None) -> int:
    """How many items a session of the task has (a per-reply rubric's depend on it)."""
    if session is None:
        return len(rubric.items)
    turns = [(str(role), str(text)) for role, text in orjson.loads(session)]
    return len(rubric.session_form(turns).items)


def _encoded(value: Value) -> str:
    return orjson.dumps(list(value) if isinstance(value, tuple) else value).decode()


def _decoded(text: str) -> Value:
    value = orjson.loads(text)
    return tuple(value) if isinstance(value, list) else value
