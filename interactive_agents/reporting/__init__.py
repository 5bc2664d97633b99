"""Report helpers shared by the capabilities (ratings, evaluation): one Markdown table."""

from __future__ import annotations

from interactive_agents.reporting._tables import markdown_table

__all__ = [
    "markdown_table",
]
