"""The settings of ``agreement`` (``AgreementConfig``), built like every command's
configuration by :func:`interactive_agents.build_config` with ``kind=AgreementConfig``."""

from __future__ import annotations

from dataclasses import dataclass

from interactive_agents._recipes import FieldError

# Krippendorff (Content Analysis, 2004, §11.4): rely on variables with alpha >= .800,
# and consider those with .667 <= alpha < .800 only for tentative conclusions.
TENTATIVE_ALPHA = 0.667


@dataclass(frozen=True, slots=True)
class AgreementConfig:
    """``threshold``: the judge-people alpha a judge must reach to be trusted on an item;
    ``bootstrap`` resamples (of sessions, or of dialogues for battles) for the
    ``level`` intervals, seeded with ``seed``."""

    threshold: float = TENTATIVE_ALPHA
    bootstrap: int = 1000
    level: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        if not -1 <= self.threshold <= 1:
            raise FieldError("must be between -1 and 1 (an alpha)", field="threshold")
        if self.bootstrap < 0:
            raise FieldError("must not be negative (0: no intervals)", field="bootstrap")
        if not 0 < self.level < 1:
            raise FieldError("must be between 0 and 1", field="level")
