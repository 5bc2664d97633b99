"""How to install an optional extra, said the same way by every message that needs one.

The package is installed from a clone or a git URL until it is published, so the hint
names both forms.
"""

from __future__ import annotations


def install_hint(extra: str) -> str:
    """``pip install 'interactive-agents[EXTRA]'``, and the form for a clone."""
    return f"pip install 'interactive-agents[{extra}]' (in a clone: pip install -e '.[{extra}]')"
