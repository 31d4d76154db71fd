"""The style space: the features of ``common/style.py``, adjusted for era.

**Features.** Ten per-36 rates and ratios of the base box score, one or two per axis a scout
uses: shot volume (FGA/36), shot mix (3-point share of shots, free throws per shot),
playmaking (AST/36, TOV/36), rebounding (OREB/36, DREB/36), defence (STL/36, BLK/36) and fouls
(PF/36). Points, shooting percentages, minutes and team results are shown beside every player
but are not inputs: they say how well or how much he played, not how.

**Era adjustment: normal scores of ranks within the season.** Each feature is ranked among
the season's eligible players and the rank turned into a standard normal score
(``Φ⁻¹((rank - ½) / n)``). The league changed under the players: the average 3-point share
of shots went from 0.21 (1996-97, eligible players) to 0.40 (2022-23) and the pace, hence
every per-36 count, rose. Ranked within the season, a 1997 player who shot more threes than
90 % of his league sits where a 2019 player who did the same sits. Measured on the 27 bundled
seasons (9,007 player-seasons) with the curated comparison set (tests/data/comparisons.csv;
both directions of each pair: rank of the other player among all players of his season) and
k-means k = 6-12 (``benchmarks/style_spaces.py`` prints this table):

======================================  ==========  ===========  ==========================
space                                   top-10 hit  median rank  stable k (J ≥ .75, ARI ≥ .95)
======================================  ==========  ===========  ==========================
z-scores over all seasons (no era)      0.50        10           7, 9
z-scores within each season             0.50        10           none
normal scores of ranks within season    0.53        8            6, 9
same, decorrelated (PCA whitening)      0.42        17           none
same, correlated blocks down-weighted   0.50        10           6, 7, 9
the 4 features of the first version     0.42        18           6, 7
======================================  ==========  ===========  ==========================

(36 directed comparisons: one pair more or less moves the hit rate by 0.03, so the first,
second, third and fifth rows are close; the 4-feature and whitened spaces are clearly worse.)
Ranks within the season are chosen because they are era-fair by construction, stable at a
fine k (9), and at least as good as any other on the comparisons. Without era adjustment the
archetypes would drift with the league (a 1997 forward taking the league's usual share of
threes would sit with today's non-shooters); within-season z-scores do the adjustment but no
k held up under resampling, because the long tails (a Mutombo's blocks, a Rodman's boards: 5-6
sigma) drag centroids, where a rank makes them "the league's most". Correlated blocks (OREB,
DREB, BLK and PF move together for big men; AST and TOV for ball handlers) stay equally
weighted: whitening them amplified the noisiest directions, and down-weighting them was as
stable but no better on the comparisons; the correlation is real style (a big man is all of
those at once), not double counting.

A season's coordinates depend only on that season's players, so a new season is placed in the
space without refitting anything, and an old season's coordinates never move.

**Shooting skill** (:func:`shooting_skills`), for "who played like him" only, never for the
archetypes: 3P% and FT%, each shrunk toward the season's league rate by attempts (empirical
Bayes, ``(made + m·league) / (attempts + m)``, m = 100 threes and 50 free throws: a player's
own percentage counts as much as the league's once he has taken m), then era-adjusted like
every feature. Measured (``benchmarks/style_spaces.py``, docs/model.md): in the space of
comparisons it raises the curated top-10 hit rate from 0.53 to 0.58 and makes Steve Nash and
Stephen Curry each other's match; as an input of the archetypes it would cost them (only 6-7
stable, rim protectors and floor generals merged into neighbours).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtri

from common.style import FEATURES, SHOOTING_SKILLS

# Version of the era adjustment, tagged on every run: models compare only within one version.
STYLE_SPACE = "season-rank-normal-v1"
# Shooting skill: percentage -> (attempts per 36 it is of, prior attempts of league shooting).
SKILL_PRIORS: dict[str, tuple[str, float]] = {
    "FG3_PCT": ("FG3A_PER36", 100.0),
    "FT_PCT": ("FTA_PER36", 50.0),
}


def feature_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The FEATURES columns of a cleaned table, float64, NaN filled with 0.

    A rate is NaN only when its denominator is zero (no field-goal attempt for a shot-mix
    ratio, no minutes for a per-36 rate): such a player has none of those events. Eligible
    players never hit this; the rule only keeps odd rows from breaking a fit."""
    missing = [column for column in FEATURES if column not in table.columns]
    if missing:
        raise KeyError(f"cleaned table lacks feature columns {missing}")
    return table[FEATURES].astype("float64").fillna(0.0)


class UnknownSeasonError(ValueError):
    """A row's season is not in the reference its coordinates are measured against."""


