"""Repair a damaged run directory so that a plain re-run resumes it.

A run directory can be damaged by hand edits, a copy cut short, a disk that filled up
or two writers from before the lock existed. Nothing is guessed and nothing is thrown
away: every line that cannot be used as it stands (not JSON, not an object, no ``id``,
an id recorded twice, a torn last line) is moved to ``quarantine.jsonl`` with its file,
line, reason and raw text; the good lines stay in order. A damaged manifest is moved
there too, so the next run writes a fresh one. Leftover ``*.tmp`` files are removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from interactive_agents.errors import RunDirectoryError
from interactive_agents.runtime.store._lock import RunLock
from interactive_agents.runtime.store._store import (
    MANIFEST,
    QUARANTINE,
    RESULT_FILES,
    LineProblem,
    append_quarantine,
    manifest_problem,
    scan_jsonl,
    storage_error,
    write_atomic,
)


@dataclass
class RepairReport:
    """What :func:`repair_run` found and did."""

    directory: str
    quarantined: list[dict[str, object]] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)
    manifest: str = "ok"
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.quarantined or self.removed)


def _is_run_directory(path: Path) -> bool:
    return any((path / name).exists() for name in (MANIFEST, *RESULT_FILES))


def _repair_lines(path: Path, report: RepairReport) -> None:
    """Quarantine the unusable lines of one JSON Lines file, then keep only the rest."""
    items = list(scan_jsonl(path, keyed=path.name in RESULT_FILES))
    problems = [item for _, item in items if isinstance(item, LineProblem)]
    report.kept[path.name] = len(items) - len(problems)
    if not problems:
        return
    bad = {problem.line for problem in problems}
    with path.open("rb") as handle:
        kept = b"".join(
            raw for number, raw in enumerate(handle, start=1) if raw.strip() and number not in bad
        )
    # Quarantine first: a crash in between leaves a line in both places, never in none.
    append_quarantine(path.parent, problems)
    write_atomic(path, kept)
    report.quarantined.extend(
        {"file": p.file.name, "line": p.line, "reason": p.reason} for p in problems
    )


def _repair_manifest(directory: Path, report: RepairReport) -> None:
    path = directory / MANIFEST
    if not path.exists():
        report.manifest = "missing: the next run writes one"
        return
    data = path.read_bytes()
    problem = manifest_problem(data)
    if problem is None:
        return
    append_quarantine(directory, [LineProblem(path, 1, f"manifest {problem}", data)])
    path.unlink()
    report.quarantined.append({"file": MANIFEST, "line": 1, "reason": f"manifest {problem}"})
    report.manifest = (
        f"{problem}: moved to {QUARANTINE}; the next run writes a new one, so re-run "
        "with the same options as before (the configuration check starts afresh)"
    )


def repair_run(directory: str | Path) -> RepairReport:
    """Repair the run directory ``directory`` while holding its lock.

    Raises :class:`RunDirectoryError` when it is not a run directory and
    :class:`~interactive_agents.errors.RunLockedError` while a run is writing it.
    """
    path = Path(directory)
    if not path.is_dir() or not _is_run_directory(path):
        raise RunDirectoryError(
            f"{path}: not a run directory (no {MANIFEST}, {' or '.join(RESULT_FILES)})"
        )
    report = RepairReport(str(path))
    lock = RunLock(path)
    lock.acquire()
    try:
        for temporary in sorted(path.glob("*.tmp")):
            temporary.unlink()
            report.removed.append(temporary.name)
        _repair_manifest(path, report)
        for file in sorted(path.glob("*.jsonl")):
            if file.name != QUARANTINE:
                _repair_lines(file, report)
    except OSError as exc:
        raise storage_error(path, exc) from exc
    finally:
        lock.release()
    return report
