"""The report tables of ``elo`` and ``agreement`` in the terminal, or their JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from interactive_agents.cli._progress import print_json

LEFT_ALIGNED = frozenset({"Model", "Judge", "Item"})


def report_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A table of text cells: names left-aligned, figures right-aligned."""
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for header in headers:
        table.add_column(header, justify="left" if header in LEFT_ALIGNED else "right")
    for row in rows:
        table.add_row(*row)
    return table


def emit(payload: dict[str, Any], tables: Sequence[Table | Text], as_json: bool) -> None:
    """The JSON payload on stdout (``--json``), or the tables, never cut in a pipe."""
    if as_json:
        print_json(payload)
        return
    console = Console()
    if not console.is_terminal:  # a pipe or a file has no width to fit: never cut cells
        wide = console.options.update_width(1000)
        natural = max(console.measure(table, options=wide).maximum for table in tables)
        console.width = max(console.width, natural)
    for table in tables:
        console.print(table)
