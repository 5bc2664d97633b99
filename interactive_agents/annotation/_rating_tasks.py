"""Making a rating task from a configuration: read the corpora, draw the sample, load the
judge's card as a rubric, and assign the sessions (``annotate assign``)."""

from __future__ import annotations

import random

from interactive_agents.annotation._config import RatingTaskConfig
from interactive_agents.annotation._database import AnnotationStore
from interactive_agents.annotation._rubrics import load_rating_rubric
from interactive_agents.annotation._task_store import TaskProgress, TaskStore, task_sessions
from interactive_agents.corpora import detect_language, load_corpus
from interactive_agents.errors import InputError


def create_rating_task(config: RatingTaskConfig) -> TaskProgress:
    """Create the task ``config.task`` in ``config.db`` and return its (empty) progress."""
    if not config.corpora:
        raise InputError("name at least one corpus", field="corpora")
    store = AnnotationStore(config.db)
    annotators = store.users(list(config.annotators))
    sessions = task_sessions([load_corpus(path) for path in config.corpora])
    if config.sample is not None and config.sample < len(sessions):
        chosen = sorted(random.Random(config.seed).sample(range(len(sessions)), config.sample))
        sessions = [sessions[i] for i in chosen]
    language = config.language
    if language == "auto":
        language = detect_language(text for s in sessions for _, text in s.turns)
    rubric = load_rating_rubric(
        config.rubric,
        language,
        actors_dir=config.actors_dir,
        topics=config.topics,
        max_topics=config.max_topics,
    )
    return TaskStore(store).create(
        config.task,
        rubric,
        sessions,
        annotators,
        overlap=config.overlap,
        seed=config.seed,
        source=", ".join(config.corpora),
    )
