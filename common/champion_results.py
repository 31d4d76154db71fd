"""What the app and the CLI show of the champion: its per-player assignments and archetypes.

Apart from :mod:`common.champion` because it needs pandas, which a CLI command that only names
the champion (``status``) should not pay for at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from pyarrow import ArrowException

from common.champion import (
    ASSIGNMENTS_ARTIFACT,
    PROFILES_ARTIFACT,
    Champion,
    read_champion_artifact,
    read_profiles,
)
from common.players import NAME_THAT_SEASON, Players, with_latest_names
from common.settings import Settings
from common.style import membership_column


@dataclass(frozen=True)
class ChampionResults:
    """What the app and the CLI show: the champion's per-player assignments and archetypes.

    ``assignments``: one row per classified player-season: identity (``PLAYER_ID``;
    ``PLAYER_NAME``, his latest name; ``NAME_THAT_SEASON``, see ``common/players.py``),
    ``ARCHETYPE`` (id),
    ``ARCHETYPE_NAME``, ``MEMBERSHIP_<id>`` shares, ``Z_<feature>`` style coordinates,
    ``SKILL_<percentage>`` shooting skill (for similarity; absent before it was added), ``X``/``Y``
    map coordinates and key stats. ``profiles``: one dict per archetype (``id``, ``name``,
    ``color``, ``centroid``, ``size``, ``share``, ``means``, ``z_scores``, ``distinguishing``,
    ``examples``), sorted by name so an archetype keeps its place across champions.
    """

    champion: Champion
    assignments: pd.DataFrame
    profiles: list[dict[str, Any]]

    @cached_property
    def players(self) -> Players:
        """Who is who: every classified player by id, his latest name and all his names."""
        return Players.of(self.assignments)

    @property
    def seasons(self) -> list[str]:
        return sorted(self.assignments["SEASON"].astype(str).unique())

    @property
    def archetype_names(self) -> list[str]:
        return [p["name"] for p in self.profiles]

    @property
    def colors(self) -> list[str]:
        return [p.get("color", "#888888") for p in self.profiles]

    def memberships(self, player: pd.Series) -> list[tuple[str, float]]:
        """(archetype name, share) of one assignments row, largest share first."""
        shares = [
            (p["name"], float(player.get(membership_column(p["id"]), 0.0))) for p in self.profiles
        ]
        return sorted(shares, key=lambda pair: -pair[1])


def load_champion_results(settings: Settings, champion: Champion) -> ChampionResults:
    """Read one champion's artifacts (the app caches this per version)."""
    assignments = read_champion_artifact(settings, champion, ASSIGNMENTS_ARTIFACT, _read_parquet)
    if NAME_THAT_SEASON not in assignments.columns:
        # A champion trained before names were resolved by id: PLAYER_NAME is each season's
        # own name. His latest name is then the one of his latest classified season (a newer
        # champion takes it from every stored season, classified or not). PLAYER_ID itself is
        # in every champion's assignments since the first version.
        assignments = with_latest_names(assignments)
    profiles = read_champion_artifact(settings, champion, PROFILES_ARTIFACT, read_profiles)
    return ChampionResults(champion, assignments, sorted(profiles, key=lambda p: p["name"]))


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ArrowException as error:  # a truncated file: damaged, as read_champion_artifact says
        raise ValueError(f"{type(error).__name__}: {error}") from error
