"""The flags of the commands that play dialogues over role cards (simulate, arena).

Their configurations share these keys (``CardRunConfig``), so the flags are declared
once here: inputs and output, the run's shape, the refiner and terminator, the embedded
model, resume, shards and output.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from interactive_agents.cli._local_model import local_model_option
from interactive_agents.cli._options import endpoint_options, option
from interactive_agents.cli._shards import shard_options
from interactive_agents.method import TERMINATOR_MODES

F = TypeVar("F", bound=Callable[..., Any])


def run_options(kind: type, *, candidates: str) -> Callable[[F], F]:
    """The shared flags of a command whose configuration is ``kind``; ``candidates``
    says what the refiner's attempts count (per counselor turn, per bot and turn)."""
    choice = click.Choice
    decorators: list[Callable[[Any], Any]] = [
        option(
            "--cards",
            key="cards",
            help="Role cards: .jsonl/.json/.toml, reference .txt cards, a folder, or a "
            "built-in set (demo_en).",
        ),
        option("--pool", key="pool", help="Pool of chief complaints for reference .txt cards."),
        option("--out", key="out", help="Run directory (created, or resumed when it exists)."),
        endpoint_options(faults=True),
        option("--language", key="language", kind=kind, type=choice(["zh", "en"]),
               help="Prompt language."),
        option("--max-turns", key="max_turns", kind=kind, type=int, help="Turn cap T."),
        option("--seed", key="seed", kind=kind, type=int,
               help="Run seed; every request gets a seed derived from it."),
        option("--limit", key="limit", type=int, help="Only the first N cards."),
        option("--max-in-flight", key="max_in_flight", kind=kind, type=int,
               help="Dialogues in flight at once (admission)."),
        option("--refiner-attempts", key="refiner.max_attempts", kind=kind, type=int,
               help=f"Candidates {candidates}."),
        option("--on-exhausted", key="refiner.on_exhausted", kind=kind,
               type=choice(["repair", "accept_last", "fail"]),
               help="When every candidate was rejected."),
        option("--terminator", key="terminator.mode", kind=kind,
               type=choice(list(TERMINATOR_MODES)),
               help="How closing phrases end a session: farewell (said as a farewell, "
               "nothing asked or begun after it; also an answer to a thanks, \"You're "
               "welcome\"), substring (anywhere, as the paper), closing (in the last "
               "sentence)."),
        local_model_option("roles with no --base-url"),
        option("--actors-dir", key="actors_dir",
               help="A folder of custom prompt cards (copy of actors/)."),
        option("--skip-invalid", key="skip_invalid", is_flag=True,
               help="Skip bad cards (reported) instead of stopping."),
        click.option("--force", is_flag=True, help="Resume even if the configuration changed."),
        click.option("--retry-failed", is_flag=True,
                     help="On resume, play failed dialogues again."),
        shard_options,
        click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print the summary as JSON on stdout."),
    ]  # fmt: skip

    def decorate(command: F) -> F:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return decorate
