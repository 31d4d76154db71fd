"""The report on seasons a model assigns that the champion had not seen (its meaning, and the
contract the app and the CLI read: :mod:`common.season_report`).

Cheap next to a training: one distance per player and archetype, no refit.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from common.league import MINUTES, season_shares
from common.season_report import (
    MISFIT_PERCENTILE,
    SEASONS_BEFORE,
    Misfit,
    SeasonReport,
    ShareShift,
)
from workers.train.assignments import squared_distances


def new_season_reports(
    players: pd.DataFrame,
    X: np.ndarray,
    labels: np.ndarray,
    centroids: np.ndarray,
    names: dict[int, str],
    *,
    seen: Collection[str],
) -> list[SeasonReport]:
    """A report for each season of ``players`` not in ``seen`` (none if every season was seen,
    or none was: a first training has nothing to compare with)."""
    seasons = players["SEASON"].astype(str).to_numpy()
    new = sorted(set(seasons) - set(seen))
    reference = np.isin(seasons, list(seen))
    if not new or not reference.any():
        return []
    distance = np.sqrt(squared_distances(X, centroids).min(axis=1))
    threshold = float(np.percentile(distance[reference], MISFIT_PERCENTILE))
    misfit = distance > threshold
    seen_shares = {s: float(misfit[seasons == s].mean()) for s in sorted(set(seasons[reference]))}
    shares = _minutes_shares(players, labels, names)
    ordered = sorted(set(seasons))
    reports = []
    for season in new:
        rows = np.flatnonzero(seasons == season)
        before = [s for s in ordered if s < season][-SEASONS_BEFORE:]
        reports.append(
            SeasonReport(
                season=season,
                players=len(rows),
                misfit_share=float(misfit[rows].mean()),
                threshold=threshold,
                seen_misfit_shares=seen_shares,
                compared_with=before,
                shares=_shifts(shares, season, before),
                misfits=_misfits(players, rows[misfit[rows]], distance, labels, names),
            )
        )
    return reports


def _minutes_shares(
    players: pd.DataFrame, labels: np.ndarray, names: dict[int, str]
) -> pd.DataFrame:
    """Each archetype's share of each season's minutes (a row per season), as the League page
    counts them (``common.league``): regular-season minutes, playoffs apart."""
    classified = pd.DataFrame(
        {
            "SEASON": players["SEASON"].astype(str).to_numpy(),
            "ARCHETYPE_NAME": [names[int(label)] for label in labels],
            MINUTES: players["MIN"].fillna(0).to_numpy(float),  # season totals (cleaning)
        }
    )
    return season_shares(classified, sorted(set(names.values())))


def _shifts(shares: pd.DataFrame, season: str, before: list[str]) -> list[ShareShift]:
    now = shares.loc[season]
    past = shares.loc[before].mean() if before else None
    shifts = [
        ShareShift(name, float(now[name]), None if past is None else float(past[name]))
        for name in shares.columns
    ]
    return sorted(shifts, key=lambda s: -abs(s.change or 0.0))


def _misfits(
    players: pd.DataFrame,
    rows: np.ndarray,
    distance: np.ndarray,
    labels: np.ndarray,
    names: dict[int, str],
) -> list[Misfit]:
    misfits = [
        Misfit(
            player_id=int(players["PLAYER_ID"].iat[i]),
            player=str(players["PLAYER_NAME"].iat[i]),
            team=str(players["TEAM_ABBREVIATION"].iat[i]),
            nearest=names[int(labels[i])],
            distance=float(distance[i]),
        )
        for i in rows
    ]
    return sorted(misfits, key=lambda m: -m.distance)
