"""The public API: ``__all__`` is sorted and names everything re-exported."""

from __future__ import annotations

import types

import interactive_agents


def test_all_is_sorted_and_complete() -> None:
    exported = interactive_agents.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(interactive_agents).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(exported)
