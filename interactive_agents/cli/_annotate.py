"""``interactive-agents annotate``: the human annotation platform (battles and rating tasks)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table

from interactive_agents.annotation import (
    RUBRICS,
    AnnotationConfig,
    AnnotationStore,
    RatingTaskConfig,
    TaskProgress,
    TaskStore,
    create_rating_task,
)
from interactive_agents.arena import write_battles
from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._options import configuration, option
from interactive_agents.cli._progress import print_json
from interactive_agents.errors import InputError
from interactive_agents.ratings import write_ratings

EXAMPLES = """
\b
Examples (one database, team.db, throughout):
  interactive-agents annotate add-user lead --db team.db --admin    # password prompted
  echo "$PASSWORD" | interactive-agents annotate add-user ana --db team.db --password-stdin
  interactive-agents annotate serve --db team.db --bots bots.toml --port 8080
  interactive-agents annotate assign wai-pilot --db team.db --rubric wai --corpus runs/a \\
      --annotator ana --annotator bob --annotator cy --overlap 2 --sample 30
  interactive-agents annotate assign safety-pilot --db team.db --rubric safety \
      --corpus runs/a --annotator ana --annotator bob --sample 20   # every reply rated
  interactive-agents annotate progress --db team.db
  interactive-agents annotate export --db team.db --task wai-pilot --out wai-people.jsonl
  interactive-agents annotate export --db team.db --out battles.jsonl
  interactive-agents annotate serve --db team.db --bots bots.toml --secure-cookie \\
      --allowed-origin https://annotate.example.org --trusted-proxy 127.0.0.1  # behind nginx
