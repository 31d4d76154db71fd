"""Validate a league dashboard response and turn its result set into a DataFrame.

The site's column set changes by era (see replay/recordings/PROVENANCE.md), so columns are
selected by name and only the ones cleaning needs are required. Every failure names the
season, the segment and what exactly is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from common.seasons import Season, SeasonType

RESULT_SET = "LeagueDashPlayerStats"
ID_COLUMNS = ["PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION"]
COUNT_COLUMNS = [
    "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
    "AST", "TOV", "STL", "BLK", "BLKA", "PF", "PFD", "PTS",
]  # fmt: skip
NUMERIC_COLUMNS = ["AGE", "GP", "MIN", *COUNT_COLUMNS]
REQUIRED_COLUMNS = [*ID_COLUMNS, *NUMERIC_COLUMNS]
# The site's own shooting percentages, computed from its exact made/attempted counts (null or
# 0 without attempts). Cleaning needs them for PerGame and Per36 segments, whose counts are
# averages rounded to 0.1; every recorded era has them, but nothing else requires them.
PCT_COLUMNS = ["FG_PCT", "FG3_PCT", "FT_PCT"]
OPTIONAL_COLUMNS = ["TEAM_COUNT", *PCT_COLUMNS]  # TEAM_COUNT: newer pulls, teams of a traded player
PER_MODES = ("PerGame", "Per36", "Totals")


class InvalidResponseError(ValueError):
    """The stats site answered, but not with a usable league dashboard."""


@dataclass(frozen=True)
class DashboardTable:
    """One segment (regular season or playoffs) of one season, as the site reported it."""

    season: Season
    season_type: SeasonType
    per_mode: str
    players: pd.DataFrame  # REQUIRED_COLUMNS (+ OPTIONAL_COLUMNS present), one row per player

    @property
    def is_empty(self) -> bool:
        return self.players.empty


def parse_dashboard(
    body: bytes | str, season: Season, season_type: SeasonType, requested_per_mode: str
) -> DashboardTable:
    where = f"{season} {season_type} response"
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise InvalidResponseError(f"{where} is not valid JSON: {error}") from error
    if not isinstance(payload, dict):
        raise InvalidResponseError(f"{where} is a JSON {type(payload).__name__}, not an object.")
    result_set = _find_result_set(payload, where)

    headers, rows = result_set.get("headers"), result_set.get("rowSet")
    if not isinstance(headers, list) or not isinstance(rows, list):
        raise InvalidResponseError(f"{where}: result set {RESULT_SET} lacks headers or rowSet.")
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        raise InvalidResponseError(f"{where}: missing columns {', '.join(missing)}.")
    ragged = [
        i for i, row in enumerate(rows) if not isinstance(row, list) or len(row) != len(headers)
    ]
    if ragged:
        raise InvalidResponseError(
            f"{where}: {len(ragged)} rows do not match the {len(headers)} headers "
            f"(first at row {ragged[0]})."
        )

    per_mode = _echoed_per_mode(payload, requested_per_mode, where)
    keep = REQUIRED_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in headers]
    frame = pd.DataFrame(rows, columns=headers)[keep]
    return DashboardTable(season, season_type, per_mode, _typed(frame, where))


def _find_result_set(payload: dict[str, Any], where: str) -> dict[str, Any]:
    result_sets = payload.get("resultSets")
    if isinstance(result_sets, dict):  # some endpoints send a single object
        result_sets = [result_sets]
    if not isinstance(result_sets, list):
        keys = ", ".join(sorted(payload)) or "none"
        raise InvalidResponseError(f"{where} has no resultSets (top-level keys: {keys}).")
    for result_set in result_sets:
        if isinstance(result_set, dict) and result_set.get("name") == RESULT_SET:
            return result_set
    raise InvalidResponseError(f"{where} has no {RESULT_SET} result set.")


def _echoed_per_mode(payload: dict[str, Any], requested: str, where: str) -> str:
    # The echoed parameters say how the numbers are expressed (MIN means minutes per game
    # in PerGame but season minutes in Per36); trust them over what we asked for.
    parameters = payload.get("parameters")
    echoed = parameters.get("PerMode") if isinstance(parameters, dict) else None
    per_mode = echoed or requested
    if per_mode not in PER_MODES:
        raise InvalidResponseError(f"{where}: unsupported PerMode {per_mode!r}.")
    return per_mode


def _typed(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    raw = frame[NUMERIC_COLUMNS]
    numeric = raw.apply(pd.to_numeric, errors="coerce")
    non_numeric = raw.columns[(numeric.isna() & raw.notna()).any()].tolist()
    if non_numeric:
        raise InvalidResponseError(f"{where}: non-numeric values in {', '.join(non_numeric)}.")
    missing = raw.columns[raw.isna().any()].tolist()
    if missing:
        raise InvalidResponseError(f"{where}: missing values in {', '.join(missing)}.")
    ids = pd.to_numeric(frame["PLAYER_ID"], errors="coerce")
    if ids.isna().any():
        raise InvalidResponseError(f"{where}: PLAYER_ID must be an integer in every row.")
    if ids.duplicated().any():
        raise InvalidResponseError(
            f"{where}: duplicate PLAYER_ID {int(ids[ids.duplicated()].iloc[0])}."
        )
    if (numeric[["GP", "MIN"]] < 0).any().any():
        raise InvalidResponseError(f"{where}: negative games or minutes.")

    typed = frame.copy()
    typed[NUMERIC_COLUMNS] = numeric.astype("float64")
    typed["GP"] = numeric["GP"].astype("int64")
    typed["PLAYER_ID"] = ids.astype("int64")
    for column in ("PLAYER_NAME", "TEAM_ABBREVIATION"):
        typed[column] = frame[column].astype("string")
    if "TEAM_COUNT" in typed:
        typed["TEAM_COUNT"] = pd.to_numeric(typed["TEAM_COUNT"], errors="coerce").astype("Int64")
    return _typed_percentages(typed, where)


def _typed_percentages(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Percentage columns as float64 fractions; null stays NaN (no attempts)."""
    for column in (c for c in PCT_COLUMNS if c in frame):
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce").astype("float64")
        if (values.isna() & raw.notna()).any():
            raise InvalidResponseError(f"{where}: non-numeric values in {column}.")
        if ((values < 0) | (values > 1)).any():
            raise InvalidResponseError(f"{where}: {column} outside 0-1.")
        frame[column] = values
    return frame
