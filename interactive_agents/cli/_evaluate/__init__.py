"""``interactive-agents evaluate``: evaluation of dialogue corpora (docs/evaluation.md).

A thin click shell over :mod:`interactive_agents.evaluation`, one module per subcommand:
each turns its flags into dotted keys of the :class:`EvaluationConfig` (on top of the
group's ``--recipe``), makes one library call, which writes the report, and prints the
summary it returns. Bad input (an ``InputError``, which includes ``ConfigError``) becomes
a one-line message and exit code 2. ``topics``, ``wai`` and ``safety`` ask an LLM judge;
they exit with 1 when the run is not a measurement (too many unreadable answers, or
endpoint errors; the report lists them).
"""

from __future__ import annotations

import click

from interactive_agents.cli._evaluate._overlap import overlap
from interactive_agents.cli._evaluate._quality import quality
from interactive_agents.cli._evaluate._safety import safety
from interactive_agents.cli._evaluate._semantic import semantic
from interactive_agents.cli._evaluate._stats import stats
from interactive_agents.cli._evaluate._topics import topics
from interactive_agents.cli._evaluate._wai import wai


@click.group()
@click.option(
    "--recipe",
    metavar="FILE|NAME",
    help="A TOML recipe of the evaluation's settings: top-level keys, [endpoint] and "
    "[judge.*] for the judge, [overlap], [semantic], [topics], [wai], [quality.thresholds], "
    "[safety] (docs/evaluation.md); the flags given win.",
)
def evaluate(recipe: str | None) -> None:
    """Evaluate dialogue corpora as the method does (docs/evaluation.md).

    stats, overlap, semantic and quality need no LLM; topics, wai and safety ask an LLM
    judge.

    \b
    Examples:
      interactive-agents evaluate stats runs/a runs/b --out reports/stats
      interactive-agents evaluate overlap runs/a --out reports/overlap --seed 1
      interactive-agents evaluate semantic runs/a --out reports/semantic --model BAAI/bge-m3
      interactive-agents evaluate topics runs/a real/ --out reports/topics \\
          --base-url http://localhost:8000/v1 --model Qwen2-72B-Instruct
      interactive-agents evaluate wai runs/a runs/b --out reports/wai \\
          --base-url https://api.openai.com/v1 --model gpt-4o --api-key-env OPENAI_API_KEY
      interactive-agents evaluate --recipe judge.toml wai runs/a --out reports/wai
      interactive-agents evaluate safety runs/crisis --out reports/safety \
          --base-url http://localhost:8000/v1 --model Qwen2-72B-Instruct
    """


for _command in (stats, overlap, semantic, topics, wai, quality, safety):
    evaluate.add_command(_command)
