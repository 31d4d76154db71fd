"""Players most alike across seasons: nearest neighbours in the model's feature space.

The assignments carry every player's standardized features (``Z_*`` columns, the model's
scaler output), so similarity is plain Euclidean distance there: same space the archetypes
were found in, no model or training library needed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def feature_columns(assignments: pd.DataFrame) -> list[str]:
    return [c for c in assignments.columns if c.startswith("Z_")]


def most_similar(
    assignments: pd.DataFrame, player: pd.Series, season: str, limit: int = 10
) -> pd.DataFrame:
    """Players of ``season`` nearest to ``player``; same archetype first, then by distance.

    ``SIMILARITY`` maps distance to 0-100 % (100 % = identical profile).
    """
    columns = feature_columns(assignments)
    pool = assignments[assignments["SEASON"] == season]
    pool = pool[
        ~((pool["PLAYER_ID"] == player["PLAYER_ID"]) & (pool["SEASON"] == player["SEASON"]))
    ]
    target = player[columns].to_numpy(dtype="float64")
    distance = np.linalg.norm(pool[columns].to_numpy(dtype="float64") - target, axis=1)
    ranked = pool.assign(
        DISTANCE=distance,
        SIMILARITY=100 * np.exp(-distance / 2),
        SAME_ARCHETYPE=pool["ARCHETYPE"] == player["ARCHETYPE"],
    )
    return ranked.sort_values(["SAME_ARCHETYPE", "DISTANCE"], ascending=[False, True]).head(limit)
