"""What each archetype looks like, a name a scout would use, and a colour that lasts.

**Profiles.** Per archetype: its centroid in the style space (the model's own coordinates,
normal scores within the season), size and share, mean key stats with their z-scores against
the league (for display), the style features that set it apart most (largest |centroid|),
and example players (its best-known core members of every era, picked from the model's
assignments once they are placed: :func:`with_examples`).

**Names come from the model's features.** Each name of :data:`NAME_RULES` is a direction in
the style space (weights on features) plus bounds the centroid must respect to qualify (a
"Spot-up shooter" takes more threes than most). An archetype's affinity for a name is its
centroid projected on the normalized direction. An archetype no name fits well is described
by its two strongest features
("Guard/wing: steals, few shots"). Names go to the archetypes that fit them best as a whole
(Hungarian assignment on the affinities), each name at most once. Deterministic.

**Names and colours last across retrains.** A new model's archetypes are first matched to the
previous champion's (Hungarian matching of centroids, same style space): a pair closer than
:data:`MATCH_MAX_DISTANCE` keeps the old name and colour, so an archetype that did not really
change keeps both. Only the unmatched ones are named by the rules above, among the free names,
and get the first free colour.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from common.players import archetype_examples
from common.style import FEATURES

STAT_COLUMNS_SHOWN = [
    "PTS_PER36", "FGA_PER36", "FG3A_PER36", "FTA_PER36", "AST_PER36", "TOV_PER36",
    "OREB_PER36", "DREB_PER36", "REB_PER36", "STL_PER36", "BLK_PER36", "PF_PER36",
    "FG_PCT", "FG3_PCT", "FT_PCT", "TS_PCT", "FG3A_RATE", "FTA_RATE",
]  # fmt: skip
N_DISTINGUISHING = 4
N_EXAMPLES = 5
MIN_AFFINITY = 0.3
# Distance in the style space (10 normal-score coordinates) under which a new archetype is the
# previous one: refits on one more season move a centroid by ~0.1-0.3; distinct archetypes sit
# 1.5-4 apart.
MATCH_MAX_DISTANCE = 1.0
# Tableau 10 and two more distinct hues: up to 12 archetypes, none alike.
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#17becf", "#8c564b",
]  # fmt: skip

# Short feature names ("_PER36" dropped) -> readable words for generated descriptions.
_WORDS = {
    "FGA": ("shots", "few shots"), "FG3A_RATE": ("threes", "no threes"),
    "FTA_RATE": ("free throws", "few free throws"), "AST": ("assists", "few assists"),
    "TOV": ("ball handling", "few turnovers"), "OREB": ("offensive boards", "few boards"),
    "DREB": ("defensive boards", "few boards"), "STL": ("steals", "few steals"),
    "BLK": ("blocks", "few blocks"), "PF": ("fouls", "few fouls"),
}  # fmt: skip

_ANY = None
Bounds = tuple[float | None, float | None]
# Name -> (weights on centroid coordinates, bounds per feature to qualify). Order breaks ties.
NAME_RULES: dict[str, tuple[dict[str, float], dict[str, Bounds]]] = {
    "Ball-dominant creator": (
        {"FGA": 1.0, "AST": 1.0, "TOV": 1.0, "FTA_RATE": 0.5},
        {"FGA": (0.4, _ANY), "AST": (0.4, _ANY)},
    ),
    "Floor general": (
        {"AST": 2.0, "TOV": 0.5, "STL": 0.5, "FGA": -0.5},
        {"AST": (0.75, _ANY), "FGA": (_ANY, 0.4)},
    ),
    "Scoring guard": (
        {"FGA": 1.0, "FG3A_RATE": 1.0, "AST": 0.5, "OREB": -0.5, "BLK": -0.5},
        {"FG3A_RATE": (0.2, _ANY), "OREB": (_ANY, -0.3), "AST": (0.0, _ANY)},
    ),
    "Slasher": (
        {"FTA_RATE": 1.5, "FGA": 1.0, "FG3A_RATE": -0.5, "BLK": -0.5},
        {"FTA_RATE": (0.4, _ANY), "BLK": (_ANY, 0.3), "FGA": (0.0, _ANY)},
    ),
    "Spot-up shooter": (
        {"FG3A_RATE": 2.0, "FTA_RATE": -1.0, "TOV": -0.5, "AST": -0.5},
        {"FG3A_RATE": (0.75, _ANY), "AST": (_ANY, 0.0)},
    ),
    "3-and-D wing": (
        {"FG3A_RATE": 1.5, "STL": 1.0, "FGA": -0.5},
        {"FG3A_RATE": (0.5, _ANY), "STL": (0.25, _ANY)},
    ),
    "Defensive role player": (
        {"STL": 1.5, "FGA": -1.0, "BLK": 0.5, "PF": 0.5},
        {"STL": (0.4, _ANY), "FGA": (_ANY, -0.25)},
    ),
    "Scoring forward": (
        {"FGA": 1.5, "DREB": 0.25, "AST": -0.25, "BLK": -0.25},
        {"FGA": (0.3, _ANY), "AST": (-0.5, 0.5), "OREB": (-0.5, 0.5)},
    ),
    "Point forward": (
        {"AST": 1.0, "DREB": 1.0, "FGA": 0.5},
        {"AST": (0.4, _ANY), "DREB": (0.4, _ANY)},
    ),
    "Scoring big": (
        {"FGA": 1.5, "FTA_RATE": 1.0, "OREB": 0.5, "DREB": 0.5, "FG3A_RATE": -1.0},
        {"FGA": (0.3, _ANY), "OREB": (0.3, _ANY), "FG3A_RATE": (_ANY, -0.2)},
    ),
    "Stretch big": (
        {"FG3A_RATE": 1.5, "DREB": 1.0, "BLK": 0.5, "OREB": 0.5},
        {"FG3A_RATE": (0.2, _ANY), "DREB": (0.3, _ANY)},
    ),
    "Rim protector": (
        {"BLK": 1.5, "OREB": 1.0, "DREB": 0.5, "FGA": -1.0, "FG3A_RATE": -0.5},
        {"BLK": (0.6, _ANY), "FGA": (_ANY, 0.0)},
    ),
    "Rebounding big": (
        {"OREB": 2.0, "DREB": 1.0, "PF": 0.5, "FGA": -0.5},
        {"OREB": (0.6, _ANY)},
    ),
    "Traditional big": (
        {"OREB": 0.5, "DREB": 0.5, "BLK": 0.5, "PF": 0.5, "FG3A_RATE": -1.0, "AST": -0.5},
        {"OREB": (0.3, _ANY), "FG3A_RATE": (_ANY, -0.3)},
    ),
}


def short(feature: str) -> str:
    return feature.removesuffix("_PER36")


def archetype_profiles(
    table: pd.DataFrame,
    labels: np.ndarray,
    centroids: np.ndarray,
    previous: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One JSON-ready dict per archetype, in id order (see the module docstring).

    ``centroids``: (k, FEATURES) in the style space; ``previous``: the last champion's
    profiles (with ``centroid`` and ``color``), whose names and colours are carried over."""
    labels = np.asarray(labels)
    if len(labels) != len(table):
        raise ValueError(f"{len(labels)} labels for {len(table)} rows")
    k = len(centroids)
    names, colors = carry_over(centroids, previous or [])
    names = name_archetypes(centroids, names)
    colors = _fill_colors(colors, k)
    stats = [s for s in STAT_COLUMNS_SHOWN if s in table.columns]
    values = table[stats].to_numpy(dtype="float64")
    league_mean = np.nanmean(values, axis=0)
    league_std = np.nanstd(values, axis=0, ddof=1) if len(table) > 1 else np.zeros(len(stats))
    profiles = []
    for cluster in range(k):
        members = labels == cluster
        with np.errstate(invalid="ignore", divide="ignore"):
            means = _nanmean_columns(values[members])
            z = np.where(league_std > 0, (means - league_mean) / league_std, 0.0)
        centroid = dict(zip(FEATURES, centroids[cluster], strict=True))
        ranked = sorted(FEATURES, key=lambda f: (-abs(centroid[f]), f))[:N_DISTINGUISHING]
        profiles.append(
            {
                "id": cluster,
                "name": names[cluster],
                "color": colors[cluster],
                "size": int(members.sum()),
                "share": float(members.sum() / max(len(table), 1)),
                "centroid": {f: round(float(v), 4) for f, v in centroid.items()},
                "means": {s: _clean(v) for s, v in zip(stats, means, strict=True)},
                "z_scores": {s: _clean(v) for s, v in zip(stats, z, strict=True)},
                "distinguishing": [{"stat": f, "z": round(centroid[f], 4)} for f in ranked],
                "examples": [],  # from the assignments, once placed: with_examples
            }
        )
    return profiles


