"""Generate the manual's reference pages from the code: docs/cli.md and docs/api.md.

    python scripts/reference_docs.py           # write both pages
    python scripts/reference_docs.py --check   # exit 1 if either page is stale

docs/cli.md comes from the click commands (``interactive_agents.cli.main`` and its lazily
imported sub-commands): usage, help, every option with its default, and the examples of
each command's epilog. docs/api.md lists the public names of the root package, of each
facade (its ``__all__``) and of ``interactive_agents.errors``, each with its summary, the
first paragraph of its docstring. tests/test_reference_docs.py regenerates both in memory
and fails when a page differs from what is committed.
"""

from __future__ import annotations

import argparse
import enum
import importlib
import inspect
import pkgutil
import re
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

ROOT = Path(__file__).resolve().parents[1]
CLI_PAGE = ROOT / "docs" / "cli.md"
API_PAGE = ROOT / "docs" / "api.md"
PROGRAM = "interactive-agents"
WIDTH = 88
REGENERATE = "python scripts/reference_docs.py"


# --- the command-line reference -------------------------------------------------------


def walk_commands() -> Iterator[tuple[click.Context, click.Command]]:
    """Every command and sub-command, depth first, each with the context it runs in."""
    from interactive_agents.cli import main

    def visit(
        command: click.Command, ctx: click.Context
    ) -> Iterator[tuple[click.Context, click.Command]]:
        yield ctx, command
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is None:
                    continue
                settings = {**sub.context_settings, "max_content_width": WIDTH}
                sub_ctx = click.Context(sub, info_name=name, parent=ctx, **settings)
                yield from visit(sub, sub_ctx)

    settings = {**main.context_settings, "max_content_width": WIDTH}  # -h, --help
    root = click.Context(main, info_name=PROGRAM, **settings)
    yield from visit(main, root)


def unavailable_commands() -> list[str]:
    """Commands replaced by a stand-in because their optional extra is not installed."""
    return [
        ctx.command_path
        for ctx, command in walk_commands()
        if command.callback is not None and command.callback.__name__ == "unavailable"
    ]


