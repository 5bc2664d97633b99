"""``interactive-agents evaluate``: LLM-free evaluation of dialogue corpora (SPEC §6-§7).

A thin click shell over :mod:`interactive_agents.evaluation`: load the corpora, call
the library, write the report, print a summary. Bad input (an ``InputError``, which
includes ``ConfigError``) becomes a one-line message and exit code 2.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
import numpy as np
import orjson
from rich.console import Console

from ..errors import InputError
from ..evaluation import (
    DEFAULT_MODEL,
    Corpus,
    corpus_stats,
    load_corpus,
    load_embedder,
    read_stopwords,
    semantic_consistency,
    vocabulary_overlap,
)
from ..evaluation.corpora import corpus_name
from ..evaluation.report import (
    consistency_report,
    consistency_rows,
    rich_table,
    stats_report,
    stats_rows,
)

Command = TypeVar("Command", bound=Callable[..., Any])

CORPUS_HELP = """
\b
CORPUS is an engine run directory (holding dialogues.jsonl), a ShareGPT/OpenAI
`messages` file (JSON list or JSON Lines), a raw dialogue file (a JSON list of
{"role": "client"|"counselor", "content"}), or a folder of such files; the layout is
detected. Each CORPUS is reported separately, side by side.
"""


class InputFailure(click.ClickException):
    """Bad input given to a command: message on stderr, exit code 2."""

    exit_code = 2


@contextmanager
def _input_errors() -> Iterator[None]:
    try:
        yield
    except InputError as exc:
        raise InputFailure(str(exc)) from exc


def _corpus_command(command: Command) -> Command:
    """The arguments and options every evaluate subcommand shares."""
    decorators = [
        click.argument(
            "corpora", metavar="CORPUS...", nargs=-1, required=True, type=click.Path(path_type=Path)
        ),
        click.option(
            "--out",
            required=True,
            type=click.Path(file_okay=False, path_type=Path),
            help="Folder for the JSON, Markdown and PNG report (created if missing).",
        ),
        click.option(
            "--skip-invalid",
            is_flag=True,
            help="Leave malformed records out (and count them) instead of stopping.",
        ),
        click.option(
            "--json", "as_json", is_flag=True, help="Print the JSON result instead of a table."
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _load(paths: Sequence[Path], skip_invalid: bool) -> list[Corpus]:
    """Load each corpus; equal names get ``#2``, ``#3``… so reports stay apart."""
    names = [corpus_name(path) for path in paths]
    repeated = Counter(names)
    seen: Counter[str] = Counter()
    corpora = []
    for path, name in zip(paths, names, strict=True):
        seen[name] += 1
        unique = f"{name}#{seen[name]}" if repeated[name] > 1 else name
        corpora.append(replace(load_corpus(path, skip_invalid=skip_invalid), name=unique))
    return corpora


def _finish(
    payload: dict[str, Any],
    title: str,
    table: tuple[list[str], list[list[str]]],
    report: Path,
    as_json: bool,
) -> None:
    """Print the JSON payload, or the summary table and where the report is."""
    if as_json:
        click.echo(orjson.dumps(payload).decode())
        return
    # Rich wraps at 80 columns when stdout is not a terminal; logs read better unwrapped.
    Console(width=None if sys.stdout.isatty() else 160).print(rich_table(title, *table))
    click.echo(f"Report: {report}")


@click.group()
def evaluate() -> None:
    """Evaluate dialogue corpora without an LLM (SPEC §6-§7).

    \b
    Examples:
      interactive-agents evaluate stats runs/a runs/b --out reports/stats
      interactive-agents evaluate overlap runs/a --out reports/overlap --seed 1
      interactive-agents evaluate semantic runs/a --out reports/semantic --model BAAI/bge-m3
    """


