"""The run directory as users meet it: resume, damage and repair, one writer, a full disk.

Through the public API (:class:`RunStore`, ``repair_run``) and the CLI (``simulate`` and
``repair`` against the scripted loopback server).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.arena._store import ArenaStore
from interactive_agents.cli import main
from interactive_agents.cli._errors import EXIT_STORAGE, EXIT_USAGE
from interactive_agents.errors import RunDirectoryError, RunLockedError
from interactive_agents.judging._judgements import JudgeCache
from interactive_agents.runtime.store._repair import repair_run
from interactive_agents.runtime.store._store import (
    DIALOGUES,
    FAILURES,
    MANIFEST,
    RunStore,
    new_manifest,
)
from interactive_agents.testing import Call, FakeServer, ServerOptions, default_script

from .support import base_args, many_cards, read_records, said, start_cli, wait_for_records

ROOT = Path(__file__).resolve().parents[1]


def manifest(fingerprint: str = "f1", **config: Any) -> dict[str, Any]:
    return new_manifest(
        fingerprint=fingerprint, config=config, models={}, seed=0, version="0", prompts="p"
    )


def lines(*records: object) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def quarantined(run: Path) -> list[dict[str, Any]]:
    return read_records(run / "quarantine.jsonl")


def opened(run: Path, **options: bool) -> set[str]:
    store = RunStore(run)
    try:
        return set(store.open(manifest(), **options))
    finally:
        store.close()


# -- resume: torn tails, failures, the configuration check --------------------------------


def test_a_torn_tail_is_cut_on_resume_and_kept_in_quarantine(tmp_path: Path) -> None:
    (tmp_path / DIALOGUES).write_bytes(lines({"id": "a"}, {"id": "b"}) + b'{"id": "c", "tu')
    assert opened(tmp_path) == {"a", "b"}
    assert (tmp_path / DIALOGUES).read_bytes() == lines({"id": "a"}, {"id": "b"})
    (entry,) = quarantined(tmp_path)
    assert entry["file"] == DIALOGUES and entry["line"] == 3
    assert entry["raw"] == '{"id": "c", "tu' and "torn" in entry["reason"]


def test_failed_ids_count_as_done_unless_retry_failed(tmp_path: Path) -> None:
    (tmp_path / DIALOGUES).write_bytes(lines({"id": "a"}))
    (tmp_path / FAILURES).write_bytes(lines({"id": "b", "error": {"type": "SessionError"}}))
    assert opened(tmp_path) == {"a", "b"}
    assert opened(tmp_path, retry_failed=True) == {"a"}
    assert (tmp_path / FAILURES).read_bytes() == b""
    assert (tmp_path / DIALOGUES).read_bytes() == lines({"id": "a"})


def test_another_configuration_is_refused_unless_forced(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    store.open(manifest("f1"))
    store.append(DIALOGUES, {"id": "a"})
    store.close()
    created = orjson.loads((tmp_path / MANIFEST).read_bytes())["created"]
    with pytest.raises(RunDirectoryError, match=r"another configuration.*--force"):
        RunStore(tmp_path).open(manifest("f2"))
    forced = RunStore(tmp_path)
    assert forced.open(manifest("f2"), force=True) == {"a"}
    forced.close()
    written = orjson.loads((tmp_path / MANIFEST).read_bytes())
    assert written["fingerprint"] == "f2" and written["created"] == created
    assert len(written["resumed"]) == 1


# -- a damaged directory: named by file and line, repaired, resumed ------------------------

DAMAGE = {
    "corrupt middle line": (DIALOGUES, lines({"id": "a"}) + b"{not json\n" + lines({"id": "b"})),
    "record without id": (DIALOGUES, lines({"id": "a"}, {"turns": []}, {"id": "b"})),
    "id recorded twice": (DIALOGUES, lines({"id": "a"}, {"id": "a"}, {"id": "b"})),
    "not an object": (FAILURES, lines({"id": "a"}, [1, 2], {"id": "b"})),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_line_names_file_and_line_and_repair_resumes(tmp_path: Path, damage: str) -> None:
    name, data = DAMAGE[damage]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(RunDirectoryError) as caught:
        opened(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path / name}, line 2:" in message
    assert f"interactive-agents repair {tmp_path}" in message and "\n" not in message
    assert not (tmp_path / MANIFEST).exists()  # nothing written into a damaged directory

    result = CliRunner().invoke(main, ["repair", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert [(q["file"], q["line"]) for q in report["quarantined"]] == [(name, 2)]
    (entry,) = quarantined(tmp_path)
    assert entry["file"] == name and entry["line"] == 2
    assert entry["raw"].encode() == data.splitlines(keepends=True)[1]
    assert opened(tmp_path) == {"a", "b"}  # a plain re-run resumes
    again = CliRunner().invoke(main, ["repair", str(tmp_path), "--json"])
    assert orjson.loads(again.stdout)["quarantined"] == []


@pytest.mark.parametrize("content", [b"", b"  \n", b"[1, 2]", b"{broken", b'{"seed": 1}'])
def test_a_damaged_manifest_is_named_and_repaired(tmp_path: Path, content: bytes) -> None:
    (tmp_path / MANIFEST).write_bytes(content)
    (tmp_path / DIALOGUES).write_bytes(lines({"id": "a"}))
    with pytest.raises(RunDirectoryError, match=f"{MANIFEST}: .*interactive-agents repair"):
        opened(tmp_path)
    result = CliRunner().invoke(main, ["repair", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert "same options" in orjson.loads(result.stdout)["manifest"]
    (entry,) = quarantined(tmp_path)
    assert entry["file"] == MANIFEST and entry["raw"].encode() == content
    assert opened(tmp_path) == {"a"}
    assert orjson.loads((tmp_path / MANIFEST).read_bytes())["fingerprint"] == "f1"


def test_repair_removes_leftover_temporaries_and_refuses_non_run_directories(
    tmp_path: Path,
) -> None:
    (tmp_path / DIALOGUES).write_bytes(lines({"id": "a"}))
    (tmp_path / "manifest.json.tmp").write_bytes(b"")
    report = repair_run(tmp_path)
    assert report.removed == ["manifest.json.tmp"] and report.kept == {DIALOGUES: 1}
    assert not (tmp_path / "manifest.json.tmp").exists()
    shown = CliRunner().invoke(main, ["repair", str(tmp_path)])
    assert shown.exit_code == 0 and "nothing to repair: re-run" in shown.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(main, ["repair", str(empty)])
    assert result.exit_code == EXIT_USAGE and "not a run directory" in result.output


def test_repair_help_has_examples() -> None:
    result = CliRunner().invoke(main, ["repair", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "quarantine.jsonl" in result.output


# -- one writer per run directory ---------------------------------------------------------


def test_a_second_store_is_refused_naming_the_holder(tmp_path: Path) -> None:
    first = RunStore(tmp_path)
    first.open(manifest())
    try:
        with pytest.raises(RunLockedError) as caught:
            RunStore(tmp_path).open(manifest())
        message = str(caught.value)
        assert f"pid {os.getpid()} on {socket.gethostname()} since " in message
        with pytest.raises(RunLockedError):
            repair_run(tmp_path)
    finally:
        first.close()
    assert opened(tmp_path) == set()  # released on close


HOLDER = """
import sys
from interactive_agents.runtime import RunStore
from interactive_agents.runtime.store._store import new_manifest
store = RunStore(sys.argv[1])
store.open(new_manifest(fingerprint="f1", config={}, models={}, seed=0, version="0",
                        prompts="p"))
