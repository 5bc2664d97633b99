"""``interactive-agents elo``: arena ratings and the judges' position and length bias.

A thin click shell over :mod:`interactive_agents.ratings._systems` and
:mod:`interactive_agents.ratings._reports`: read the battles, call the library once,
print a table or JSON, write the report files. Bad input becomes one line and exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click
import numpy as np
from rich.table import Table
from rich.text import Text

from interactive_agents.arena import battle_rubrics, judge_answers, read_battles
from interactive_agents.cli._errors import EXIT_FAILURES, usage_errors
from interactive_agents.cli._progress import print_json
from interactive_agents.cli._tables import emit, report_table
from interactive_agents.errors import InputError
from interactive_agents.judging import require_one_rubric
from interactive_agents.ratings import (
    BIAS_HEADERS,
    LENGTH_CONTROL_HEADERS,
    RATING_HEADERS,
    SAFETY_HEADERS,
    BattleReliability,
    BTConfig,
    EloConfig,
    battle_reliability,
    bias_cells,
    length_coefficient_meaning,
    length_control_cells,
    rate,
    rating_cells,
    ratings_payload,
    reasons,
    safety_cells,
    safety_rates,
    write_ratings_report,
)


def _warn_skipped(invalid: Sequence[InputError]) -> None:
    """Say on stderr that lines were left out, and show the first reason."""
    if invalid:
        click.echo(f"Skipped {len(invalid)} invalid line(s); first: {invalid[0]}", err=True)


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_SKIP_INVALID = click.option(
    "--skip-invalid", is_flag=True, help="Leave malformed lines out (and count them)."
)
_JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print the JSON result instead of a table."
)


def _reliability_tables(reliability: BattleReliability) -> list[Table | Text]:
    """The judges' biases, and the length-controlled ratings beside the plain ones."""
    bias: list[Table | Text] = [
        report_table(
            "Judge reliability: position and length bias",
            BIAS_HEADERS,
            [bias_cells(row) for row in reliability.judges],
        ),
        *(Text(note) for note in reasons(reliability)),
    ]
    control = reliability.length_control
    if control.fit is None:
        return [*bias, Text(f"Length-controlled Bradley-Terry: not fitted, {control.reason}.")]
    rows = length_control_cells(control.fit)
    meaning = Text(
        f"{control.fit.battles} battles with reply lengths, {control.without_lengths} "
        f"readable ones without (left out of both columns). "
        + length_coefficient_meaning(control.fit)
    )
    return [
        *bias,
        report_table("Length-controlled Bradley-Terry", LENGTH_CONTROL_HEADERS, rows),
        meaning,
    ]


@click.command()
@click.argument("battles", metavar="BATTLES...", nargs=-1, required=True, type=_FILE)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for ratings.json, battle_counts.csv, report.md and PNG plots.",
)
@click.option(
    "--k",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="Elo K factor.",
)
@click.option(
    "--shuffles",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Random battle orders the displayed Elo is averaged over.",
)
@click.option(
    "--bootstrap",
    "rounds",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Bootstrap rounds for the 95 % intervals.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of all resampling.")
@click.option(
    "--l2",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="L2 penalty on Bradley-Terry ratings (keeps unbeaten bots finite).",
)
@click.option(
    "--anchor",
    metavar="MODEL",
    help="Pin this model's BT rating at 1000 (default: the mean is 1000).",
)
@click.option(
    "--force-mix-rubrics",
    is_flag=True,
    help="Rate battles judged with different rubrics (judge card or model) together.",
)
@_SKIP_INVALID
@_JSON
def elo(
    battles: tuple[Path, ...],
    out: Path | None,
    k: float,
    shuffles: int,
    rounds: int,
    seed: int,
    l2: float,
    anchor: str | None,
    force_mix_rubrics: bool,
    skip_invalid: bool,
    as_json: bool,
) -> None:
    """Rank counselor bots from arena battles (docs/method.md#ratings): Elo and Bradley-Terry.

    BATTLES are JSON Lines files of battle records. Unparsable and refused judgements
    are kept in the files but left out of the ratings and counted. Rank is 1 + the
    number of bots whose BT interval lies entirely above this bot's. With too few
    battles (fewer than 20 per bot, or 5 per pair that met) the ranking is marked
    insufficient and a warning says why; an interval from a degenerate bootstrap, or a
    BT rating with no finite fit (a bot that never lost), is n/a, never a number. When
    no battle can be rated, the report says why and the command exits 1. Beside the
    ratings: each judge's position bias (selections judged in both orders whose choice
    changed) and length bias (decided battles won by the longer reply), and the
    Bradley-Terry ratings with the reply length as a covariate; a figure the battles
    cannot give is null with why.
    When the battles carry safety ratings (arena --safety-judge or --safety-gate), each
    bot's share of replies judged major or worse and critical sits beside its Elo.

    \b
    Examples:
      interactive-agents elo runs/arena/battles.jsonl
      interactive-agents elo human.jsonl judge.jsonl --out reports/elo --seed 1
      interactive-agents elo battles.jsonl --bootstrap 200 --shuffles 20 --json
    """
    with usage_errors():
        batch = read_battles(battles, skip_invalid=skip_invalid)
        rubrics = battle_rubrics(batch.battles)
        require_one_rubric(rubrics, force=force_mix_rubrics)
        report = rate(
            batch.battles,
            np.random.default_rng(seed),
            shuffles=shuffles,
            rounds=rounds,
            elo=EloConfig(k=k),
            bt=BTConfig(l2=l2, anchor=anchor),
        )
        reliability = battle_reliability(batch.battles, BTConfig(l2=l2, anchor=anchor))
        safety = safety_rates(batch.battles)
    settings = {
        "files": [str(path) for path in battles],
        "k": k,
        "shuffles": shuffles,
        "bootstrap": rounds,
        "seed": seed,
        "l2": l2,
        "anchor": anchor,
        "rubrics": sorted(set(rubrics.values())),
    }
    _warn_skipped(batch.invalid)
    payload = ratings_payload(
        report,
        settings,
        skipped=len(batch.invalid),
        reliability=reliability,
        answers=judge_answers(batch.battles),
        safety=safety,
    )
    if out is not None:
        with usage_errors():
            write_ratings_report(out, report, payload, reliability, safety)
    if report.unusable is not None:
        if as_json:
            print_json(payload)
        where = f"; see {out / 'report.md'}" if out is not None else ""
        click.echo(f"nothing rated: {report.unusable}{where}", err=True)
        sys.exit(EXIT_FAILURES)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    title = (
        f"Arena ratings: {report.tables.dialogues} dialogues, {report.battles} battles, "
        f"{report.excluded} unparsable excluded"
        + ("" if report.sufficient else " (insufficient data: see the warnings)")
    )
    ratings = report_table(title, RATING_HEADERS, [rating_cells(r) for r in report.rows])
    incidents: list[Table | Text] = []
    if safety:
        rows = [safety_cells(row, report.rows) for row in safety]
        incidents.append(report_table("Safety incidents (docs/safety.md)", SAFETY_HEADERS, rows))
    emit(payload, [ratings, *incidents, *_reliability_tables(reliability)], as_json)
    if not as_json and out is not None:
        click.echo(f"Report: {out / 'report.md'}")