@evaluate.command(epilog=CORPUS_HELP)
@_corpus_command
def stats(corpora: tuple[Path, ...], out: Path, skip_invalid: bool, as_json: bool) -> None:
    """Dataset statistics, as Table 1: conversations, turns, utterances, lengths.

    \b
    Examples:
      interactive-agents evaluate stats runs/a --out reports/stats
      interactive-agents evaluate stats runs/a sharegpt.json raw/ --out reports/stats --json
    """
    with _input_errors():
        loaded = _load(corpora, skip_invalid)
        figures = [corpus_stats(corpus) for corpus in loaded]
        payload = stats_report(out, loaded, figures)
    _finish(payload, "Dataset statistics", stats_rows(loaded, figures), out / "stats.md", as_json)


@evaluate.command(epilog=CORPUS_HELP)
@_corpus_command
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random group.")
@click.option(
    "--language",
    type=click.Choice(["zh", "en", "auto"]),
    default="auto",
    show_default=True,
    help="Word segmentation: jieba (zh), regex words (en), or chosen per corpus (auto).",
)
@click.option(
    "--stopwords",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of stop words to drop, one per line (none by default, as in Eq. 1).",
)
def overlap(
    corpora: tuple[Path, ...],
    out: Path,
    skip_invalid: bool,
    as_json: bool,
    seed: int,
    language: Literal["zh", "en", "auto"],
    stopwords: Path | None,
) -> None:
    """Vocabulary overlap rate of client utterances with the role card (Eq. 1).

    Each dialogue is scored against its own card (mapping group) and a randomly drawn
    other card (random group); the groups are compared with a two-tailed t-test.

    \b
    Examples:
      interactive-agents evaluate overlap runs/a --out reports/overlap
      interactive-agents evaluate overlap runs/a runs/b --out reports/overlap \\
          --seed 7 --language zh --stopwords stopwords_zh.txt
    """
    with _input_errors():
        words = read_stopwords(stopwords) if stopwords else frozenset[str]()
        loaded = _load(corpora, skip_invalid)
        results = [
            vocabulary_overlap(
                corpus, np.random.default_rng(seed), language=language, stopwords=words
            )
            for corpus in loaded
        ]
        settings = {"seed": seed, "language": language, "stopwords": len(words)}
        payload = consistency_report(out, loaded, results, command="overlap", settings=settings)
    table = consistency_rows(loaded, results)
    _finish(payload, "Vocabulary overlap rate (mean ± std)", table, out / "overlap.md", as_json)


@evaluate.command(epilog=CORPUS_HELP)
@_corpus_command
@click.option(
    "--model",
    default=DEFAULT_MODEL,
    show_default=True,
    metavar="NAME_OR_PATH",
    help="sentence-transformers model; the default is the offline bundled one.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random group.")
@click.option("--device", help="torch device (cpu, cuda, …); chosen automatically if unset.")
def semantic(
    corpora: tuple[Path, ...],
    out: Path,
    skip_invalid: bool,
    as_json: bool,
    model: str,
    seed: int,
    device: str | None,
) -> None:
    """Semantic consistency: cosine similarity of client utterances and role card (Eq. 2).

    Texts longer than the model's window are embedded in windows and averaged. Same
    mapping-versus-random design and t-test as `overlap`.

    \b
    Examples:
      interactive-agents evaluate semantic runs/a --out reports/semantic
      interactive-agents evaluate semantic runs/a --out reports/semantic \\
          --model BAAI/bge-m3 --device cuda --seed 7
    """
    with _input_errors():
        loaded = _load(corpora, skip_invalid)
        embed = load_embedder(model, device=device)
        results = [
            semantic_consistency(corpus, embed, np.random.default_rng(seed), method=model)
            for corpus in loaded
        ]
        settings = {"seed": seed, "model": model}
        payload = consistency_report(out, loaded, results, command="semantic", settings=settings)
    table = consistency_rows(loaded, results)
    _finish(payload, "Semantic consistency (mean ± std)", table, out / "semantic.md", as_json)
