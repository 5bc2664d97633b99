"""``interactive-agents annotate``: the human annotation platform for arena battles."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from interactive_agents.arena import write_battles
from interactive_agents.cli._errors import EXIT_USAGE
from interactive_agents.errors import EngineError, InputError
from interactive_agents.llm import check_url
from interactive_agents.method import load_prompts

EXAMPLES = """
\b
Examples:
  interactive-agents annotate add-user admin --admin          # password prompted
  echo "$PASSWORD" | interactive-agents annotate add-user ana --db arena.db --password-stdin
  interactive-agents annotate serve --db arena.db --bots bots.toml --port 8080
  interactive-agents annotate serve --db arena.db --bots bots.toml --secure-cookie \
      --allowed-origin https://annotate.example.org           # behind a TLS proxy
  interactive-agents annotate export --db arena.db --out battles.jsonl
  interactive-agents elo battles.jsonl --out ratings
"""

DB_OPTION = click.option(
    "--db", default="annotation.db", show_default=True, help="The SQLite database file."
)


def _fail(exc: EngineError) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(epilog=EXAMPLES, context_settings={"max_content_width": 100})
def annotate() -> None:
    """Counselors choose between two bots' replies in the browser (docs/arena.md).

    Each annotator signs in, plays the client, and picks the better of two shuffled
    candidate replies; every choice is a battle in the `interactive-agents elo` format.
    """


@annotate.command(epilog=EXAMPLES)
@DB_OPTION
@click.option("--bots", "bots_file", required=True, help="Bots registry (TOML, [bots.NAME]).")
@click.option("--language", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option(
    "--session-hours", type=float, default=12.0, show_default=True, help="Sign-in lifetime."
)
@click.option(
    "--secure-cookie",
    is_flag=True,
    help="Mark the session cookie Secure: serve over HTTPS or behind a TLS proxy.",
)
@click.option(
    "--allowed-origin",
    "allowed_origins",
    multiple=True,
    help="Another origin the pages are served at (a proxy's public https://host); repeatable.",
)
def serve(
    db: str,
    bots_file: str,
    language: str,
    host: str,
    port: int,
    session_hours: float,
    secure_cookie: bool,
    allowed_origins: tuple[str, ...],
) -> None:
    """Serve the annotation platform."""
    import uvicorn

    from interactive_agents.annotation import AnnotationStore, create_app
    from interactive_agents.arena import load_bots

    try:
        prompt = load_prompts(language).counselor.system_message().content
        app = create_app(
            AnnotationStore(db),
            load_bots(bots_file, prompt),
            language=language,
            session_hours=session_hours,
            secure_cookie=secure_cookie,
            allowed_origins=[check_url(o, field="--allowed-origin") for o in allowed_origins],
        )
    except EngineError as exc:
        _fail(exc)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@annotate.command("add-user", epilog=EXAMPLES)
@click.argument("name")
@DB_OPTION
@click.option("--admin", is_flag=True, help="May export every annotator's battles.")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def add_user(name: str, db: str, admin: bool, password_stdin: bool) -> None:
    """Create an account (the password is prompted, or read from stdin)."""
    from interactive_agents.annotation import AnnotationStore

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        AnnotationStore(db).add_user(name, password, admin=admin)
    except EngineError as exc:
        _fail(exc)
    click.echo(f"created {'admin ' if admin else ''}user {name!r} in {db}", err=True)


@annotate.command(epilog=EXAMPLES)
@DB_OPTION
@click.option("--out", required=True, help="Battles file (JSON Lines) to write.")
def export(db: str, out: str) -> None:
    """Write every annotator's battles in the arena's battle format."""
    from interactive_agents.annotation import AnnotationStore

    if not Path(db).is_file():
        _fail(InputError("no such database", file=db))
    try:
        battles = AnnotationStore(db).battles()
    except EngineError as exc:
        _fail(exc)
    count = write_battles(out, battles)
    click.echo(f"wrote {count} battles to {out}", err=True)
