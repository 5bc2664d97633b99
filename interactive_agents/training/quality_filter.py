"""The quality flags of export's sources, for ``--exclude-flag`` and ``--max-flags``.

Flags are computed only when a filter asks for them (they need the prompts and phrase
lists of each language); see :mod:`interactive_agents.method.quality`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from interactive_agents.method.prompts import load_prompts
from interactive_agents.method.quality import QualityRules, assess_session, load_quality_rules

if TYPE_CHECKING:  # samples imports this module; the class is only needed for types
    from interactive_agents.training.samples import SourceDialogue


def flag_sources(
    sources: Sequence[SourceDialogue], actors_dir: str | Path | None = None
) -> list[SourceDialogue]:
    """The sources with ``raised`` set to the names of the quality flags they raise."""
    rules: dict[str, QualityRules] = {}
    flagged = []
    for source in sources:
        if source.language not in rules:
            prompts = load_prompts(source.language, actors_dir)
            rules[source.language] = load_quality_rules(prompts, actors_dir)
        dialogue = source.dialogue
        quality = assess_session(
            dialogue.turns, rules[source.language], card_text=dialogue.card_text
        )
        flagged.append(replace(source, raised=quality.raised))
    return flagged


def blamed_flags(
    source: SourceDialogue, exclude: Sequence[str], max_flags: int | None
) -> list[str]:
    """The flags that remove ``source``: the excluded ones it raises, or all when too many."""
    raised = source.raised or ()
    if max_flags is not None and len(raised) > max_flags:
        return list(raised)
    return [name for name in raised if name in exclude]
