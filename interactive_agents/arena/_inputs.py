"""An arena run's inputs, all read and checked before it starts: bots and matches."""

from __future__ import annotations

from dataclasses import dataclass, replace

from interactive_agents.arena._bots import Bot, load_bots
from interactive_agents.arena._competition import Match
from interactive_agents.arena._config import ArenaConfig
from interactive_agents.arena._pairing import plan_matches
from interactive_agents.errors import CardError, ConfigError
from interactive_agents.method._cards import load_cards
from interactive_agents.method._prompts import load_prompts


@dataclass(frozen=True, slots=True)
class ArenaInputs:
    """The bots, the matches to play, and the cards left out as invalid (only with
    ``skip_invalid``; otherwise a bad card stops the run before it starts)."""

    bots: list[Bot]
    matches: list[Match]
    invalid: list[CardError]


def arena_inputs(config: ArenaConfig) -> ArenaInputs:
    """Read the bots registry and the cards of ``config`` and plan its matches."""
    if not config.bots:
        raise ConfigError("missing: pass --bots or set bots in the recipe", field="bots")
    if not config.cards:
        raise ConfigError("missing: pass --cards or set cards in the recipe", field="cards")
    prompts = load_prompts(config.language, config.actors_dir)
    bots = [
        replace(bot, sampling=config.bot_sampling.over(bot.sampling))
        for bot in load_bots(config.bots, prompts.counselor.system_message().content)
    ]
    batch = load_cards(config.cards, skip_invalid=config.skip_invalid, pool=config.pool)
    matches = plan_matches(
        batch.cards[: config.limit],
        bots,
        pairing=config.pairing,
        seed=config.seed,
        per_pair=config.per_pair,
    )
    return ArenaInputs(bots, matches, list(batch.invalid))
