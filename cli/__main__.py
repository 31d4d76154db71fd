"""``python -m cli``: the same as ``nba-archetypes`` (what the images run)."""

from cli.main import entry

entry()
