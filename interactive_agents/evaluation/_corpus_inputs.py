"""The corpora an evaluation reads: loaded, cut and named apart the same way by each one."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from interactive_agents.corpora._readers import Corpus, load_corpus
from interactive_agents.evaluation._config import EvaluationConfig

CorpusSource = Corpus | str | Path
"""A corpus already read, or a path to read (a run directory, a file, a folder)."""


def load_corpora(sources: Sequence[CorpusSource], config: EvaluationConfig) -> list[Corpus]:
    """Each corpus read (malformed records left out with ``config.skip_invalid``) and cut
    to ``config.limit`` dialogues; equal names get ``#1``, ``#2``… so reports keep them
    apart."""
    corpora = [
        source
        if isinstance(source, Corpus)
        else load_corpus(Path(source), skip_invalid=config.skip_invalid)
        for source in sources
    ]
    repeated = Counter(corpus.name for corpus in corpora)
    seen: Counter[str] = Counter()
    named = []
    for corpus in corpora:
        seen[corpus.name] += 1
        name = f"{corpus.name}#{seen[corpus.name]}" if repeated[corpus.name] > 1 else corpus.name
        named.append(replace(corpus, name=name, dialogues=corpus.dialogues[: config.limit]))
    return named
