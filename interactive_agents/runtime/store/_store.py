"""The run directory: manifest, ``dialogues.jsonl``, ``failures.jsonl`` and ``journal.jsonl``.

Files are only ever appended to, one JSON line per finished session, by one writer:
opening the store takes the directory's lock (:mod:`.run_lock`) and closing it gives
the lock back. A process killed mid-write leaves at most a torn last line, which is cut
off when the run is resumed (its bytes are kept in ``quarantine.jsonl``); every id
already present counts as done, so nothing is redone or duplicated. The manifest
fingerprints what shapes the dialogues, and a resume with a different fingerprint is
refused unless forced.

The journal holds one line per completed turn of a dialogue not yet recorded (its id,
the turn's index in the transcript, the turn as the record will hold it and the usage
so far), so a resumed run continues each unfinished dialogue from its last completed
turn instead of its first. Opening the store keeps only the lines of dialogues that are
still unrecorded (a torn last line is cut like a record's) and hands them back as
:class:`ResumePoint` objects.

Anything else that is wrong with the files (a corrupt line in the middle, a record
without an id, an id recorded twice, a manifest that is not a JSON object) is not
guessed at: opening fails with :class:`RunDirectoryError` naming the file and line and
``interactive-agents repair RUN_DIR`` (:mod:`.run_repair`), which moves such lines to
the quarantine file. A failed write (disk full, an I/O error) raises
:class:`RunStorageError` with one line and leaves no temporary file behind.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from interactive_agents.errors import RunDirectoryError, RunStorageError
from interactive_agents.llm._messages import Usage
from interactive_agents.method._records import DialogueRecord, FailureRecord, Rejection, Turn
from interactive_agents.runtime.store._lock import RunLock

DIALOGUES = "dialogues.jsonl"
FAILURES = "failures.jsonl"
MANIFEST = "manifest.json"
QUARANTINE = "quarantine.jsonl"
JOURNAL = "journal.jsonl"
# The files whose records are finished dialogues, keyed by a unique string ``id``.
RESULT_FILES = (DIALOGUES, FAILURES)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def storage_error(path: Path, exc: OSError) -> RunStorageError:
    """One line for a failed write: which file, and what the system said."""
    reason = exc.strerror or str(exc)
    return RunStorageError(
        f"{path}: cannot write ({reason}); free space or fix the directory, then re-run "
        "the same command to resume"
    )


def repair_hint(directory: Path) -> str:
    return f"run `interactive-agents repair {directory}` to move it to {QUARANTINE}, then re-run"


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A line of a run file that cannot be used as it is."""

    file: Path
    line: int
    reason: str
    raw: bytes
    torn: bool = False  # the last line, without its newline: an interrupted write


def scan_jsonl(
    path: Path, *, keyed: bool = False
) -> Iterator[tuple[int, dict[str, Any] | LineProblem]]:
    """Each line of ``path`` by number: its record, or what is wrong with it.

    Blank lines are skipped. With ``keyed`` (dialogues and failures) every record must
    hold a non-empty string ``id`` that no earlier line holds.
    """
    if not path.exists():
        return
    seen: dict[str, int] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            if not raw.endswith(b"\n"):
                yield number, LineProblem(path, number, "torn last line", raw, torn=True)
                return
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield number, LineProblem(path, number, f"not JSON ({exc})", raw)
                continue
            if not isinstance(record, dict):
                yield number, LineProblem(path, number, "not a JSON object", raw)
                continue
            if keyed:
                key = record.get("id")
                if not isinstance(key, str) or not key:
                    yield number, LineProblem(path, number, "no string 'id'", raw)
                    continue
                if key in seen:
                    reason = f"id {key!r} already recorded on line {seen[key]}"
                    yield number, LineProblem(path, number, reason, raw)
                    continue
                seen[key] = number
            yield number, record


def _damaged(problem: LineProblem) -> RunDirectoryError:
    return RunDirectoryError(
        f"{problem.file}, line {problem.line}: {problem.reason}; {repair_hint(problem.file.parent)}"
    )


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSON Lines file of ours (a torn last line is ignored).

    A damaged line raises :class:`RunDirectoryError` naming the file and line.
    """
    for _, item in scan_jsonl(path):
        if isinstance(item, LineProblem):
            if item.torn:
                return
            raise _damaged(item)
        yield item


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest of the run directory ``path`` (None when there is none yet)."""
    manifest_path = path / MANIFEST
    try:
        data = manifest_path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunDirectoryError(f"{manifest_path}: cannot be read ({exc.strerror})") from exc
    problem = manifest_problem(data)
    if problem is not None:
        raise RunDirectoryError(f"{manifest_path}: {problem}; {repair_hint(path)}")
    manifest: dict[str, Any] = orjson.loads(data)
    return manifest


