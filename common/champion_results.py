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
from common.style import FEATURES, feature_label, membership_column, style_column

# How far a player's style must be from his archetype's centre, on one feature, to be told as
# what sets him apart: one standard deviation of his season's league (the style space's unit;
# about one and a half of the spread within an archetype). 72 % of player-seasons have at
# least one such feature, 24 % one beyond FAR_FROM_TYPICAL (all 27 bundled seasons).
UNLIKE_TYPICAL = 1.0
FAR_FROM_TYPICAL = 1.5
MAX_SHOWN_DIFFERENCES = 3


@dataclass(frozen=True)
class Difference:
    """Where a player's style departs from his archetype's centre (``Z_<feature>`` minus the
    centroid's coordinate): ``feature`` a column of the cleaned table, e.g. ``BLK_PER36``."""

    feature: str
    difference: float

    @property
    def shown(self) -> float:
        """The difference as told (one decimal): what "far" and the threshold go by."""
        return round(self.difference, 1)

    @property
    def label(self) -> str:
        return feature_label(self.feature)

    @property
    def text(self) -> str:
        """ "blocks/36 far lower (-1.6)": higher or lower than the typical member's."""
        size = "far " if abs(self.shown) >= FAR_FROM_TYPICAL else ""
        way = "higher" if self.shown > 0 else "lower"
        return f"{self.label} {size}{way} ({self.shown:+.1f})"


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

    def unlike_typical(self, player: pd.Series) -> list[Difference] | None:
        """What sets a player apart from his archetype's typical member, largest first: the
        style features at least :data:`UNLIKE_TYPICAL` from its centre (Dennis Rodman 1996-97,
        a "Rim protector" who rebounded far more and blocked far less than one). Empty when he
        is typical of it in every respect; ``None`` when the champion's profiles or
        assignments do not say (no centre, no style coordinates)."""
        [profile] = [p for p in self.profiles if p["id"] == player["ARCHETYPE"]] or [{}]
        centre = profile.get("centroid")
        if not isinstance(centre, dict) or not all(
            f in centre and style_column(f) in player.index for f in FEATURES
        ):
            return None
        differences = [
            Difference(f, float(player[style_column(f)]) - float(centre[f])) for f in FEATURES
        ]
        notable = [d for d in differences if abs(d.shown) >= UNLIKE_TYPICAL]
        notable.sort(key=lambda d: -abs(d.difference))
        return notable[:MAX_SHOWN_DIFFERENCES]


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