"""


@click.group(epilog=EXAMPLES, context_settings={"max_content_width": 100})
def annotate() -> None:
    """People judge bots and rate sessions in the browser (docs/arena.md).

    Battles: an annotator plays the client and picks the better of two shuffled bot
    replies (or a tie, or both bad); every choice is a battle in the `elo` format.
    Rating tasks: the lead assigns finished sessions to annotators, each session to
    several of them, on a judge's rubric card (WAI-O-S, topics, safety: each counselor
    reply's severity and category); `agreement` then
    compares people with each other and with the judge (docs/evaluation.md).
    """


@annotate.command(epilog=EXAMPLES)
@click.option(
    "--recipe",
    metavar="FILE",
    help="A TOML file of these settings (the keys of AnnotationConfig); flags win over it.",
)
@option("--db", key="db", kind=AnnotationConfig, help="The SQLite database file.")
@option(
    "--bots",
    key="bots",
    kind=AnnotationConfig,
    default_text="none: rating tasks only",
    help="Bots registry (TOML, [bots.NAME]) whose bots answer in battles.",
)
@option(
    "--language",
    key="language",
    kind=AnnotationConfig,
    type=click.Choice(["zh", "en"]),
    help="The interface's language, and the bots' counselor prompt.",
)
@option("--host", key="host", kind=AnnotationConfig)
@option("--port", key="port", kind=AnnotationConfig, type=int)
@option(
    "--session-hours", key="session_hours", kind=AnnotationConfig, type=float,
    help="Sign-in lifetime.",
)  # fmt: skip
@option(
    "--secure-cookie",
    key="secure_cookie",
    kind=AnnotationConfig,
    is_flag=True,
    help="Mark the cookies Secure: serve over HTTPS or behind a TLS proxy.",
)
@option(
    "--allowed-origin",
    key="allowed_origins",
    multiple=True,
    help="Another origin the pages are served at (a proxy's public https://host); repeatable.",
)
@option(
    "--trusted-proxy",
    key="trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="A reverse proxy (address or network) whose X-Forwarded-For names the client; "
    "repeatable. Without it, everyone behind the proxy has its address.",
)
@option(
    "--account-failures",
    key="throttle.per_account",
    kind=AnnotationConfig,
    type=int,
    help="Failed sign-ins on one account, within the window, before it refuses "
    "attempts (browsers it signed in from before still get in).",
)
@option(
    "--address-failures",
    key="throttle.per_address",
    kind=AnnotationConfig,
    type=int,
    help="Failed sign-ins from one address, within the window, before it may no "
    "longer retry accounts that failed (others still sign in).",
)
@option(
    "--failure-window",
    key="throttle.window",
    kind=AnnotationConfig,
    type=float,
    help="Seconds a failed sign-in counts.",
)
def serve(recipe: str | None, **_configured: object) -> None:
    """Serve the annotation platform.

    Accounts are made with `add-user`, rating tasks with `assign`. A browser where an
    account signed in keeps a device cookie: when someone tries many wrong passwords
    on that account, its owner still gets in from there.
    """
    import uvicorn

    from interactive_agents.annotation import annotation_app

    with usage_errors():
        config = configuration(AnnotationConfig, click.get_current_context(), recipe)
        app = annotation_app(config)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning")


@annotate.command("add-user", epilog=EXAMPLES)
@click.argument("name")
@click.option("--db", default="annotation.db", show_default=True, help="The SQLite database file.")
@click.option("--admin", is_flag=True, help="May see progress and export everything.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def add_user(name: str, db: str, admin: bool, password_stdin: bool) -> None:
    """Create an account (the password is prompted, or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with usage_errors():
        AnnotationStore(db).add_user(name, password, admin=admin)
    click.echo(f"created {'admin ' if admin else ''}user {name!r} in {db}", err=True)


@annotate.command(epilog=EXAMPLES)
@click.argument("task")
@option("--db", key="db", kind=RatingTaskConfig, help="The SQLite database file.")
@option(
    "--rubric",
    key="rubric",
    kind=RatingTaskConfig,
    type=click.Choice(RUBRICS),
    help="The judge's card people rate with.",
)
@option(
    "--corpus",
    key="corpora",
    multiple=True,
    required=True,
    help="A run directory or corpus file (as `evaluate` reads it); repeatable.",
)
@option(
    "--annotator",
    key="annotators",
    multiple=True,
    required=True,
    help="An account that rates; repeatable.",
)
@option(
    "--overlap",
    key="overlap",
    kind=RatingTaskConfig,
    type=int,
    help="Annotators per session (at least 2: agreement between people needs it).",
)
@option(
    "--sample",
    key="sample",
    type=int,
    default_text="all",
    help="Rate this many sessions, drawn at random (--seed).",
)
@option(
    "--seed",
    key="seed",
    kind=RatingTaskConfig,
    type=int,
    help="Seed of the sample and the assignment.",
)
@option(
    "--language",
    key="language",
    kind=RatingTaskConfig,
    type=click.Choice(["auto", "zh", "en"]),
    help="The card's language (auto: the corpus's, as evaluate detects it).",
)
@option(
    "--actors-dir",
    key="actors_dir",
    type=click.Path(exists=True, file_okay=False),
    default_text="the bundled actors/",
    help="Custom judge cards, as given to evaluate.",
)
@option("--topics", key="topics", help="The topic set of the topics rubric (as evaluate topics).")
@option(
    "--max-topics",
    key="max_topics",
    kind=RatingTaskConfig,
    type=int,
    help="Topics per session, at most (topics rubric).",
)
def assign(task: str, **_configured: object) -> None:
    """Make the rating task TASK: every session of the corpora, or a sample, goes to
    --overlap annotators, loads kept even and pairs of annotators varied.

    The annotators see each session beside the judge's own card (its instructions,
    statements and anchors) and rate it item by item; they can come back to any
    session until they finish it. Check with `progress`, then `export --task`.
    """
    with usage_errors():
        config = configuration(RatingTaskConfig, click.get_current_context(), {"task": task})
        progress = create_rating_task(config)
    click.echo(
        f"task {progress.name!r}: {progress.sessions} sessions, {progress.overlap} annotators "
        f"each, {len(progress.annotators)} annotators "
        f"({', '.join(f'{a.name} {a.assigned}' for a in progress.annotators)})",
        err=True,
    )


@annotate.command(epilog=EXAMPLES)
@click.argument("task", required=False)
@click.option("--db", default="annotation.db", show_default=True, help="The SQLite database file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def progress(task: str | None, db: str, as_json: bool) -> None:
    """Progress of every rating task (or TASK): per annotator, sessions assigned,
    started and finished; per task, sessions finished by everyone assigned and by at
    least two (those enter human-human agreement)."""
    with usage_errors():
        _require_file(db)
        tasks = TaskStore(AnnotationStore(db)).progress(task)
    if as_json:
        print_json([_progress_document(t) for t in tasks])
        return
    console = Console()
    if not tasks:
        console.print("No rating task yet: make one with `annotate assign`.")
    for entry in tasks:
        console.print(_progress_table(entry))


def _progress_document(task: TaskProgress) -> dict[str, object]:
    plain = task.to_dict()
    return {"task": plain.pop("name"), **plain}


def _progress_table(task: TaskProgress) -> Table:
    title = (
        f"{task.name} ({task.rubric}): {task.finished} of {task.assigned} ratings finished; "
        f"{task.complete} of {task.sessions} sessions by everyone, {task.comparable} by two "
        "or more"
    )
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for header in ("Annotator", "Assigned", "Started", "Finished", "Done"):
        table.add_column(header, justify="left" if header == "Annotator" else "right")
    for a in task.annotators:
        share = f"{a.finished / a.assigned:.0%}" if a.assigned else "–"
        table.add_row(a.name, str(a.assigned), str(a.started), str(a.finished), share)
    return table


@annotate.command(epilog=EXAMPLES)
@click.option("--db", default="annotation.db", show_default=True, help="The SQLite database file.")
@click.option("--out", required=True, help="File (JSON Lines) to write.")
@click.option(
    "--task",
    help="Write this rating task's finished ratings (one line per session, annotator and "
    "item) instead of the battles.",
)
def export(db: str, out: str, task: str | None) -> None:
    """Write every annotator's battles in the arena's battle format, or with --task the
    ratings of a rating task (the format `agreement` reads)."""
    with usage_errors():
        _require_file(db)
        store = AnnotationStore(db)
        if task is None:
            count = write_battles(out, store.battles())
        else:
            count = write_ratings(out, TaskStore(store).export(task))
    click.echo(f"wrote {count} {'ratings' if task else 'battles'} to {out}", err=True)


def _require_file(db: str) -> None:
    """Reading commands never create a database: a mistyped path is an error."""
    if not Path(db).is_file():
        raise InputError("no such database", file=db)