def manifest_problem(data: bytes) -> str | None:
    """What makes ``data`` unusable as a manifest, or None."""
    if not data.strip():
        return "empty"
    try:
        manifest = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return f"not JSON ({exc})"
    if not isinstance(manifest, dict):
        return "not a JSON object"
    if not isinstance(manifest.get("fingerprint"), str):
        return "no string 'fingerprint'"
    return None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` all at once; on failure nothing is left behind."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with suppress(OSError):
            temporary.unlink()
        raise storage_error(path, exc) from exc


def append_quarantine(directory: Path, problems: list[LineProblem]) -> None:
    """Keep the raw text of unusable lines, with where they came from and why."""
    if not problems:
        return
    path = directory / QUARANTINE
    data = b"".join(
        orjson.dumps(
            {
                "file": problem.file.name,
                "line": problem.line,
                "reason": problem.reason,
                "raw": problem.raw.decode("utf-8", "replace"),
                "time": _now(),
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
        for problem in problems
    )
    try:
        with path.open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise storage_error(path, exc) from exc


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line that has no newline (a write interrupted by a kill), keeping
    its bytes in the quarantine file."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return
        with path.open("rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) == b"\n":
                return
            handle.seek(0)
            data = handle.read()
            end = data.rfind(b"\n") + 1
            line = data.count(b"\n", 0, end) + 1
            append_quarantine(
                path.parent,
                [LineProblem(path, line, "torn last line, cut on resume", data[end:], torn=True)],
            )
            handle.truncate(end)
    except OSError as exc:
        raise storage_error(path, exc) from exc


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where an unfinished dialogue stands: its completed turns after the opening greeting
    (transcript indices 1, 2, ...) and the usage of the whole dialogue so far."""

    turns: tuple[Turn, ...]
    usage: Usage


def _turn(document: Any) -> Turn:
    if not isinstance(document, dict) or document.get("role") not in ("client", "counselor"):
        raise ValueError("'record' is not a turn")
    if not isinstance(document.get("content"), str):
        raise ValueError("'record' has no string 'content'")
    rejected = tuple(
        Rejection(str(item["content"]), str(item["reason"]))
        for item in document.get("rejected", ())
    )
    return Turn(
        document["role"],
        document["content"],
        document.get("stage"),
        rejected,
        bool(document.get("refiner_gave_up", False)),
        document.get("stage_source"),
        document.get("reasoning"),
    )


def journal_entry(line: dict[str, Any]) -> tuple[str, int, Turn, Usage]:
    """The dialogue id, transcript index, turn and usage so far of one journal line."""
    key, index, usage = line.get("id"), line.get("turn"), line.get("usage")
    if not isinstance(key, str) or not key:
        raise ValueError("no string 'id'")
    if not isinstance(index, int) or isinstance(index, bool) or index < 1:
        raise ValueError("'turn' is not a positive integer")
    if not isinstance(usage, dict) or not all(isinstance(v, int) for v in usage.values()):
        raise ValueError("'usage' is not an object of integers")
    return key, index, _turn(line.get("record")), Usage(**usage)


def read_journal(path: Path, recorded: set[str]) -> tuple[dict[str, ResumePoint], list[bytes]]:
    """The resume points of the dialogues the journal ``path`` holds that are not in
    ``recorded``, and the lines that describe them (the rest are obsolete).

    A turn index seen again replaces that turn and those after it (a turn redone after
    its line was lost); a gap or a line that is not a journal entry is an error.
    """
    turns: dict[str, list[Turn]] = {}
    usage: dict[str, Usage] = {}
    kept: list[bytes] = []
    for number, item in scan_jsonl(path):
        if isinstance(item, LineProblem):
            raise _damaged(item)
        try:
            key, index, turn, used = journal_entry(item)
        except (KeyError, TypeError, ValueError) as exc:
            raise RunDirectoryError(
                f"{path}, line {number}: not a journal line ({exc}); delete {JOURNAL} to "
                "restart the unfinished dialogues from their first turn"
            ) from exc
        if key in recorded:
            continue
        so_far = turns.setdefault(key, [])
        if index > len(so_far) + 1:
            raise RunDirectoryError(
                f"{path}, line {number}: turn {index} of {key!r} follows turn {len(so_far)}; "
                f"delete {JOURNAL} to restart the unfinished dialogues from their first turn"
            )
        del so_far[index - 1 :]
        so_far.append(turn)
        usage[key] = used
        kept.append(orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE))
    points = {key: ResumePoint(tuple(so_far), usage[key]) for key, so_far in turns.items()}
    return points, kept


class RunStore:
    """Reads what a run directory already holds and appends new results to it.

    ``companions`` names the files whose lines belong to a record (the file, and the
    field holding the record's id); they are written before their record.

    :meth:`open` takes the directory's lock (another live writer gives
    :class:`~interactive_agents.errors.RunLockedError`); :meth:`close` releases it and
    may be called more than once. Nothing is written unless it is open, and after a
    failed write the store refuses further writes, so nothing follows a partial line.
    """

    companions: tuple[tuple[str, str], ...] = ()

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done: set[str] = set()
        self.resume_points: dict[str, ResumePoint] = {}
        self._journaled: set[str] = set()  # the dialogues the journal holds lines of
        self.lock = RunLock(self.path)
        self._files: dict[str, IO[bytes]] = {}
        self._broken: RunStorageError | None = None
        self._manifest: dict[str, Any] = {}
        self.usage: dict[str, int] = {}  # summed over every record, across resumes

    def open(
        self, manifest: dict[str, Any], *, force: bool = False, retry_failed: bool = False
    ) -> set[str]:
        """Lock and prepare the directory; returns the ids already finished (or failed)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(self.path, exc) from exc
        self.lock.acquire()
        try:
            self.done = self._prepare(manifest, force=force, retry_failed=retry_failed)
        except BaseException:
            self.lock.release()
            raise
        self._broken = None
        return self.done

    def _prepare(self, manifest: dict[str, Any], *, force: bool, retry_failed: bool) -> set[str]:
        previous = read_manifest(self.path)
        if previous is not None:
            if previous["fingerprint"] != manifest["fingerprint"] and not force:
                raise RunDirectoryError(
                    f"{self.path} holds a run with another configuration (fingerprint "
                    f"{previous['fingerprint']}, now {manifest['fingerprint']}): "
                    "use another --out, or --force to continue it anyway"
                )
            manifest = {**manifest, "created": previous.get("created", manifest["created"])}
            manifest["resumed"] = [*previous.get("resumed", []), _now()]
        done: set[str] = set()
        recorded: set[str] = set()
        self.usage = {}
        for name in RESULT_FILES:
            _cut_torn_tail(self.path / name)
            for _, item in scan_jsonl(self.path / name, keyed=True):
                if isinstance(item, LineProblem):
                    raise _damaged(item)
                recorded.add(item["id"])
                if not (retry_failed and name == FAILURES):
                    _add_usage(self.usage, item.get("usage"))
                if not (retry_failed and name == FAILURES):
                    done.add(item["id"])
        self.resume_points = self._compact_journal(recorded)
        self._journaled = set(self.resume_points)
        self._manifest = manifest
        self._write_manifest()
        if retry_failed:
            write_atomic(self.path / FAILURES, b"")
        return done

    def _compact_journal(self, recorded: set[str]) -> dict[str, ResumePoint]:
        """Resume points of the unrecorded dialogues; the journal keeps only their lines
        (a failed dialogue retried with ``retry_failed`` starts again from turn 1)."""
        path = self.path / JOURNAL
        _cut_torn_tail(path)
        if not path.exists():
            return {}
        points, kept = read_journal(path, recorded)
        if sum(map(len, kept)) != path.stat().st_size:
            write_atomic(path, b"".join(kept))
        return points

    def _guard(self, path: Path, exc: OSError) -> RunStorageError:
        self._broken = storage_error(path, exc)
        return self._broken

    def _file(self, name: str) -> IO[bytes]:
        handle = self._files.get(name)
        if handle is None:
            path = self.path / name
            try:
                handle = self._files[name] = path.open("ab")
            except OSError as exc:
                raise self._guard(path, exc) from exc
        return handle

    def append(self, name: str, document: object) -> None:
        """One JSON line to the file ``name`` of the run directory (buffered; see flush)."""
        if self._broken is not None:
            raise self._broken
        if not self.lock.held:
            raise RunDirectoryError(f"{self.path}: the run store is not open (open it first)")
        line = orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)
        handle = self._file(name)
        try:
            handle.write(line)
        except OSError as exc:
            raise self._guard(self.path / name, exc) from exc

    def write(self, record: DialogueRecord | FailureRecord) -> None:
        """A finished dialogue's record, or its failure; either marks it done."""
        self.append(DIALOGUES if isinstance(record, DialogueRecord) else FAILURES, record)
        self.done.add(record.id)
        _add_usage(self.usage, record.usage)

    def adopt(
        self, name: str, record: dict[str, Any], companions: list[tuple[str, dict[str, Any]]]
    ) -> None:
        """A record finished elsewhere (a shard), with its companion lines before it;
        a record whose id is already here is not written again."""
        if record["id"] in self.done:
            return
        for file, line in companions:
            self.append(file, line)
        self.append(name, record)
        self.done.add(record["id"])
        _add_usage(self.usage, record.get("usage"))

    def note(self, section: str, value: object) -> None:
        """Add a section to the manifest (e.g. how a sharded run was split)."""
        self._manifest = {**self._manifest, section: value}
        self._write_manifest()

    def _write_manifest(self) -> None:
        """The manifest with the token usage of every record so far (cached tokens
        included), so a run's cost and prefix-cache hit rate are read off one file."""
        manifest = {**self._manifest, "usage": _usage_summary(self.usage)}
        write_atomic(self.path / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))

    def journal(self, dialogue_id: str, index: int, turn: Turn, usage: Usage) -> None:
        """A completed turn of a dialogue not recorded yet (buffered like records)."""
        self.append(JOURNAL, {"id": dialogue_id, "turn": index, "record": turn, "usage": usage})
        self._journaled.add(dialogue_id)

    def flush(self) -> None:
        if self._broken is not None:
            raise self._broken
        for name, handle in self._files.items():
            try:
                handle.flush()
            except OSError as exc:
                raise self._guard(self.path / name, exc) from exc

    def close(self) -> None:
        """Flush, sync and close the files, then release the lock.

        The journal is removed once every dialogue it holds is recorded. The lock is
        released even when the last write fails; that failure is raised (once) as
        :class:`RunStorageError`.
        """
        failure: RunStorageError | None = None
        try:
            for name, handle in self._files.items():
                try:
                    if self._broken is None:
                        handle.flush()
                        os.fsync(handle.fileno())
                except OSError as exc:
                    failure = failure or self._guard(self.path / name, exc)
                finally:
                    with suppress(OSError):
                        handle.close()
            self._files.clear()
            if failure is None and self._broken is None and self.lock.held:
                try:
                    self._write_manifest()
                except RunStorageError as exc:
                    failure = exc
            finished = failure is None and self._broken is None and self._journaled <= self.done
            if finished and self.lock.held:
                with suppress(OSError):  # left behind, it is compacted on resume
                    (self.path / JOURNAL).unlink(missing_ok=True)
        finally:
            self.lock.release()
        if failure is not None:
            raise failure


USAGE_FIELDS = ("calls", "retries", "prompt_tokens", "completion_tokens", "cached_tokens")


def _add_usage(totals: dict[str, int], usage: object) -> None:
    """Add a record's usage (a :class:`Usage` or its JSON object) to ``totals``."""
    for name in USAGE_FIELDS:
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
        if isinstance(value, int):
            totals[name] = totals.get(name, 0) + value


def _usage_summary(totals: dict[str, int]) -> dict[str, int | float]:
    summary: dict[str, int | float] = {name: totals.get(name, 0) for name in USAGE_FIELDS}
    prompt = summary["prompt_tokens"]
    summary["cached_share"] = round(summary["cached_tokens"] / prompt, 4) if prompt else 0.0
    return summary


def new_manifest(
    *,
    fingerprint: str,
    config: dict[str, Any],
    models: dict[str, str],
    seed: int,
    version: str,
    prompts: str,
) -> dict[str, Any]:
    """The manifest of a run (never holds secrets: only names of key variables)."""
    return {
        "format": 1,
        "package": "interactive-agents",
        "version": version,
        "fingerprint": fingerprint,
        "created": _now(),
        "models": models,
        "seed": seed,
        "prompts": prompts,
        "config": config,
    }
