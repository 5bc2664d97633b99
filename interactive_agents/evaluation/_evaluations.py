"""What an evaluation returns: its results per corpus, the summary table, the report.

Every entry point (``evaluate_stats`` ... ``evaluate_wai``) writes its report and returns
an :class:`Evaluation`, so a caller (the CLI, a notebook) shows what the report says
without reading it back or computing anything again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from interactive_agents.evaluation._consistency import ConsistencyResult
from interactive_agents.evaluation._quality_report import CorpusQuality
from interactive_agents.evaluation._stats import CorpusStats

Item = TypeVar("Item")


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A table of the report as text cells: the summary printed, the t-tests."""

    title: str
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True, slots=True)
class Evaluation(Generic[Item]):
    """One evaluation of some corpora: a result per corpus (in the order given), the
    summary table, the Markdown report (the JSON and the plots lie beside it) and the
    JSON report's content."""

    results: list[Item]
    table: ReportTable
    report: Path
    payload: dict[str, Any]


StatsEvaluation = Evaluation[CorpusStats]
"""Table 1 per corpus (``evaluate_stats``)."""
ConsistencyEvaluation = Evaluation[ConsistencyResult]
"""Mapping against random groups per corpus (``evaluate_overlap``, ``evaluate_semantic``)."""
QualityEvaluation = Evaluation[CorpusQuality]
"""Every session's quality flags per corpus (``evaluate_quality``)."""
