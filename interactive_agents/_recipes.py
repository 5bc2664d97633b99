"""Recipes: TOML tables turned into typed, frozen configurations.

(The generic builder lands here; for now only the error it shares with every layer.)
"""

from __future__ import annotations

from interactive_agents.errors import ConfigError


class FieldError(ConfigError, ValueError):
    """A ConfigError that msgspec, converting a recipe, locates like its own errors.

    msgspec wraps a ValueError raised while building a nested object in a
    ValidationError pointing at that object; the builder adds the field named here.
    """
