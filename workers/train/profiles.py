"""What each archetype looks like, and a name a fan can read.

For every cluster: its size and share, the mean of the key per-36 and shooting stats, their
z-scores against the league (mean and standard deviation over *all* players of the table, so
for an all-seasons training the league is all seasons), the stats that distinguish it most
(largest |z|), and its most-used players as examples.

Naming: each name of :data:`NAME_RULES` is a direction in z-score space (a few stats with
signs and weights) plus bounds a cluster must respect to be eligible for it (a "3-and-D wing"
takes more threes than average). A cluster's affinity for a name is its z-profile projected on
that direction (weights normalized, so names compare fairly). Names are given greedily,
strongest affinity first, each name at most once, so names are unique and an archetype gets the
best name still free. A cluster left without a name (no eligible name with affinity >=
:data:`MIN_AFFINITY`) is named from its position and profile: "Balanced wing" when nothing
stands out, else "Forward (high shot volume, high scoring)"; a counter is appended if that is
taken. Ties go to the lower cluster id, then to the earlier name: deterministic.

FG3_PCT is reported but never used to distinguish or name: big men take a handful of threes,
so their percentage is noise. Noise points (label -1) get an "Unclassified" entry, only if any.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

PER36_STATS = [
    "PTS_PER36", "FGA_PER36", "FG3A_PER36", "FTA_PER36", "AST_PER36", "TOV_PER36",
    "OREB_PER36", "DREB_PER36", "REB_PER36", "STL_PER36", "BLK_PER36", "PF_PER36",
]  # fmt: skip
SHOOTING_STATS = ["FG_PCT", "FG3_PCT", "FT_PCT", "TS_PCT", "FG3A_RATE", "FTA_RATE"]
PROFILE_STATS = [*PER36_STATS, *SHOOTING_STATS]
NOT_DISTINGUISHING = {"FG3_PCT"}
N_DISTINGUISHING = 4
N_EXAMPLES = 5
MIN_AFFINITY = 0.35
UNCLASSIFIED = "Unclassified"

# Name -> (weights on z-scores, bounds (low, high) a cluster's z-scores must respect to be
# eligible for the name). Stats by short name ("_PER36" dropped). The bounds keep a name off a
# cluster that only leans that way through side stats (a "3-and-D wing" must take more threes
# than average, and not be a playmaker). Order breaks ties.
_ANY = None
NAME_RULES: dict[str, tuple[dict[str, float], dict[str, tuple[float | None, float | None]]]] = {
    "Ball-dominant scorer": (
        {"PTS": 1.0, "FGA": 1.0, "AST": 1.0, "TOV": 0.5},
        {"FGA": (0.5, _ANY), "AST": (0.5, _ANY)},
    ),
    "Playmaking guard": (
        {"AST": 2.0, "TOV": 0.5, "STL": 0.5, "FGA": -0.5},
        {"AST": (0.75, _ANY)},
    ),
    "Scoring wing": (
        {"PTS": 1.0, "FGA": 1.0, "FG3A_RATE": 0.5, "OREB": -0.5},
        {"FGA": (0.0, _ANY), "OREB": (_ANY, 0.0)},
    ),
    "Rim-protecting center": (
        {"BLK": 1.5, "OREB": 1.0, "FG3A_RATE": -1.0, "FGA": -0.5},
        {"BLK": (0.5, _ANY)},
    ),
    "Scoring big": (
        {"PTS": 1.0, "FGA": 1.0, "OREB": 1.0, "FG3A_RATE": -1.0, "FTA_RATE": 0.5},
        {"FGA": (0.25, _ANY), "OREB": (0.25, _ANY)},
    ),
    "Stretch big": (
        {"FG3A_RATE": 1.0, "DREB": 1.0, "BLK": 0.5, "AST": -0.5},
        {"FG3A_RATE": (0.25, _ANY), "DREB": (0.5, _ANY)},
    ),
    "3-and-D wing": (
        {"FG3A_RATE": 1.5, "STL": 0.75, "FGA": -0.5, "OREB": -0.5, "AST": -0.5},
        {"FG3A_RATE": (0.5, _ANY), "STL": (0.0, _ANY), "AST": (_ANY, 0.25)},
    ),
    "Spot-up shooter": (
        {"FG3A_RATE": 1.5, "FGA": -0.5, "AST": -0.5, "FTA_RATE": -0.5},
        {"FG3A_RATE": (0.5, _ANY), "AST": (_ANY, 0.5)},
    ),
    "Rebounding big": (
        {"OREB": 1.5, "DREB": 1.0, "FGA": -1.0},
        {"OREB": (0.5, _ANY)},
    ),
    "Low-usage role player": (
        {"FGA": -1.0, "PTS": -1.0, "AST": -0.5, "TOV": -0.5},
        {"FGA": (_ANY, -0.25), "OREB": (_ANY, 0.5)},  # a low-usage big is a big first
    ),
}


def archetype_profiles(table: pd.DataFrame, labels: np.ndarray | pd.Series) -> list[dict[str, Any]]:
    """One JSON-ready dict per archetype (sorted by id; "Unclassified" -1 first if present).

    Keys: ``id``, ``name``, ``size``, ``share``, ``means`` and ``z_scores`` (stat -> value, None
    where undefined), ``distinguishing`` (list of ``{"stat", "z"}``, largest |z| first) and
    ``examples`` ("Name (season)" of its players with the most minutes).
    """
    labels = np.asarray(labels)
    if len(labels) != len(table):
        raise ValueError(f"{len(labels)} labels for {len(table)} rows")
    stats = [s for s in PROFILE_STATS if s in table.columns]
    values = table[stats].to_numpy(dtype="float64")
    league_mean = np.nanmean(values, axis=0)
    league_std = np.nanstd(values, axis=0, ddof=1) if len(table) > 1 else np.zeros(len(stats))
    n = len(table)

    profiles: list[dict[str, Any]] = []
    z_by_cluster: dict[int, dict[str, float]] = {}
    for cluster in sorted(int(c) for c in np.unique(labels)):
        members = labels == cluster
        with np.errstate(invalid="ignore", divide="ignore"):
            means = _nanmean_columns(values[members])
            z = np.where(league_std > 0, (means - league_mean) / league_std, 0.0)
        z_map = {s: _clean(v) for s, v in zip(stats, z, strict=True)}
        ranked = sorted(
            (s for s in stats if s not in NOT_DISTINGUISHING and z_map[s] is not None),
            key=lambda s: (-abs(z_map[s]), s),  # type: ignore[arg-type]
        )
        if cluster >= 0:
            z_by_cluster[cluster] = {_short(s): v for s, v in z_map.items() if v is not None}
        profiles.append(
            {
                "id": cluster,
                "name": UNCLASSIFIED if cluster < 0 else "",
                "size": int(members.sum()),
                "share": float(members.sum() / n),
                "means": {s: _clean(v) for s, v in zip(stats, means, strict=True)},
                "z_scores": z_map,
                "distinguishing": [{"stat": s, "z": z_map[s]} for s in ranked[:N_DISTINGUISHING]],
                "examples": _examples(table, members),
            }
        )
    names = archetype_names(z_by_cluster)
    for profile in profiles:
        if profile["id"] >= 0:
            profile["name"] = names[profile["id"]]
    return profiles


def archetype_names(z_by_cluster: dict[int, dict[str, float]]) -> dict[int, str]:
    """Cluster id -> unique readable name, from each cluster's z-scores (rule in the docstring).

    z-scores are keyed by short stat names ("PTS", "FG3A_RATE"); missing stats count as 0.
    """
    affinities = []
    for cluster, z in z_by_cluster.items():
        for order, (name, (weights, requires)) in enumerate(NAME_RULES.items()):
            if not all(_within(z.get(stat, 0.0), bounds) for stat, bounds in requires.items()):
                continue
            norm = math.sqrt(sum(w * w for w in weights.values()))
            score = sum(w * z.get(stat, 0.0) for stat, w in weights.items()) / norm
            affinities.append((-round(score, 9), cluster, order, name))
    names: dict[int, str] = {}
    for negative_score, cluster, _, name in sorted(affinities):
        if cluster in names or name in names.values() or -negative_score < MIN_AFFINITY:
            continue
        names[cluster] = name
    for cluster in sorted(set(z_by_cluster) - set(names)):
        names[cluster] = _unique(_describe(z_by_cluster[cluster]), set(names.values()))
    return names


def _within(z: float, bounds: tuple[float | None, float | None]) -> bool:
    low, high = bounds
    return (low is None or z >= low) and (high is None or z <= high)


_READABLE = {
    "PTS": "scoring", "FGA": "shot volume", "FG3A": "threes", "FTA": "free throws",
    "AST": "assists", "TOV": "turnovers", "OREB": "offensive rebounds",
    "DREB": "defensive rebounds", "REB": "rebounds", "STL": "steals", "BLK": "blocks",
    "PF": "fouls", "FG_PCT": "FG%", "FT_PCT": "FT%", "TS_PCT": "true shooting",
    "FG3A_RATE": "3-point rate", "FTA_RATE": "free-throw rate",
}  # fmt: skip


def _describe(z: dict[str, float]) -> str:
    """A name for a cluster no rule fits: its position, from the inside-outside index
    (OREB + BLK - FG3A_RATE) / 3, and either "Balanced" when nothing stands out (every
    |z| < 0.75) or its two most distinguishing stats: "Wing (high 3-point rate, low assists)".
    """
    usable = {s: v for s, v in z.items() if s not in {_short(x) for x in NOT_DISTINGUISHING}}
    inside = (z.get("OREB", 0.0) + z.get("BLK", 0.0) - z.get("FG3A_RATE", 0.0)) / 3
    position = "big" if inside >= 0.5 else "wing" if inside <= -0.25 else "forward"
    top = sorted(usable, key=lambda s: (-abs(usable[s]), s))[:2]
    if not top or abs(usable[top[0]]) < 0.75:
        return f"Balanced {position}"
    words = [
        f"{'high' if usable[s] > 0 else 'low'} {_READABLE.get(s, s)}"
        for s in top
        if abs(usable[s]) >= 0.5
    ]
    return f"{position.capitalize()} ({', '.join(words)})"


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    counter = 2
    while f"{name} {counter}" in taken:
        counter += 1
    return f"{name} {counter}"


def _examples(table: pd.DataFrame, members: np.ndarray) -> list[str]:
    if "PLAYER_NAME" not in table.columns:
        return []
    group = table.loc[members]
    if "MIN" in group.columns:
        group = group.sort_values(["MIN", "PLAYER_NAME"], ascending=[False, True], kind="stable")
    group = group.head(N_EXAMPLES)
    seasons = group["SEASON"] if "SEASON" in group.columns else [None] * len(group)
    return [
        f"{name} ({season})" if season is not None else str(name)
        for name, season in zip(group["PLAYER_NAME"], seasons, strict=True)
    ]


def _nanmean_columns(values: np.ndarray) -> np.ndarray:
    counts = np.sum(~np.isnan(values), axis=0)
    sums = np.nansum(values, axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _short(stat: str) -> str:
    return stat.removesuffix("_PER36")


def _clean(value: float) -> float | None:
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None