print("open", flush=True)
sys.stdin.readline()
"""


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        with pytest.raises(RunLockedError, match=f"pid {holder.pid} "):
            opened(tmp_path)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()
    assert (tmp_path / "run.lock").exists()  # left behind by the kill, and yet free:
    assert opened(tmp_path) == set()


@pytest.mark.slow
def test_two_simulate_processes_on_one_out_give_one_record_per_card(
    server: FakeServer, tmp_path: Path
) -> None:
    server.options = ServerOptions(latency=0.02)
    cards = many_cards(tmp_path, 30)
    out = tmp_path / "run"
    args = [*base_args(server, out, cards), "--max-in-flight", "1"]
    first = start_cli(args)
    try:
        wait_for_records(out / DIALOGUES, 1, first)
        first.send_signal(signal.SIGSTOP)  # frozen mid-run, holding the lock
        assert first.poll() is None and len(read_records(out / DIALOGUES)) < 30
        second = CliRunner().invoke(main, args)
        assert second.exit_code == EXIT_USAGE
        assert f"{out} is being written by pid {first.pid} " in second.output
    finally:
        first.send_signal(signal.SIGCONT)
        _, stderr = first.communicate(timeout=120)
    assert first.returncode == 0, stderr
    ids = [record["id"] for record in read_records(out / DIALOGUES)]
    assert sorted(ids) == [f"c{i:03d}" for i in range(30)]


# -- retry-failed through the CLI ---------------------------------------------------------


def test_retry_failed_redoes_only_the_failed_cards(server: FakeServer, tmp_path: Path) -> None:
    def silent_on_card_3(call: Call) -> str:
        if call.role == "client" and "Worry number 3." in call.system:
            return ""
        reply = default_script(call)
        assert isinstance(reply, str)
        return reply

    cards = many_cards(tmp_path, 5)
    out = tmp_path / "run"
    server.script = silent_on_card_3
    first = CliRunner().invoke(main, base_args(server, out, cards))
    assert first.exit_code == 1, first.output
    assert [r["id"] for r in read_records(out / FAILURES)] == ["c003"]
    server.script = default_script
    calls = len(server.calls)
    plain = CliRunner().invoke(main, base_args(server, out, cards))
    assert len(server.calls) == calls, plain.output  # failed cards count as done
    retried = CliRunner().invoke(main, [*base_args(server, out, cards), "--retry-failed"])
    assert retried.exit_code == 0, retried.output
    assert read_records(out / FAILURES) == []
    ids = sorted(r["id"] for r in read_records(out / DIALOGUES))
    assert ids == [f"c{i:03d}" for i in range(5)]


# -- a full disk: RLIMIT_FSIZE in a child process (works unprivileged and as root) ---------

FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), resource.RLIM_INFINITY))
"""

