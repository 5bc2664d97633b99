"""``python -m interactive_agents.testing [OPTIONS]`` serves the fake; ``--help`` lists them."""

from interactive_agents.testing._command import run_command

run_command()
