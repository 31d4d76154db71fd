"""The per-player table a model publishes: archetype, memberships, style coordinates, stats.

This is the ``assignments.parquet`` artifact the app and the CLI read (columns described in
``common.champion_results.ChampionResults``).

**Soft membership** (``MEMBERSHIP_<id>``): k-means is the equal-variance limit of a spherical
Gaussian mixture, so a player's share of archetype j is that mixture's posterior with equal
weights, ``exp(-d_j² / (2 s²))`` normalized over the archetypes, where d_j is his distance to
centroid j and s² the average within-archetype variance per style feature (measured on the
same rows). A player in the middle of an archetype gets ~90 % of it; one between two gets a
split ("55 % Floor general, 40 % Scoring guard"). The primary archetype is the largest share,
which is the nearest centroid, so it always agrees with ``ARCHETYPE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from common.players import NAME_THAT_SEASON
from common.segments import PLAYOFF_SHOOTING, REGULAR_SHOOTING
from common.style import FEATURES, SHOOTING_SKILLS, membership_column, skill_column, style_column
from workers.train.scoring import MapProjection

# Stats the app shows beside each player (profiles, comparisons), carried in the assignments:
# each segment's games, minutes and shooting as the site gives them, then the blended figures
# (common/segments.py). Tables cleaned before the per-segment columns lack them.
STAT_COLUMNS = [
    "AGE", "GP", "MIN_PER_GAME", *REGULAR_SHOOTING, "PLAYOFF_GP", "PLAYOFF_MIN",
    *PLAYOFF_SHOOTING, "PTS_PER36", "REB_PER36", "OREB_PER36", "DREB_PER36",
    "AST_PER36", "STL_PER36", "BLK_PER36", "TOV_PER36", "PF_PER36", "FGA_PER36", "FG3A_PER36",
    "FTA_PER36", "FG_PCT", "FG3_PCT", "FT_PCT", "TS_PCT", "FG3A_RATE", "FTA_RATE",
]  # fmt: skip


def squared_distances(X: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(rows, k) squared distance of each row to each centroid."""
    return np.sum((X[:, np.newaxis, :] - centroids[np.newaxis, :, :]) ** 2, axis=2)


def within_variance(X: np.ndarray, centroids: np.ndarray) -> float:
    """s²: the average squared distance to the nearest centroid, per style feature."""
    return float(squared_distances(X, centroids).min(axis=1).mean()) / X.shape[1]


def memberships(X: np.ndarray, centroids: np.ndarray, variance: float | None = None) -> np.ndarray:
    """(rows, k) shares of each archetype, rows summing to 1 (see the module docstring).

    ``variance``: s² as measured on the model's rows (``within_variance``); by default measured
    on ``X`` itself, which are those rows when the assignments are built."""
    squared = squared_distances(X, centroids)
    nearest = squared.min(axis=1, keepdims=True)
    if variance is None:
        variance = within_variance(X, centroids)
    weights = np.exp(-(squared - nearest) / (2 * max(variance, 1e-12)))
    return weights / weights.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Placement:
    """Where a model puts a player-season besides his archetype: memberships and map
    coordinates, measured once on the rows the model is published with. The assignments and
    the served model (``workers/train/serving.py``) both answer through it, so a row sent to
    the model gets the answer the app shows."""

    centroids: np.ndarray  # (k, features), in the style space
    variance: float  # s² of the memberships (``within_variance``)
    projection: MapProjection
    names: list[str]  # archetype id -> name

    @classmethod
    def measure(
        cls, X: np.ndarray, centroids: np.ndarray, profiles: list[dict[str, Any]]
    ) -> Placement:
        names = {p["id"]: p["name"] for p in profiles}
        return cls(
            centroids,
            within_variance(X, centroids),
            MapProjection.fit(X),
            [names[j] for j in range(len(centroids))],
        )

    def answers(self, X: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
        """Archetype, name, memberships, map and style coordinates of each row of ``X``."""
        shares = memberships(X, self.centroids, self.variance)
        xy = self.projection.apply(X)
        return pd.DataFrame(
            {
                "ARCHETYPE": labels.astype("int64"),
                "ARCHETYPE_NAME": [self.names[int(label)] for label in labels],
                **{membership_column(j): shares[:, j] for j in range(len(self.centroids))},
                "X": xy[:, 0],
                "Y": xy[:, 1],
                **{style_column(f): X[:, i] for i, f in enumerate(FEATURES)},
            }
        )


def build_assignments(
    players: pd.DataFrame,
    X: np.ndarray,
    labels: np.ndarray,
    placement: Placement,
    skills: np.ndarray,
) -> pd.DataFrame:
    """One row per player-season: who, the model's answers (``placement``), his shooting
    skill (``features.shooting_skills``: for "who played like him"), and the stats shown."""
    players = players.reset_index(drop=True)
    identity = pd.DataFrame(
        {
            "PLAYER_ID": players["PLAYER_ID"].to_numpy(),
            # His latest name (shown) and the season's own: common/players.py.
            "PLAYER_NAME": players["PLAYER_NAME"].astype(str).to_numpy(),
            NAME_THAT_SEASON: players[NAME_THAT_SEASON].astype(str).to_numpy(),
            "SEASON": players["SEASON"].astype(str).to_numpy(),
            "TEAM_ABBREVIATION": players["TEAM_ABBREVIATION"].astype(str).to_numpy(),
        }
    )
    if "TEAM_ID" in players:  # the franchise (common/league.py); seasons cleaned before lack it
        identity["TEAM_ID"] = players["TEAM_ID"].astype("Int64").to_numpy()
    shooting = pd.DataFrame({skill_column(p): skills[:, i] for i, p in enumerate(SHOOTING_SKILLS)})
    stats = [c for c in STAT_COLUMNS if c in players.columns]
    return pd.concat([identity, placement.answers(X, labels), shooting, players[stats]], axis=1)