STORE_UNTIL_FULL = """
from interactive_agents.errors import RunDirectoryError, RunStorageError
from interactive_agents.runtime import RunStore
from interactive_agents.runtime.store._store import new_manifest
store = RunStore(sys.argv[2])
try:
    store.open(new_manifest(fingerprint="f1", config={"pad": "x" * int(sys.argv[3])},
                            models={}, seed=0, version="0", prompts="p"))
    for number in range(1000):
        store.append("dialogues.jsonl", {"id": f"d{number:03d}", "text": "y" * 300})
        store.flush()
except RunStorageError as exc:
    print(exc)
    try:
        store.append("dialogues.jsonl", {"id": "after"})
    except RunDirectoryError:
        print("refused after the failure")
    try:
        store.close()
    except RunStorageError:
        pass
"""


def fill_disk(run: Path, limit: int, padding: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK + STORE_UNTIL_FULL, str(limit), str(run), str(padding)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert done.stderr == ""
    return done.stdout.splitlines()


def test_a_full_disk_at_start_leaves_no_temporary_file(tmp_path: Path) -> None:
    message, _ = fill_disk(tmp_path, limit=4096, padding=8000)
    assert message.startswith(f"{tmp_path / MANIFEST}: cannot write (File too large)")
    assert "re-run the same command to resume" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.lock"]
    assert opened(tmp_path) == set()  # the lock was released and the next run starts


def test_a_full_disk_mid_run_stops_writing_and_the_resume_keeps_whole_records(
    tmp_path: Path,
) -> None:
    message, refused = fill_disk(tmp_path, limit=8192, padding=10)
    assert message.startswith(f"{tmp_path / DIALOGUES}: cannot write (File too large)")
    assert refused == "refused after the failure"
    assert not list(tmp_path.glob("*.tmp"))
    written = (tmp_path / DIALOGUES).read_bytes()
    whole = written.count(b"\n")
    assert 0 < whole < 1000 and not written.endswith(b"\n")  # the last record is torn
    assert opened(tmp_path) == {f"d{n:03d}" for n in range(whole)}
    assert len(quarantined(tmp_path)) == 1


def test_simulate_on_a_full_disk_prints_one_line_and_no_traceback(
    server: FakeServer, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    command = FULL_DISK + "from interactive_agents.cli import main\nmain(sys.argv[2:])\n"
    done = subprocess.run(
        [sys.executable, "-c", command, "1024", *base_args(server, out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert "Traceback" not in done.stderr
    (line,) = said(done.stderr)
    assert "cannot write (File too large)" in line and str(out) in line
    assert done.returncode == EXIT_STORAGE  # never 0, nor 1 ("some failed")
    assert not list(out.glob("*.tmp"))


def test_the_arena_and_judge_caches_have_one_writer_too(tmp_path: Path) -> None:
    arena = ArenaStore(tmp_path / "arena")
    arena.open(manifest())
    try:
        with pytest.raises(RunLockedError, match=f"pid {os.getpid()} "):
            ArenaStore(tmp_path / "arena").open(manifest())
    finally:
        arena.close()
    cache_file = tmp_path / "judge" / "cache.jsonl"
    with (
        JudgeCache(cache_file),
        pytest.raises(RunLockedError, match=f"{cache_file} is being written by pid "),
    ):
        JudgeCache(cache_file)
    with JudgeCache(cache_file) as again:  # released on close
        assert len(again) == 0


def test_repair_on_a_full_disk_exits_74_and_leaves_the_file_whole(tmp_path: Path) -> None:
    records = [{"id": f"d{n:03d}", "text": "y" * 300} for n in range(30)]
    damaged = lines(*records[:10]) + b"{oops\n" + lines(*records[10:])
    (tmp_path / DIALOGUES).write_bytes(damaged)
    command = FULL_DISK + "from interactive_agents.cli import main\nmain(sys.argv[2:])\n"
    done = subprocess.run(
        [sys.executable, "-c", command, "4096", "repair", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == EXIT_STORAGE
    assert done.stderr.startswith(f"Error: {tmp_path / DIALOGUES}: cannot write (File too large)")
    assert "Traceback" not in done.stderr
    assert (tmp_path / DIALOGUES).read_bytes() == damaged
    assert not list(tmp_path.glob("*.tmp"))
