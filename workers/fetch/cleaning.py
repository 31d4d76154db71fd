"""Turn a season's raw dashboards into one modelling table: a row per player, rates per 36.

Steps, all vectorized (NumPy arrays underneath, one DataFrame built at the end, because
per-column pandas operations cost more than the arithmetic on ~500 rows):
1. Each segment back to season totals, whatever PerMode the site used (MIN is minutes per game
   in PerGame, but season minutes in Per36). Totals (what a live fetch asks for) are exact;
   PerGame and Per36 counts are averages rounded to 0.1, so their totals are approximate.
2. Playoffs folded into the regular season, joined on PLAYER_ID (names change spelling between
   pulls): a playoff game counts ``playoff_weight`` regular-season games.
3. Per-36 rates and shot mix from the weighted totals.
4. Shooting percentages and true shooting that never rest on rounded made-shot averages:
   made / attempted for Totals, the site's own FG_PCT, FG3_PCT, FT_PCT for PerGame and Per36
   (see ``segment_totals``), made shots = percentage x attempts per segment.
   These fold both segments (blended, like the rates). Each segment's own FG%, 3P%, FT% are
   kept too, exactly as the site gives them, with that segment's TS% (``REGULAR_*``,
   ``PLAYOFF_*``; ``common/segments.py``): what a fan compares with the site.
5. An eligibility flag from regular-season games and minutes: per-36 rates of a player who
   barely played are noise, so only eligible players are clustered and ranked.
6. Ranks of every rate among the season's eligible players (1 = highest).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from common.box_score import fold_playoffs, is_eligible, per36, ratio, shot_mix
from common.segments import PLAYOFF_SHOOTING, REGULAR_SHOOTING
from workers.fetch.response import COUNT_COLUMNS, PCT_COLUMNS, DashboardTable

log = logging.getLogger(__name__)

RATE_COLUMNS = [f"{stat}_PER36" for stat in COUNT_COLUMNS]
SHOOTING_COLUMNS = ["FG_PCT", "FG3_PCT", "FT_PCT", "TS_PCT", "FG3A_RATE", "FTA_RATE"]
RANKED_COLUMNS = [*RATE_COLUMNS, "TS_PCT"]
_STAT = {stat: i for i, stat in enumerate(COUNT_COLUMNS)}
# Made and attempted counts behind each percentage column, in PCT_COLUMNS order.
_MADE = [_STAT["FGM"], _STAT["FG3M"], _STAT["FTM"]]
_ATTEMPTED = [_STAT["FGA"], _STAT["FG3A"], _STAT["FTA"]]


@dataclass(frozen=True)
class SegmentTotals:
    """Season totals of one segment: games, minutes, counting stats (COUNT_COLUMNS order),
    and its shooting percentages (PCT_COLUMNS order, NaN when undefined): ``pct`` as exact as
    the data allows (computed with), ``site_pct`` as the site wrote them (shown)."""

    player_ids: np.ndarray
    games: np.ndarray
    minutes: np.ndarray
    counts: np.ndarray  # shape (players, len(COUNT_COLUMNS))
    pct: np.ndarray  # shape (players, len(PCT_COLUMNS))
    site_pct: np.ndarray  # same shape; differs from pct only for Totals (rounded to 0.001)

    @property
    def attempts(self) -> np.ndarray:
        return self.counts[:, _ATTEMPTED]

    @property
    def made(self) -> np.ndarray:
        """Shots made, as percentage x attempts: exact for Totals, and for PerGame/Per36 only
        the attempts carry rounding (0 where undefined)."""
        return np.nan_to_num(self.pct * self.attempts)


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
    counts = stats * scale[:, np.newaxis]
    site = site_percentages(table, counts)
    # Totals: made / attempted is exact (the site's columns are rounded to 0.001). PerGame and
    # Per36: counts rebuilt from averages rounded to 0.1 are up to 0.05 a game off (a
    # 0.1-FTA-a-game shooter can show 0.0 made), so the site's own column, computed from its
    # exact counts, is the exact one.
    exact = ratio(counts[:, _MADE], counts[:, _ATTEMPTED]) if table.per_mode == "Totals" else site
    return SegmentTotals(players["PLAYER_ID"].to_numpy(), games, minutes, counts, exact, site)


def site_percentages(table: DashboardTable, counts: np.ndarray) -> np.ndarray:
    """FG%, 3P%, FT% of one segment as the site gives them, whatever its PerMode.

    The site writes 0 (or null) for 0-for-0; where the attempts are 0 too, 0-for-0 cannot be
    told from 0-for-a-few (PerGame averages round to 0.0), so it is undefined (NaN) like a
    real 0-for-0. A segment without the column, and a null despite attempts, fall back to the
    counts (with a warning): a value off by the rounding beats a NaN that would count the
    player's shots as all missed in TS%.
    """
    made, attempted = counts[:, _MADE], counts[:, _ATTEMPTED]
    exact = ratio(made, attempted)
    pct = exact.copy()
    for i, column in enumerate(PCT_COLUMNS):
        if column not in table.players:
            log.warning(
                "%s %s has no %s: computed from %s",
                table.season, table.season_type, column, _counts_kind(table.per_mode),
            )  # fmt: skip
            continue
        site = table.players[column].to_numpy(dtype="float64")
        unreported = np.isnan(site) & (attempted[:, i] > 0)
        if unreported.any():
            log.warning(
                "%s %s: null %s despite attempts for %d player(s): computed from %s",
                table.season, table.season_type, column, int(unreported.sum()),
                _counts_kind(table.per_mode),
            )  # fmt: skip
        site = np.where(unreported, exact[:, i], site)
        pct[:, i] = np.where((site == 0) & (attempted[:, i] == 0), np.nan, site)
    return pct


def clean_season(
    regular: DashboardTable,
    playoffs: DashboardTable | None,
    *,
    playoff_weight: float,
    min_games: int,
    min_minutes: float,
) -> pd.DataFrame:
    reg = segment_totals(regular)
    po = aligned_playoffs(reg, playoffs)
    minutes = fold_playoffs(reg.minutes, po.minutes, playoff_weight)
    counts = fold_playoffs(reg.counts, po.counts, playoff_weight)
    rates = pd.DataFrame(
        np.hstack(
            [
                per36(counts, minutes),
                combined_percentages(reg, po, playoff_weight),
                shot_profile(counts, fold_playoffs(reg.made, po.made, playoff_weight)),
            ]
        ),
        columns=[*RATE_COLUMNS, *SHOOTING_COLUMNS],
    )
    eligible = is_eligible(reg.games, reg.minutes, min_games=min_games, min_minutes=min_minutes)
    # Each segment's own percentages, as the site gives them: what the app and the CLI show.
    segments = pd.DataFrame(
        np.hstack([segment_shooting(reg), segment_shooting(po)]),
        columns=[*REGULAR_SHOOTING, *PLAYOFF_SHOOTING],
    )
    table = pd.concat(
        [
            _identity(regular, reg, po),
            segments,
            rates,
            pd.Series(eligible, name="ELIGIBLE"),
            eligible_ranks(rates, eligible),
        ],
        axis=1,
    )
    return table.sort_values("PLAYER_ID", ignore_index=True)


def aligned_playoffs(reg: SegmentTotals, playoffs: DashboardTable | None) -> SegmentTotals:
    """Playoff totals row-aligned with the regular season: zeros (NaN %) for absent players.

    Joined by id; the table is the regular season's, so a playoff-only row (never seen in
    practice) is dropped."""
    rows = len(reg.player_ids)
    games, minutes = np.zeros(rows), np.zeros(rows)
    counts, pct = np.zeros_like(reg.counts), np.full_like(reg.pct, np.nan)
    site_pct = pct.copy()
    if playoffs is not None and not playoffs.is_empty:
        po = segment_totals(playoffs)
        position = pd.Index(po.player_ids).get_indexer(reg.player_ids)
        found = position >= 0
        games[found] = po.games[position[found]]
        minutes[found] = po.minutes[position[found]]
        counts[found] = po.counts[position[found]]
        pct[found] = po.pct[position[found]]
        site_pct[found] = po.site_pct[position[found]]
    return SegmentTotals(reg.player_ids, games, minutes, counts, pct, site_pct)


def combined_percentages(reg: SegmentTotals, po: SegmentTotals, weight: float) -> np.ndarray:
    """Percentages over both segments, playoff attempts weighted like every other count.

    Made shots per segment are its percentage times its attempts (exact counts for Totals),
    so a percentage never goes through rounded made-shot averages. Without playoff attempts
    the regular-season value is kept as is: the site's own number for PerGame data."""
    po_attempts = weight * po.attempts
    folded = ratio(fold_playoffs(reg.made, po.made, weight), reg.attempts + po_attempts)
    return np.where(po_attempts > 0, folded, reg.pct)