def reference_table(players: pd.DataFrame) -> pd.DataFrame:
    """``SEASON`` and the FEATURES values of ``players``: what the scores of other rows can be
    measured against (the served model keeps its training rows' table, see ``style_space``)."""
    return pd.concat(
        [players["SEASON"].astype(str).reset_index(drop=True), feature_frame(players)], axis=1
    )


def style_space(table: pd.DataFrame, reference: pd.DataFrame | None = None) -> np.ndarray:
    """(rows, FEATURES) coordinates: each feature's normal score within its ``SEASON``.

    The rank of a value among its season's values in ``reference`` (the table itself by
    default), ties sharing their average rank: ``less + (equal + 1) / 2`` where ``less`` and
    ``equal`` count the season's values below and equal to it. A row of the reference gets
    exactly the coordinates it got there, so the served model reproduces the training's; a
    value the reference does not hold gets a half rank between its neighbours' (its normal
    score lies between theirs), and one beyond the season's extremes is placed as its new
    extreme (``n + 1`` values) rather than at infinity. A season of one player gets 0
    everywhere; a season ``reference`` lacks raises :class:`UnknownSeasonError`.
    """
    features = feature_frame(table).to_numpy()
    seasons = table["SEASON"].astype(str).to_numpy()
    if reference is None:
        known, values = seasons, features
    else:
        known = reference["SEASON"].astype(str).to_numpy()
        values = feature_frame(reference).to_numpy()
    unknown = sorted(set(seasons) - set(known))
    if unknown:
        raise UnknownSeasonError(
            f"no reference players for season(s) {', '.join(unknown)}; "
            f"known: {_span(sorted(set(known)))}"
        )
    return _by_season(features, seasons, values, known)


def shooting_skills(
    players: pd.DataFrame,
    playoff_weight: float,
    priors: Mapping[str, tuple[str, float]] = SKILL_PRIORS,
) -> np.ndarray:
    """(rows, SHOOTING_SKILLS) era-adjusted shooting skill of each player-season (see the
    module docstring), from the cleaned table's blended percentages and per-36 attempts.

    Attempts are per 36 times the minutes they are over (a playoff minute counts
    ``playoff_weight``, as cleaning folds them); the league rate is that of ``players``' own
    season. A player without an attempt gets the league's rate. ``priors``: other prior
    attempts, for the measurements (``benchmarks/style_spaces.py``)."""
    seasons = players["SEASON"].astype(str).to_numpy()
    minutes = players["MIN"].fillna(0.0)
    if "PLAYOFF_MIN" in players:  # tables cleaned before playoffs were folded in lack it
        minutes = minutes + playoff_weight * players["PLAYOFF_MIN"].fillna(0.0)
    shrunk = []
    for percentage in SHOOTING_SKILLS:
        per36, prior = priors[percentage]
        attempts = (players[per36].fillna(0.0) * minutes / 36.0).to_numpy("float64")
        made = players[percentage].fillna(0.0).to_numpy("float64") * attempts
        league = pd.Series(made).groupby(seasons).transform("sum").to_numpy() / np.maximum(
            pd.Series(attempts).groupby(seasons).transform("sum").to_numpy(), 1e-12
        )
        shrunk.append((made + prior * league) / (attempts + prior))
    values = np.column_stack(shrunk)
    return _by_season(values, seasons, values, seasons)


def _by_season(
    values: np.ndarray, seasons: np.ndarray, reference: np.ndarray, known: np.ndarray
) -> np.ndarray:
    """Each row's normal scores against the ``reference`` rows of its season."""
    scores = np.empty_like(values)
    for season in np.unique(seasons):
        rows = seasons == season
        scores[rows] = _season_scores(values[rows], np.sort(reference[known == season], axis=0))
    return scores


def _season_scores(features: np.ndarray, sorted_reference: np.ndarray) -> np.ndarray:
    n = len(sorted_reference)
    quantiles = np.empty_like(features)
    for j in range(features.shape[1]):
        column = sorted_reference[:, j]
        less = np.searchsorted(column, features[:, j], side="left")
        equal = np.searchsorted(column, features[:, j], side="right") - less
        # The same arithmetic as an average rank (exact: half-integers), then its quantile.
        rank = less + (equal + 1) / 2
        quantiles[:, j] = (rank - 0.5) / n
    # Only values outside the reference can reach 0 or 1 (a reference row never does).
    edge = 0.5 / (n + 1)
    return ndtri(np.clip(quantiles, edge, 1 - edge))


def _span(seasons: list[str]) -> str:
    if len(seasons) < 2:
        return seasons[0] if seasons else "none"
    return f"{len(seasons)} seasons, {seasons[0]} … {seasons[-1]}"