def carry_over(
    centroids: np.ndarray, previous: list[dict[str, Any]]
) -> tuple[dict[int, str], dict[int, str]]:
    """Names and colours (by new id) of the archetypes that match a previous one."""
    usable = [p for p in previous if set(p.get("centroid", {})) == set(FEATURES)]
    if not usable:
        return {}, {}
    old = np.array([[p["centroid"][f] for f in FEATURES] for p in usable])
    distance = np.linalg.norm(centroids[:, np.newaxis, :] - old[np.newaxis, :, :], axis=2)
    rows, cols = linear_sum_assignment(distance)
    names, colors = {}, {}
    for new_id, old_index in zip(rows, cols, strict=True):
        if distance[new_id, old_index] <= MATCH_MAX_DISTANCE:
            names[int(new_id)] = str(usable[old_index]["name"])
            if usable[old_index].get("color"):
                colors[int(new_id)] = str(usable[old_index]["color"])
    return names, colors


def name_archetypes(centroids: np.ndarray, fixed: dict[int, str] | None = None) -> dict[int, str]:
    """Archetype id -> unique name; ``fixed`` names (carried over) are kept and not reused.

    The other archetypes get the rule names that maximize their total affinity (Hungarian
    assignment: a big who is "Traditional big" by a hair does not take "Rim protector" from
    the one who blocks twice as much); a name below MIN_AFFINITY or out of bounds is not
    given, and such an archetype is described instead."""
    names = dict(fixed or {})
    coordinates = [
        {short(f): float(v) for f, v in zip(FEATURES, row, strict=True)} for row in centroids
    ]
    open_ids = [c for c in range(len(centroids)) if c not in names]
    free = [n for n in NAME_RULES if n not in names.values()]
    if open_ids and free:
        affinity = np.array([[_affinity(coordinates[c], n) for n in free] for c in open_ids])
        rows, cols = linear_sum_assignment(np.where(np.isfinite(affinity), -affinity, 1e6))
        for row, col in zip(rows, cols, strict=True):
            if affinity[row, col] >= MIN_AFFINITY:
                names[open_ids[row]] = free[col]
    for cluster in range(len(centroids)):
        if cluster not in names:
            names[cluster] = _unique(describe(coordinates[cluster]), set(names.values()))
    return names


