"""``interactive-agents repair RUN_DIR``: quarantine damaged lines so a re-run resumes."""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.console import Console

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._progress import print_json, summary_table
from interactive_agents.runtime import RepairReport, repair_run

EXAMPLES = """
\b
Examples:
  # simulate stopped with "runs/a/dialogues.jsonl, line 41: not JSON ...":
  interactive-agents repair runs/a
  interactive-agents simulate --cards cards.jsonl --out runs/a ...   # resumes
\b
  # The same for an arena directory, with a machine-readable report:
  interactive-agents repair runs/arena --json
\b
Every line that cannot be used (not JSON, not an object, no "id", an id recorded twice,
a torn last line) is moved to RUN_DIR/quarantine.jsonl with its file, line, reason and
raw text; good lines stay as they are. A damaged manifest.json is moved there too and
the next run writes a new one. Exit codes: 0 repaired (or nothing to do), 2 not a run
directory or a run is writing it, 74 the directory cannot be written.
"""


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--quiet", "-q", is_flag=True, help="No report on the terminal.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
def repair(run_dir: str, quiet: bool, as_json: bool) -> None:
    """Repair a damaged run directory (simulate or arena) so that a re-run resumes it."""
    with usage_errors():  # RunStorageError: exit 74, like every command
        report = repair_run(run_dir)
    if as_json:
        print_json(asdict(report))
    elif not quiet:
        _show(report, Console(stderr=True))


def _show(report: RepairReport, console: Console) -> None:
    for item in report.quarantined:
        console.print(
            f"quarantined {item['file']}, line {item['line']}: {item['reason']}", highlight=False
        )
    rows: dict[str, object] = {
        "directory": report.directory,
        "quarantined lines": len(report.quarantined),
        **{f"kept in {name}": count for name, count in report.kept.items()},
        "manifest": report.manifest,
    }
    if report.removed:
        rows["removed"] = ", ".join(report.removed)
    console.print(summary_table("repair", rows))
    verdict = "repaired" if report.changed else "nothing to repair"
    console.print(f"{verdict}: re-run the same command to resume", highlight=False)