def segment_shooting(segment: SegmentTotals) -> np.ndarray:
    """(players, 4): FG%, 3P%, FT% as the site gives them and TS% of one segment alone (all
    NaN for a player without games in it)."""
    true_shooting = shot_profile(segment.counts, segment.made)[:, 0]
    return np.column_stack([segment.site_pct, true_shooting])


def shot_profile(counts: np.ndarray, made: np.ndarray) -> np.ndarray:
    """True shooting, 3PA share of field-goal attempts and free throws per attempt.

    TS% takes its points from made shots (2 a field goal, 1 more a three, 1 a free throw),
    not PTS: for PerGame data that leaves only the attempt mix carrying the 0.1 rounding.
    Exact for Totals data; for PerGame the residual is measured in README (Cleaning)."""

    def total(stat: str) -> np.ndarray:
        return counts[:, _STAT[stat]]

    points = 2 * made[:, 0] + made[:, 1] + made[:, 2]
    true_shooting = ratio(points, 2 * (total("FGA") + 0.44 * total("FTA")))
    return np.column_stack([true_shooting, shot_mix(total("FGA"), total("FG3A"), total("FTA"))])


def eligible_ranks(rates: pd.DataFrame, eligible: np.ndarray) -> pd.DataFrame:
    """Rank of each RANKED_COLUMNS rate among eligible players (1 = highest, NaN = not eligible).

    Ranks stay float64: one 2-D block instead of 18 masked columns."""
    ranked = rates[RANKED_COLUMNS]
    mask = np.broadcast_to(eligible[:, np.newaxis], ranked.shape)
    return ranked.where(mask).rank(ascending=False, method="min").add_suffix("_RANK")


def _identity(regular: DashboardTable, reg: SegmentTotals, po: SegmentTotals) -> pd.DataFrame:
    info = regular.players

    def optional(column: str) -> pd.api.extensions.ExtensionArray:
        missing = pd.array([pd.NA] * len(info), dtype="Int64")
        return info[column].array if column in info else missing

    return pd.DataFrame(
        {
            "PLAYER_ID": reg.player_ids,
            "SEASON": regular.season.label,
            "PLAYER_NAME": info["PLAYER_NAME"].array,
            "TEAM_ABBREVIATION": info["TEAM_ABBREVIATION"].array,
            "TEAM_ID": optional("TEAM_ID"),
            "TEAM_COUNT": optional("TEAM_COUNT"),
            "AGE": info["AGE"].to_numpy(),
            "GP": reg.games.astype("int64"),
            "MIN": reg.minutes,
            "MIN_PER_GAME": ratio(reg.minutes, reg.games),
            "PLAYOFF_GP": po.games.astype("int64"),
            "PLAYOFF_MIN": po.minutes,
        }
    )


def _counts_kind(per_mode: str) -> str:
    return "Totals counts" if per_mode == "Totals" else f"rounded {per_mode} averages"
