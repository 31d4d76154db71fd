"""Turn a season's raw dashboards into one modelling table: a row per player, rates per 36.

Steps, all vectorized (NumPy arrays underneath, one DataFrame built at the end, because
per-column pandas operations cost more than the arithmetic on ~500 rows):
1. Each segment back to season totals, whatever PerMode the site used (MIN is minutes per game
   in PerGame, but season minutes in Per36).
2. Playoffs folded into the regular season, joined on PLAYER_ID (names change spelling between
   pulls): a playoff game counts ``playoff_weight`` regular-season games.
3. Per-36 rates, shooting percentages and shot mix from the weighted totals.
4. An eligibility flag from regular-season games and minutes: per-36 rates of a player who
   barely played are noise, so only eligible players are clustered and ranked.
5. Ranks of every rate among the season's eligible players (1 = highest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workers.fetch.response import COUNT_COLUMNS, DashboardTable

RATE_COLUMNS = [f"{stat}_PER36" for stat in COUNT_COLUMNS]
SHOOTING_COLUMNS = ["FG_PCT", "FG3_PCT", "FT_PCT", "TS_PCT", "FG3A_RATE", "FTA_RATE"]
RANKED_COLUMNS = [*RATE_COLUMNS, "TS_PCT"]
_STAT = {stat: i for i, stat in enumerate(COUNT_COLUMNS)}


@dataclass(frozen=True)
class SegmentTotals:
    """Season totals of one segment: games, minutes, counting stats (COUNT_COLUMNS order)."""

    player_ids: np.ndarray
    games: np.ndarray
    minutes: np.ndarray
    counts: np.ndarray  # shape (players, len(COUNT_COLUMNS))


def segment_totals(table: DashboardTable) -> SegmentTotals:
    players = table.players
    games = players["GP"].to_numpy(dtype="float64")
    reported_min = players["MIN"].to_numpy(dtype="float64")
    stats = players[COUNT_COLUMNS].to_numpy(dtype="float64")
    if table.per_mode == "PerGame":
        minutes, scale = reported_min * games, games
    elif table.per_mode == "Per36":
        minutes = reported_min  # already season minutes in this mode
        scale = minutes / 36.0
    else:  # Totals
        minutes, scale = reported_min, np.ones_like(games)
    return SegmentTotals(
        players["PLAYER_ID"].to_numpy(), games, minutes, stats * scale[:, np.newaxis]
    )


def clean_season(
    regular: DashboardTable,
    playoffs: DashboardTable | None,
    *,
    playoff_weight: float,
    min_games: int,
    min_minutes: float,
) -> pd.DataFrame:
    reg = segment_totals(regular)
    po_games = np.zeros_like(reg.games)
    po_minutes = np.zeros_like(reg.minutes)
    po_counts = np.zeros_like(reg.counts)
    if playoffs is not None and not playoffs.is_empty:
        po = segment_totals(playoffs)
        # Align playoff rows to regular-season rows by id; the table is the regular season's,
        # so a playoff-only row (never seen in practice) is dropped.
        position = pd.Index(po.player_ids).get_indexer(reg.player_ids)
        found = position >= 0
        po_games[found] = po.games[position[found]]
        po_minutes[found] = po.minutes[position[found]]
        po_counts[found] = po.counts[position[found]]

    minutes = reg.minutes + playoff_weight * po_minutes
    counts = reg.counts + playoff_weight * po_counts
    per36 = counts * _ratio(36.0, minutes)[:, np.newaxis]

    def total(stat: str) -> np.ndarray:
        return counts[:, _STAT[stat]]

    info = regular.players
    identity = pd.DataFrame(
        {
            "PLAYER_ID": reg.player_ids,
            "SEASON": regular.season.label,
            "PLAYER_NAME": info["PLAYER_NAME"].array,
            "TEAM_ABBREVIATION": info["TEAM_ABBREVIATION"].array,
            "TEAM_COUNT": info["TEAM_COUNT"].array
            if "TEAM_COUNT" in info
            else pd.array([pd.NA] * len(info), dtype="Int64"),
            "AGE": info["AGE"].to_numpy(),
            "GP": reg.games.astype("int64"),
            "MIN": reg.minutes,
            "MIN_PER_GAME": _ratio(reg.minutes, reg.games),
            "PLAYOFF_GP": po_games.astype("int64"),
            "PLAYOFF_MIN": po_minutes,
        }
    )
    shooting = np.column_stack(
        [
            _ratio(total("FGM"), total("FGA")),
            _ratio(total("FG3M"), total("FG3A")),
            _ratio(total("FTM"), total("FTA")),
            _ratio(total("PTS"), 2 * (total("FGA") + 0.44 * total("FTA"))),
            # Shot mix: share of field-goal attempts from three; free throws per attempt.
            _ratio(total("FG3A"), total("FGA")),
            _ratio(total("FTA"), total("FGA")),
        ]
    )
    eligible = (reg.games >= min_games) & (reg.minutes >= min_minutes)
    rates = pd.DataFrame(np.hstack([per36, shooting]), columns=[*RATE_COLUMNS, *SHOOTING_COLUMNS])
    # Ranks stay float64 (NaN = not eligible): one 2-D block instead of 18 masked columns.
    ranked = rates[RANKED_COLUMNS]
    ranks = ranked.where(np.broadcast_to(eligible[:, np.newaxis], ranked.shape)).rank(
        ascending=False, method="min"
    )
    table = pd.concat(
        [identity, rates, pd.Series(eligible, name="ELIGIBLE"), ranks.add_suffix("_RANK")], axis=1
    )
    return table.sort_values("PLAYER_ID", ignore_index=True)


def _ratio(numerator: np.ndarray | float, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is zero (an undefined rate)."""
    safe = np.where(denominator > 0, denominator, np.nan)
    return np.asarray(numerator) / safe
