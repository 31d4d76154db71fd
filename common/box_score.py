"""Box-score arithmetic: season totals to rates, playoffs folded in, who is eligible.

One home because two services compute it: the fetch worker's cleaning builds the cleaned tables
with it (``workers/fetch/cleaning.py``), and the served model turns box-score rows sent to it
into the same style features (``workers/train/serving.py``), so a player-season sent to the
model gets exactly the values the app's tables hold. NumPy only: arrays in, arrays out.
"""

from __future__ import annotations

import numpy as np


def ratio(numerator: np.ndarray | float, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is zero (an undefined rate)."""
    safe = np.where(denominator > 0, denominator, np.nan)
    return np.asarray(numerator) / safe


def fold_playoffs(regular: np.ndarray, playoffs: np.ndarray, weight: float) -> np.ndarray:
    """Season totals with the playoffs folded in: a playoff game counts ``weight`` games."""
    return regular + weight * playoffs


def per36(counts: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Rates per 36 minutes of a (players, stats) block of totals (NaN without minutes)."""
    return counts * ratio(36.0, minutes)[:, np.newaxis]


def shot_mix(fga: np.ndarray, fg3a: np.ndarray, fta: np.ndarray) -> np.ndarray:
    """(players, 2): the 3-point share of field-goal attempts (FG3A_RATE) and free throws per
    field-goal attempt (FTA_RATE), NaN without a field-goal attempt."""
    return np.column_stack([ratio(fg3a, fga), ratio(fta, fga)])


def eligibility_rule(min_games: int, min_minutes: float) -> str:
    """The rule :func:`is_eligible` applies, as the app and the CLI say it: "20+ games,
    500+ minutes"."""
    return f"{min_games}+ games, {min_minutes:g}+ minutes"


def is_eligible(
    games: np.ndarray, minutes: np.ndarray, *, min_games: int, min_minutes: float
) -> np.ndarray:
    """Played enough in the regular season to be clustered and ranked: rates of a player who
    barely played are noise."""
    return (games >= min_games) & (minutes >= min_minutes)
