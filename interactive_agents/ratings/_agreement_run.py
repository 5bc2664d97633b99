"""``agreement`` on files: people's ratings or battles, and each judge's results, read and
calibrated in one call (:func:`agreement_from_files`), as the command does. Severities
rated reply by reply are compared per session too (the worst reply's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from interactive_agents.errors import InputError
from interactive_agents.ratings._agreement import battle_ratings
from interactive_agents.ratings._agreement_config import AgreementConfig
from interactive_agents.ratings._calibration import Calibration, calibrate
from interactive_agents.ratings._judge_results import JudgeResults, read_judge_results
from interactive_agents.ratings._reliability import battle_reliability
from interactive_agents.ratings._session_severity import with_session_severity


@dataclass(frozen=True, slots=True)
class AgreementRun:
    """The calibration, the settings it ran with, and what was left out of it."""

    calibration: Calibration
    settings: dict[str, Any]
    skipped: int  # malformed lines left out (--skip-invalid)
    people_unparsable: int  # battles: people's verdicts that could not be read


def agreement_from_files(
    human: Sequence[str | Path],
    judges: Sequence[str | Path],
    config: AgreementConfig | None = None,
    *,
    skip_invalid: bool = False,
) -> AgreementRun:
    """People's ratings (``annotate export --task``) or battles (``annotate export``) in
    ``human``, against each judge's results in ``judges`` (``wai.json``, ``topics.json``,
    a ratings file, or the arena's battles on the same selections)."""
    config = config or AgreementConfig()
    people = [read_judge_results(path, skip_invalid=skip_invalid) for path in human]
    verdicts = [read_judge_results(path, skip_invalid=skip_invalid) for path in judges]
    kinds = {results.kind for results in [*people, *verdicts]}
    if len(kinds) > 1:
        raise InputError(
            "compare like with like: people's battles with a judge's battles, people's "
            "ratings with a judge's ratings or report",
            file=", ".join(r.source for r in [*people, *verdicts] if r.kind != people[0].kind),
        )
    skipped = sum(r.skipped for r in [*people, *verdicts])
    settings: dict[str, Any] = {
        "human": [str(path) for path in human],
        "judges": [str(path) for path in judges],
        "threshold": config.threshold,
        "bootstrap": config.bootstrap,
        "level": config.level,
        "seed": config.seed,
    }
    if kinds == {"battles"}:
        return _battles(people, verdicts, config, settings, skipped)
    ratings = with_session_severity([r for results in people for r in results.ratings])
    judged = {r.source: with_session_severity(r.ratings) for r in verdicts}
    # Replies of one session are resampled together: their ratings are not independent.
    calibration = calibrate(ratings, judged, config, cluster=lambda unit: unit[:2])
    models = {r.source: r.model for r in verdicts if r.model}
    return AgreementRun(calibration, {**settings, "models": models}, skipped, 0)


def _battles(
    people: Sequence[JudgeResults],
    verdicts: Sequence[JudgeResults],
    config: AgreementConfig,
    settings: dict[str, Any],
    skipped: int,
) -> AgreementRun:
    """Battles: each file of judges one rater, people's battles by their ``judge``; the
    biases of both beside the agreement."""
    human_battles = [battle for results in people for battle in results.battles]
    ratings, unparsable = battle_ratings(human_battles)
    judged = {r.source: battle_ratings(r.battles, rater=r.source)[0] for r in verdicts}
    calibration = calibrate(ratings, judged, config, cluster=lambda unit: unit[:1])
    judges = tuple(
        replace(judge, biases=battle_reliability(results.battles))
        for judge, results in zip(calibration.judges, verdicts, strict=True)
    )
    calibration = replace(
        calibration, judges=judges, people_biases=battle_reliability(human_battles)
    )
    return AgreementRun(calibration, settings, skipped, unparsable)
