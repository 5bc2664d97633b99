"""``interactive-agents agreement``: a judge calibrated against people (docs/evaluation.md)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table
from rich.text import Text

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._options import configuration, option
from interactive_agents.cli._tables import emit, report_table
from interactive_agents.ratings import (
    BIAS_HEADERS,
    JUDGE_HEADERS,
    PEOPLE_HEADERS,
    AgreementConfig,
    AgreementRun,
    BattleReliability,
    agreement_from_files,
    bias_cells,
    calibration_payload,
    judge_cells,
    people_cells,
    reasons,
    verdict,
    write_calibration_report,
)

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option(
    "--human",
    "human",
    required=True,
    multiple=True,
    type=_FILE,
    help="People's ratings (annotate export --task) or battles (annotate export); repeatable.",
)
@click.option(
    "--judge",
    "judges",
    required=True,
    multiple=True,
    type=_FILE,
    help="A judge's results on the same sessions: wai.json or topics.json of evaluate, the "
    "safety_replies.jsonl of evaluate safety, a ratings file, or battles on the same "
    "selections; repeat for more judges.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for agreement.json, agreement.md and agreement.png.",
)
@option(
    "--threshold",
    key="threshold",
    kind=AgreementConfig,
    type=float,
    help="The judge-people alpha a judge must reach on an item (Krippendorff's 0.667 for "
    "tentative conclusions; 0.8 to rely on it).",
)
@option(
    "--bootstrap",
    key="bootstrap",
    kind=AgreementConfig,
    type=click.IntRange(min=0),
    help="Bootstrap resamples (of sessions) for the intervals; 0: none.",
)
@option("--seed", key="seed", kind=AgreementConfig, type=int, help="Seed of the bootstrap.")
@click.option("--skip-invalid", is_flag=True, help="Leave malformed lines out (and count them).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result instead of tables.")
def agreement(
    human: tuple[Path, ...],
    judges: tuple[Path, ...],
    out: Path | None,
    skip_invalid: bool,
    as_json: bool,
    **_configured: object,
) -> None:
    """How far people agree with each other, and a judge with people, per rubric item.

    On ratings (WAI-O-S, topics, safety): Krippendorff's alpha with bootstrap intervals, kappa
    (quadratic weights on ordinal scales), raw agreement and confusion matrices, among
    people and between each judge and people; on ordinal items the judge's offset from
    people and its correlation with session length; whether the judge reaches
    --threshold. On battles: the same for the preference, with the judges' position and
    length bias. Sessions match by corpus name and dialogue id, as evaluate names them,
    safety replies by their number too (and each rater's worst reply gives a session
    severity); what the judge missed or could not rate is counted.

    \b
    Examples:
      interactive-agents agreement --human wai-people.jsonl --judge reports/wai/wai.json \\
          --out reports/calibration
      interactive-agents agreement --human human.jsonl --judge runs/arena/battles.jsonl
      interactive-agents agreement --human topics-people.jsonl \\
          --judge reports/topics/topics.json --threshold 0.8 --json
      interactive-agents agreement --human safety-people.jsonl \
          --judge reports/safety/safety_replies.jsonl --out reports/safety-calibration
    """
    with usage_errors():
        config = configuration(AgreementConfig, click.get_current_context())
        run = agreement_from_files(human, judges, config, skip_invalid=skip_invalid)
        payload = calibration_payload(run.calibration, run.settings)
        if out is not None:
            payload = write_calibration_report(out, run.calibration, run.settings)
    if run.skipped:
        click.echo(f"Skipped {run.skipped} invalid line(s).", err=True)
    emit(payload, _tables(run), as_json)
    if not as_json and out is not None:
        click.echo(f"Report: {out / 'agreement.md'}")


def _tables(run: AgreementRun) -> list[Table | Text]:
    calibration = run.calibration
    people = {(row.spec.rubric, row.spec.item): row for row in calibration.people}
    shown: list[Table | Text] = [
        report_table(
            "People with people", PEOPLE_HEADERS, [people_cells(r) for r in calibration.people]
        )
    ]
    if run.people_unparsable:
        shown.append(Text(f"{run.people_unparsable} unparsable verdicts of people left out."))
    if calibration.people_biases is not None:
        shown += _bias_tables("People", calibration.people_biases)
    for judge in calibration.judges:
        rows = [judge_cells(row, people[(row.spec.rubric, row.spec.item)]) for row in judge.items]
        shown += [
            report_table(f"{judge.name} with people", JUDGE_HEADERS, rows),
            Text(verdict(judge, calibration.threshold)),
        ]
        if judge.biases is not None:
            shown += _bias_tables(judge.name, judge.biases)
    return shown


def _bias_tables(whose: str, biases: BattleReliability) -> list[Table | Text]:
    rows = [bias_cells(row) for row in biases.judges]
    title = f"{whose}: position and length bias"
    return [report_table(title, BIAS_HEADERS, rows), *(Text(line) for line in reasons(biases))]
