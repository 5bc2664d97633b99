"""The quality flags of export's sources, for ``--exclude-flag`` and ``--max-flags``.

Flags are looked at only when a filter asks for them (they need the prompts and phrase
lists of each language): those a run stored in its records are used when they were
computed under the same rules and thresholds from the same transcript, the others are
computed; see
:mod:`interactive_agents.method._quality`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._quality import Flagger, load_quality_rules

if TYPE_CHECKING:  # samples imports this module; the class is only needed for types
    from interactive_agents.training._samples import SourceDialogue


def flag_sources(
    sources: Sequence[SourceDialogue], actors_dir: str | Path | None = None
) -> list[SourceDialogue]:
    """The sources with ``raised`` set to the names of the quality flags they raise."""
    flaggers: dict[str, Flagger] = {}
    flagged = []
    for source in sources:
        if source.language not in flaggers:
            prompts = load_prompts(source.language, actors_dir)
            flaggers[source.language] = Flagger.of(load_quality_rules(prompts, actors_dir))
        dialogue = source.dialogue
        quality = flaggers[source.language].assess(
            dialogue.turns, card_text=dialogue.card_text, stored=dialogue.quality
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