def _anchor(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as '-'."""
    kept = "".join(c for c in text.strip().lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _default(param: click.Parameter, ctx: click.Context) -> str:
    """The default as the command sees it when the option is not given."""
    if isinstance(param, click.Option) and param.is_flag and not param.count:
        if param.secondary_opts:
            value = param.get_default(ctx, call=False)
            flag = param.opts[0] if value else param.secondary_opts[0]
            return f"`{flag}`"
        return "off" if not param.get_default(ctx, call=False) else "on"
    value = param.get_default(ctx, call=False)
    if _unset(value):
        return ""
    if callable(value):
        return "(computed)"
    if value is None or value == () or value == []:
        return ""
    if isinstance(value, tuple | list):
        return ", ".join(f"`{v}`" for v in value)
    if isinstance(value, enum.Enum):
        value = value.value
    return f"`{value}`"


def _unset(value: object) -> bool:
    """Whether click reports "no default" (its private sentinel in click 8.2 and later)."""
    return type(value) is object or type(value).__name__ == "Sentinel"


def _summary_of_command(command: click.Command) -> str:
    """A command's short help, else the first paragraph of its help, on one line."""
    if command.short_help:
        return _cell(command.short_help)
    text = inspect.cleandoc(command.help or "").replace("\b\n", "")
    return _cell(text.split("\n\n")[0])


def _extras(param: click.Parameter) -> str:
    """What the help shows in brackets besides the default: ranges, required."""
    notes = []
    if isinstance(param.type, click.types._NumberRangeBase):
        notes.append(param.type._describe_range())
    if param.required:
        notes.append("required")
    if isinstance(param, click.Option) and param.multiple:
        notes.append("repeatable")
    return f" [{'; '.join(notes)}]" if notes else ""


def _text_block(render: typing.Callable[[click.HelpFormatter], None]) -> list[str]:
    formatter = click.HelpFormatter(width=WIDTH, max_width=WIDTH)
    render(formatter)
    text = formatter.getvalue().rstrip()
    if not text:
        return []
    lines = [line.rstrip() for line in text.splitlines()]
    return ["```text", *lines, "```", ""]


def command_section(ctx: click.Context, command: click.Command, extra: str | None) -> list[str]:
    """One command's section of docs/cli.md."""
    lines = [f"## {ctx.command_path}", ""]
    if extra:
        lines += [f"Needs the `{extra}` extra: `pip install '.[{extra}]'`.", ""]
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines += ["```text", f"{ctx.command_path} {usage}", "```", ""]
    lines += _text_block(lambda f: command.format_help_text(ctx, f))
    arguments = [p for p in command.get_params(ctx) if isinstance(p, click.Argument)]
    # The help option is written out below: click builds it once per command, with the
    # names of the first context it met, which differ between a command run on its own
    # and under `interactive-agents`.
    helper = command.get_help_option(ctx)
    options = [
        p for p in command.get_params(ctx) if isinstance(p, click.Option) and p is not helper
    ]
    if arguments:
        lines += ["| argument | |", "|---|---|"]
        for argument in arguments:
            lines.append(f"| `{argument.make_metavar(ctx)}` |{_cell(_extras(argument))} |")
        lines.append("")
    lines += ["| option | default | help |", "|---|---|---|"]  # every command has --help
    for option in options:
        record = option.get_help_record(ctx)
        if record is None:  # hidden
            continue
        names = _cell(record[0])
        help_text = _cell((option.help or "") + _extras(option))
        lines.append(f"| `{names}` | {_default(option, ctx)} | {help_text} |")
    lines += ["| `-h, --help` | off | Show this message and exit. |", ""]
    if isinstance(command, click.Group):
        lines += ["| command | |", "|---|---|"]
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None:
                continue
            target = _anchor(f"{ctx.command_path} {name}")
            lines.append(f"| [`{name}`](#{target}) | {_summary_of_command(sub)} |")
        lines.append("")
    lines += _text_block(lambda f: command.format_epilog(ctx, f))
    return lines


def render_cli() -> str:
    """The whole of docs/cli.md."""
    from interactive_agents.cli import SUBCOMMANDS

    contexts = list(walk_commands())
    lines = [
        "# Command-line reference",
        "",
        f"Generated from the click commands by `{REGENERATE}`; do not edit by hand.",
        "Every command also prints this with `--help`. A command marked with an extra needs",
        "that optional extra installed ([README](../README.md#install)). An empty default means",
        "the option is unset: the value comes from the recipe (`--recipe`) or the built-in",
        "configuration.",
        "",
        "| command | summary |",
        "|---|---|",
    ]
    for ctx, command in contexts[1:]:
        anchor = _anchor(ctx.command_path)
        summary = _summary_of_command(command)
        lines.append(f"| [`{ctx.command_path}`](#{anchor}) | {summary} |")
    lines.append("")
    for ctx, command in contexts:
        top = ctx.command_path.split(" ")[1] if " " in ctx.command_path else None
        extra = SUBCOMMANDS[top][1] if top is not None and top in SUBCOMMANDS else None
        is_child = ctx.parent is not None and ctx.parent.parent is not None
        lines += command_section(ctx, command, None if is_child else extra)
    return "\n".join(lines).rstrip() + "\n"


# --- the API reference ----------------------------------------------------------------


def public_modules() -> list[str]:
    """The root package and every public module below it (``cli`` aside): the capability
    facades and ``errors``."""
    import interactive_agents

    names = ["interactive_agents"]
    for info in sorted(pkgutil.iter_modules(interactive_agents.__path__), key=lambda i: i.name):
        if info.name.startswith("_") or info.name == "cli":
            continue
        names.append(f"interactive_agents.{info.name}")
    return names


def _summary(obj: Any, name: str) -> str:
    """The first paragraph of an object's own docstring, on one line."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        if doc and doc.lstrip().startswith(f"{obj.__name__}("):
            doc = None  # the signature a dataclass writes when it has no docstring
    elif inspect.isroutine(obj):
        doc = inspect.getdoc(obj)
    else:
        return _value(obj)
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n")[0]
    return _cell(paragraph)


def _value(obj: Any) -> str:
    """A constant's or a type alias's value, when it is short enough to show."""
    if isinstance(obj, dict):
        return f"a dict of {len(obj)} entries"
    if typing.get_origin(obj) not in (None, typing.Literal, typing.Union, types.UnionType):
        return ""  # a generic alias such as a Callable: its repr varies with the libraries
    text = repr(obj)
    if typing.get_origin(obj) is not None:  # drop module paths: Literal, DialogueRecord
        text = re.sub(r"\b(?:[a-z_][a-z0-9_]*\.)+([A-Za-z_]\w*)", r"\1", text)
    if isinstance(obj, frozenset):
        text = "{" + ", ".join(sorted(repr(v) for v in obj)) + "}"
    if len(text) > 120 or " at 0x" in text:
        return ""
    return f"`{_cell(text)}`"


def _kind(obj: Any) -> str:
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "exception"
        if issubclass(obj, enum.Enum):
            return "enum"
        if getattr(obj, "_is_protocol", False):
            return "protocol"
        return "class"
    if inspect.iscoroutinefunction(obj):
        return "async function"
    if inspect.isroutine(obj):
        return "function"
    if isinstance(obj, types.UnionType) or typing.get_origin(obj) is not None:
        return "type"
    return f"constant ({type(obj).__name__})"


def module_section(module_name: str) -> list[str]:
    """One module's section of docs/api.md."""
    module = importlib.import_module(module_name)
    lines = [f"## `{module_name}`", ""]
    doc = inspect.getdoc(module) or ""
    first = inspect.cleandoc(doc).split("\n\n")[0] if doc else ""
    if first and first != "(internal)":
        lines += [" ".join(first.split()), ""]
    exported = getattr(module, "__all__", None)
    if not exported:
        lines += ["No public names (`__all__` is empty or absent).", ""]
        return lines
    lines += ["| name | kind | summary |", "|---|---|---|"]
    for name in exported:
        obj = getattr(module, name)
        lines.append(f"| `{name}` | {_kind(obj)} | {_summary(obj, name)} |")
    lines.append("")
    return lines


def render_api() -> str:
    """The whole of docs/api.md."""
    modules = public_modules()
    lines = [
        "# API reference",
        "",
        f"Generated from the code by `{REGENERATE}`; do not edit by hand.",
        "The public API is the root package `interactive_agents`, the `__all__` of each",
        "facade below and `interactive_agents.errors`; every other module is private",
        "(its name starts with `_`) and may change without notice. Each name is listed with",
        "the first paragraph of its docstring. How the pieces fit together:",
        "[library.md](library.md).",
        "",
    ]
    lines += [f"- [`{m}`](#{_anchor(m)})" for m in modules]
    lines.append("")
    for module_name in modules:
        lines += module_section(module_name)
    return "\n".join(lines).rstrip() + "\n"


# --- the command ----------------------------------------------------------------------


PAGES = {CLI_PAGE: render_cli, API_PAGE: render_api}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale pages")
    args = parser.parse_args(argv)
    missing = unavailable_commands()
    if missing:
        print(f"install every extra first; not available here: {', '.join(missing)}")
        return 2
    stale = []
    for page, render in PAGES.items():
        text = render()
        current = page.read_text(encoding="utf-8") if page.exists() else None
        if text == current:
            continue
        stale.append(page.relative_to(ROOT))
        if not args.check:
            page.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"stale: {', '.join(map(str, stale))}; run {REGENERATE}")
        return 1
    for page in stale:
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
