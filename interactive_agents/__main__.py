"""``python -m interactive_agents`` is the ``interactive-agents`` command."""

from .cli import main

main()
