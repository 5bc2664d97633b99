"""Report helpers shared by the capabilities (arena, evaluation): one Markdown table.

A layer beside :mod:`interactive_agents.corpora`, below the capabilities, so both the
ratings report and the evaluation reports write their tables the same way.
"""

from __future__ import annotations

from interactive_agents.reporting._tables import markdown_table

__all__ = ["markdown_table"]