def _affinity(z: dict[str, float], name: str) -> float:
    """The centroid projected on the name's direction; -inf when out of its bounds."""
    weights, bounds = NAME_RULES[name]
    if not all(_within(z.get(f, 0.0), b) for f, b in bounds.items()):
        return -math.inf
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return sum(w * z.get(f, 0.0) for f, w in weights.items()) / norm


def describe(z: dict[str, float]) -> str:
    """A name for an archetype no rule fits: its position on the floor (from the inside-outside
    index (OREB + BLK - 3PA share) / 3) and its two strongest features."""
    inside = (z.get("OREB", 0.0) + z.get("BLK", 0.0) - z.get("FG3A_RATE", 0.0)) / 3
    position = "Big" if inside >= 0.5 else "Guard/wing" if inside <= -0.25 else "Forward"
    top = sorted(z, key=lambda f: (-abs(z[f]), f))[:2]
    if not top or abs(z[top[0]]) < 0.5:
        return f"All-round {position.lower()}"
    words = [_WORDS.get(f, (f, f))[0 if z[f] > 0 else 1] for f in top if abs(z[f]) >= 0.4]
    return f"{position}: {', '.join(words)}"


def _fill_colors(colors: dict[int, str], k: int) -> list[str]:
    free = [c for c in PALETTE if c not in colors.values()]
    return [colors.get(i) or (free.pop(0) if free else PALETTE[i % len(PALETTE)]) for i in range(k)]


def _within(value: float, bounds: Bounds) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    counter = 2
    while f"{name} {counter}" in taken:
        counter += 1
    return f"{name} {counter}"


def with_examples(
    profiles: list[dict[str, Any]], assignments: pd.DataFrame
) -> list[dict[str, Any]]:
    """``profiles`` with each archetype's best-known core members, as the app's cards show
    them (:func:`common.players.archetype_examples`), from the model's own assignments."""
    named = []
    for profile in profiles:
        picked = archetype_examples(assignments, profile["id"], N_EXAMPLES)
        pairs = zip(picked["PLAYER_NAME"], picked["SEASON"], strict=True)
        named.append({**profile, "examples": [f"{n} ({s})" for n, s in pairs]})
    return named


def _nanmean_columns(values: np.ndarray) -> np.ndarray:
    counts = np.sum(~np.isnan(values), axis=0)
    sums = np.nansum(values, axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _clean(value: float) -> float | None:
    value = float(value)
    return round(value, 4) if math.isfinite(value) else None
