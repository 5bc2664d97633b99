"""Every ``interactive-agents ...`` example the manual and the help texts show must work.

Examples are collected from the commands' help texts (docstrings and epilogs) and from
the code blocks of README.md and docs/*.md (docs/cli.md aside: it repeats the help).
Each one is parsed by the real click command, sub-command by sub-command, with
``resilient_parsing=False``: unknown options, bad choices, values of the wrong type and
missing required options fail here. Those that run offline in a moment also run:
``simulate ... --plan``, ``serve ... --dry-run``, ``models`` and ``--help``. Placeholder
files (``cards.jsonl``, ``bots.toml``) are replaced by the demo cards and the example
bots registry; paths the command insists must exist are created empty.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from interactive_agents import RunConfig, build_config
from interactive_agents.arena import ArenaConfig
from interactive_agents.cli import main
from interactive_agents.evaluation import EvaluationConfig
from interactive_agents.loadtest import BenchConfig
from interactive_agents.serving import load_registry
from interactive_agents.training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = "interactive-agents"
DEMO_CARDS = ROOT / "runners" / "cards" / "demo_en.jsonl"
EXAMPLE_BOTS = ROOT / "runners" / "bots.example.toml"
FENCE = re.compile(r"^\s*```")


@dataclass(frozen=True)
class Example:
    """One command line and where it was written."""

    source: str
    args: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.source}: {' '.join(self.args)[:80]}"


# --- collecting -----------------------------------------------------------------------


def _logical_lines(lines: list[str]) -> list[str]:
    """Lines with their backslash continuations joined and trailing comments dropped."""
    joined: list[str] = []
    buffer = ""
    for raw in lines:
        line = raw.rstrip()
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    if buffer:
        joined.append(buffer)
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in joined]


def _commands_in(line: str) -> list[str]:
    """The interactive-agents command lines within one shell line."""
    line = re.sub(r"^\$\s+", "", line)
    found = [m.group(1) for m in re.finditer(r"\$\((interactive-agents [^)]*)\)", line)]
    line = re.sub(r"\"?\$\(interactive-agents [^)]*\)\"?", "VALUE", line)
    module = re.search(r"-m interactive_agents\s+(.*)$", line)
    if module:
        found.append(f"{PROGRAM} {module.group(1)}")
    for segment in re.split(r"\s(?:\||&&|;)\s", line):
        segment = segment.strip()
        if segment.startswith(f"{PROGRAM} ") or segment == PROGRAM:
            found.append(segment)
    return found


def _examples_of(text: str, source: str) -> list[Example]:
    examples = []
    for line in _logical_lines(text.splitlines()):
        for command in _commands_in(line):
            args = tuple(shlex.split(command)[1:])
            examples.append(Example(source, args))
    return examples


def _code_blocks(text: str) -> list[str]:
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if FENCE.match(line):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def _help_commands() -> list[tuple[str, click.Command]]:
    """(command path, command) of every command and sub-command."""
    found: list[tuple[str, click.Command]] = []

    def visit(command: click.Command, ctx: click.Context) -> None:
        found.append((ctx.command_path, command))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    visit(
                        sub, click.Context(sub, info_name=name, parent=ctx, **sub.context_settings)
                    )

    visit(main, click.Context(main, info_name=PROGRAM, **main.context_settings))
    return found


def collect() -> list[Example]:
    examples: list[Example] = []
    for path, command in _help_commands():
        text = f"{command.help or ''}\n{command.epilog or ''}"
        examples += _examples_of(text, f"{path} --help")
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        if page.name == "cli.md":  # generated from the help texts collected above
            continue
        for block in _code_blocks(page.read_text(encoding="utf-8")):
            examples += _examples_of(block, str(page.relative_to(ROOT)))
    unique: dict[tuple[str, ...], Example] = {}
    for example in examples:  # the first place an example is shown names it
        unique.setdefault(example.args, example)
    return list(unique.values())


EXAMPLES = collect()


def test_examples_are_collected() -> None:
    sources = {e.source for e in EXAMPLES}
    assert "README.md" in sources
    assert "interactive-agents simulate --help" in sources
    assert any(e.args[:1] == ("arena",) for e in EXAMPLES)
    assert len(EXAMPLES) > 40


# --- parsing --------------------------------------------------------------------------


def _unavailable(command: click.Command) -> bool:
    return command.callback is not None and command.callback.__name__ == "unavailable"


def _create_required_paths(command: click.Command, ctx: click.Context, args: list[str]) -> None:
    """Create, empty, the paths of parameters typed ``click.Path(exists=True)``."""
    settings = {**command.context_settings, "resilient_parsing": True}
    probe = click.Context(command, info_name=ctx.info_name, parent=ctx.parent, **settings)
    try:
        values, _, _ = command.make_parser(probe).parse_args(args=list(args))
    except click.UsageError:
        return  # make_context reports it
    for param in command.params:
        kind = param.type
        if not (isinstance(kind, click.Path) and kind.exists) or param.name not in values:
            continue
        given = values[param.name]
        for value in given if isinstance(given, list | tuple) else [given]:
            path = Path(str(value))
            if path.is_absolute() or path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind.file_okay:
                path.touch()
            else:
                path.mkdir()


def parse(args: tuple[str, ...]) -> click.Context:
    """Parse as ``interactive-agents ARGS`` would, through every sub-command."""
    command: click.Command = main
    name: str | None = PROGRAM
    parent: click.Context | None = None
    rest = list(args)
    while True:
        if _unavailable(command):
            pytest.skip(f"{name}: its optional extra is not installed")
        outer = click.Context(command, info_name=name, parent=parent, **command.context_settings)
        _create_required_paths(command, outer, rest)
        ctx = command.make_context(name, list(rest), parent=parent, resilient_parsing=False)
        if not isinstance(command, click.Group):
            return ctx
        rest = [*ctx._protected_args, *ctx.args]
        if not rest:
            raise click.UsageError("no sub-command", ctx)
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None
        command, parent = sub, ctx


# --- running --------------------------------------------------------------------------


def runnable(args: tuple[str, ...]) -> bool:
    """Examples that run offline in a moment."""
    if "--help" in args or "-h" in args:
        return True
    if args[:1] == ("simulate",) and "--plan" in args:
        return True
    if args[:1] == ("serve",) and "--dry-run" in args:
        return True
    return args[:1] == ("models",)


def substitute(args: tuple[str, ...]) -> list[str]:
    """Placeholders replaced: repository paths made absolute, cards and bots that do not
    exist replaced by the demo cards and the example bots registry."""
    out: list[str] = []
    for index, arg in enumerate(args):
        option = args[index - 1] if index else ""
        in_repo = ROOT / arg
        if option == "--cards" and not in_repo.exists() and not re.fullmatch(r"\w+", arg):
            out.append(str(DEMO_CARDS))
        elif option == "--bots" and not in_repo.exists():
            out.append(str(EXAMPLE_BOTS))
        elif not arg.startswith("-") and "/" in arg and in_repo.exists():
            out.append(str(in_repo))
        else:
            out.append(arg)
    return out


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example(example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    elided = any(arg in ("...", "…") for arg in example.args)  # "the same options as before"
    args = tuple(substitute(tuple(a for a in example.args if a not in ("...", "…"))))
    if "--help" not in args and "-h" not in args:
        try:
            parse(args)
        except click.exceptions.Exit:
            pass
        except click.MissingParameter:
            if not elided:
                raise
        except click.ClickException as exc:
            pytest.fail(f"{example.source}: {PROGRAM} {' '.join(example.args)}\n  {exc}")
    if runnable(args):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, (
            f"{example.source}: {PROGRAM} {' '.join(example.args)}\n{result.output[-2000:]}"
        )


def test_help_lists_each_commands_extra() -> None:
    from interactive_agents.cli import SUBCOMMANDS

    result = CliRunner().invoke(main, ["--help"], terminal_width=120)
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.output.splitlines() if line[:2] == "  "}
    for name, (_, extra, _) in SUBCOMMANDS.items():
        if extra:
            assert lines[name].rstrip().endswith(f"[{extra}]"), lines[name]
        else:
            assert not lines[name].rstrip().endswith("]"), lines[name]


RECIPE_BLOCK = re.compile(
    r"<!-- checked as: (?P<kind>[\w-]+) recipe [^>]*-->\n```toml\n(?P<body>.*?)```", re.S
)
RECIPE_KINDS = {
    "simulate": RunConfig,
    "arena": ArenaConfig,
    "evaluate": EvaluationConfig,
    "train": TrainConfig,
    "bench": BenchConfig,
}


def _recipe_blocks() -> list[tuple[str, str, str]]:
    """(source, kind, TOML) of every recipe example in the README and docs/."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        blocks = RECIPE_BLOCK.findall(text)
        assert len(blocks) == text.count("```toml"), f"{path.name}: a TOML example is unchecked"
        found += [(path.name, kind, body) for kind, body in blocks]
    return found


@pytest.mark.parametrize(("source", "kind", "body"), _recipe_blocks())
def test_recipe_examples_build(source: str, kind: str, body: str, tmp_path: Path) -> None:
    """Every TOML example in the manual is a valid recipe of its command (or registry)."""
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(body, encoding="utf-8")
    if kind == "serve-registry":
        assert load_registry(recipe)
    else:
        assert isinstance(build_config(recipe, kind=RECIPE_KINDS[kind]), RECIPE_KINDS[kind])
