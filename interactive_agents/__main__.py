"""``python -m interactive_agents`` is the ``interactive-agents`` command."""

from interactive_agents.cli import main

main()
