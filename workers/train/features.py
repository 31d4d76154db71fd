"""The playing-style features the archetypes are clustered on, and why these four.

An archetype is *how* a player plays, not how good his team was nor how much he played, so
every feature is a rate per 36 minutes or a shot-mix ratio of the cleaned table
(workers/fetch/cleaning.py). Team context (wins, plus-minus, team) and volume (games,
minutes) are left out on purpose: they describe the situation, not the style.

Four features, one per axis a scout would use to place a player on the floor:

- ``FG3A_RATE`` (share of field-goal attempts from three): *where* he shoots from, perimeter
  versus paint. The ratio, not 3PA/36, so it does not double count shot volume.
- ``FGA_PER36``: *how much* of the offence he finishes, usage (scorer versus role player).
- ``AST_PER36``: *how much* he creates for others, the playmaking axis.
- ``OREB_PER36``: *how much* he works inside, the big-man axis; offensive rebounds separate a
  stretch big (who gets defensive rebounds too) from a paint big better than total rebounds.

Measured on the 27 cleaned seasons (eligible players, standardized, PCA with 2 components,
k-means with 5-7 clusters): this set keeps 76-78 % of the variance in two dimensions for every
single season and for all seasons together, with silhouettes of 0.36-0.39, whereas the 17 raw
per-36 rates give 0.15-0.17 (they are dominated by redundant correlated blocks: FGM/FGA/PTS,
OREB/DREB/REB/BLK...). Adding BLK, REB, STL, PTS, TOV or FTA_RATE as a fifth or sixth feature
gave no better silhouette and pushed the two-component variance share down to 0.68-0.74
(below the 0.70 floor in some seasons). Blocks, steals, efficiency and the rest still
describe every archetype (workers/train/profiles.py), they just do not define it.
Not used: FG3_PCT and FT_PCT (undefined without attempts, and noisy on few attempts),
PFD_PER36 (not recorded before 2000-01: zeros in the early recordings).

Missing values: a rate is NaN only when its denominator is zero (no field-goal attempt for
FG3A_RATE, no minutes for a per-36 rate); such a player has none of those events, so the
value is 0. Eligible players never hit this; the rule only keeps odd rows from breaking a fit.
"""

from __future__ import annotations

import pandas as pd

FEATURES: list[str] = ["FG3A_RATE", "FGA_PER36", "AST_PER36", "OREB_PER36"]


def feature_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The FEATURES columns of a cleaned table, float64, NaN filled with 0 (see above).

    The index is kept, so rows line up with ``table``.
    """
    missing = [column for column in FEATURES if column not in table.columns]
    if missing:
        raise KeyError(f"cleaned table lacks feature columns {missing}")
    return table[FEATURES].astype("float64").fillna(0.0)
