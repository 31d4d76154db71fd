"""Validate a league dashboard response and turn its result set into a DataFrame.

The site's column set changes by era (see replay/recordings/PROVENANCE.md), so columns are
selected by name and only the ones cleaning needs are required. Lenient where it is safe,
strict where a wrong value would reach the model:

- the stats cleaning computes with (STAT_COLUMNS) must be a finite, non-negative number in
  every row; a number sent as a string that spells it exactly ("12", "12.0") is accepted;
  no part above its whole (FGM above FGA, threes above field goals, OREB above REB: a
  percentage over 100 % would follow);
- descriptive columns (AGE, TEAM_ABBREVIATION, TEAM_ID, TEAM_COUNT) may be null: the row is kept,
  the value stays missing (NaN / <NA>) and the nulls are counted in a warning;
- a null shooting percentage is allowed (the site's way of writing 0-for-0; cleaning
  decides what a null with attempts means, see cleaning.site_percentages);
- an empty rowSet is "no games", whatever its headers say;
- every request parameter the site echoes (Season, SeasonType, PerMode, MeasureType) must
  match the request: a Regular Season body must never be stored as the playoffs.

Every failure is one line naming the season, the segment, the column or parameter and, for
bad values, how many rows and the first one.
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from common.seasons import Season, SeasonType

log = logging.getLogger(__name__)

RESULT_SET = "LeagueDashPlayerStats"
ID_COLUMNS = ["PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION"]
COUNT_COLUMNS = [
    "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "REB",
    "AST", "TOV", "STL", "BLK", "BLKA", "PF", "PFD", "PTS",
]  # fmt: skip
# What cleaning computes with: a number in every row, or the season is rejected.
STAT_COLUMNS = ["GP", "MIN", *COUNT_COLUMNS]
NUMERIC_COLUMNS = ["AGE", *STAT_COLUMNS]
REQUIRED_COLUMNS = [*ID_COLUMNS, *NUMERIC_COLUMNS]
# The site's own shooting percentages, computed from its exact made/attempted counts (null or
# 0 without attempts). Cleaning needs them for PerGame and Per36 segments, whose counts are
# averages rounded to 0.1; every recorded era has them, but nothing else requires them.
PCT_COLUMNS = ["FG_PCT", "FG3_PCT", "FT_PCT"]
# TEAM_COUNT: newer pulls, teams of a traded player. TEAM_ID: the franchise, whatever its
# abbreviation was that season (SEA and OKC are one id): every recorded era has it.
OPTIONAL_COLUMNS = ["TEAM_ID", "TEAM_COUNT", *PCT_COLUMNS]
# Shown to people, never computed with: a null is kept and counted, not a reason to reject.
DESCRIPTIVE_COLUMNS = ["AGE", "TEAM_ABBREVIATION", "TEAM_ID", "TEAM_COUNT"]
PER_MODES = ("PerGame", "Per36", "Totals")
MEASURE_TYPE = "Base"  # what the client asks for (nba_client), and what its echo must say
# (part, whole): never more made than attempted, never more of a kind than of all. Rounded
# averages (PerGame) keep the order, rounding being monotonic.
PARTS_OF_WHOLES = [
    ("FGM", "FGA"), ("FG3M", "FG3A"), ("FTM", "FTA"), ("FG3M", "FGM"), ("FG3A", "FGA"),
    ("OREB", "REB"), ("DREB", "REB"),
]  # fmt: skip
# Exactly a decimal number in ASCII: no "12abc", no "1,234", no full-width or Arabic digits
# (float() would take those), no "nan" or "inf".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_SHOWN_CHARS = 40  # quoted site text is cut to this, so an error stays one readable line


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
    """The validated table of a response to a request for ``season``, ``season_type`` and
    ``requested_per_mode`` (MeasureType Base). An empty ``requested_per_mode`` means the
    request is not known (a kept raw file without its record): the echoed PerMode is used."""
    where = f"{season} {season_type} response"
    payload = _load(body, where)
    result_set = _find_result_set(payload, where)
    per_mode = _checked_parameters(payload, season, season_type, requested_per_mode, where)
    headers, rows = result_set.get("headers"), result_set.get("rowSet")
    if not isinstance(rows, list):
        raise InvalidResponseError(f"{where}: result set {RESULT_SET} lacks a rowSet.")
    if not rows:
        # The site's answer for a segment without games; its headers vary (even none at all).
        return DashboardTable(season, season_type, per_mode, _typed(_no_players(), where))
    if not isinstance(headers, list):
        raise InvalidResponseError(f"{where}: result set {RESULT_SET} lacks headers.")
    players = _typed(_frame(headers, rows, where), where)
    return DashboardTable(season, season_type, per_mode, players)


def _load(body: bytes | str, where: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise InvalidResponseError(f"{where} is not valid JSON: {error}") from error
    if not isinstance(payload, dict):
        raise InvalidResponseError(f"{where} is a JSON {type(payload).__name__}, not an object.")
    return payload


def _find_result_set(payload: dict[str, Any], where: str) -> dict[str, Any]:
    result_sets = payload.get("resultSets")
    if isinstance(result_sets, dict):  # some endpoints send a single object
        result_sets = [result_sets]
    if not isinstance(result_sets, list):
        keys = _shown(", ".join(sorted(map(str, payload))) or "none", quote=False)
        raise InvalidResponseError(f"{where} has no resultSets (top-level keys: {keys}).")
    for result_set in result_sets:
        if isinstance(result_set, dict) and result_set.get("name") == RESULT_SET:
            return result_set
    raise InvalidResponseError(f"{where} has no {RESULT_SET} result set.")


def _checked_parameters(
    payload: dict[str, Any],
    season: Season,
    season_type: SeasonType,
    requested_per_mode: str,
    where: str,
) -> str:
    """The PerMode of the answer, after checking every echoed parameter against the request.

    A parameter that is not echoed (or echoed as null) is fine: what gets echoed varies by era
    and client. One that is echoed must be what was asked for, whatever the rows look like."""
    parameters = payload.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise InvalidResponseError(f"{where}: parameters is a JSON {type(parameters).__name__}.")
    echoed_mode = parameters.get("PerMode")
    per_mode = requested_per_mode or echoed_mode
    for mode in (per_mode, echoed_mode):
        if mode is not None and mode not in PER_MODES:
            raise InvalidResponseError(f"{where}: unsupported PerMode {_shown(mode)}.")
    if per_mode is None:
        raise InvalidResponseError(f"{where}: no PerMode, neither requested nor echoed.")
    requested = {
        "Season": season.label,
        "SeasonType": season_type.value,
        "PerMode": per_mode,
        "MeasureType": MEASURE_TYPE,
    }
    wrong = [
        f"{name} {_shown(parameters[name])}, not the requested {value!r}"
        for name, value in requested.items()
        if parameters.get(name) is not None and parameters[name] != value
    ]
    if wrong:
        raise InvalidResponseError(f"{where} is for {'; '.join(wrong)}.")
    return per_mode


def _frame(headers: list[Any], rows: list[Any], where: str) -> pd.DataFrame:
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        raise InvalidResponseError(f"{where}: missing columns {', '.join(missing)}.")
    keep = REQUIRED_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in headers]
    twice = [c for c in keep if headers.count(c) > 1]
    if twice:  # which of the two would be the real one?
        raise InvalidResponseError(f"{where}: columns {', '.join(twice)} appear twice.")
    ragged = [
        i for i, row in enumerate(rows) if not isinstance(row, list) or len(row) != len(headers)
    ]
    if ragged:
        raise InvalidResponseError(
            f"{where}: {len(ragged)} rows do not match the {len(headers)} headers "
            f"(first at row {ragged[0]})."
        )
    return pd.DataFrame(rows, columns=headers)[keep]


def _no_players() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in REQUIRED_COLUMNS})


def _typed(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The kept columns as float64 / int64 / string, every row checked (see module doc)."""
    typed = frame.copy()
    for column in STAT_COLUMNS:
        typed[column] = _stat(frame[column], column, where)
    _reject_parts_above_wholes(typed, where)
    typed["GP"] = _integral(typed["GP"], frame["GP"], "GP", where).astype("int64")
    typed["PLAYER_ID"] = _player_ids(frame["PLAYER_ID"], where)
    typed["PLAYER_NAME"] = _player_names(frame["PLAYER_NAME"], where)
    typed["TEAM_ABBREVIATION"] = frame["TEAM_ABBREVIATION"].astype("string")
    typed["AGE"] = _descriptive_number(frame["AGE"], "AGE", where)
    for column in (c for c in ("TEAM_ID", "TEAM_COUNT") if c in typed):
        number = _descriptive_number(frame[column], column, where)
        typed[column] = _integral(number, frame[column], column, where).astype("Int64")
    for column in (c for c in PCT_COLUMNS if c in typed):
        typed[column] = _percentage(frame[column], column, where)
    _warn_about_nulls(typed, where)
    return typed


def _stat(raw: pd.Series, column: str, where: str) -> pd.Series:
    values, null = _numbers(raw, column, where)
    _reject_rows(null, raw, f"missing values in {column}", where, show=False)
    _reject_rows(values < 0, raw, f"negative values in {column}", where)
    return values


def _reject_parts_above_wholes(typed: pd.DataFrame, where: str) -> None:
    for part, whole in PARTS_OF_WHOLES:
        over = typed[part] > typed[whole] + 1e-9  # Per36 values are floats
        if over.any():
            pairs = zip(typed[part], typed[whole], strict=True)
            shown = pd.Series([f"{p:g} of {w:g}" for p, w in pairs])
            _reject_rows(over, shown, f"{part} above {whole}", where, quote=False)


def _descriptive_number(raw: pd.Series, column: str, where: str) -> pd.Series:
    values, _ = _numbers(raw, column, where)  # null is allowed, counted by _warn_about_nulls
    return values


def _percentage(raw: pd.Series, column: str, where: str) -> pd.Series:
    """A fraction, or NaN where the site sent null (no attempts, or cleaning's to judge)."""
    values, _ = _numbers(raw, column, where)
    _reject_rows((values < 0) | (values > 1), raw, f"{column} outside 0-1", where)
    return values


def _numbers(raw: pd.Series, column: str, where: str) -> tuple[pd.Series, pd.Series]:
    """float64 values and the null mask; anything non-null that is not a number is rejected."""
    null = raw.isna()
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        values = raw.astype("float64")  # the usual case: the whole column came as JSON numbers
    else:
        values = raw.map(_number).astype("float64")
    bad = ~null & ~np.isfinite(values)
    _reject_rows(bad, raw, f"non-numeric values in {column}", where)
    return values, null


def _number(value: object) -> float:
    """A finite JSON number, or a string spelling one exactly ("12", "12.0"); else NaN."""
    if isinstance(value, bool | np.bool_):
        return math.nan
    try:
        if isinstance(value, numbers.Real):
            return float(value)
        if isinstance(value, str) and _NUMBER.fullmatch(value):
            return float(value)
    except OverflowError:  # an integer with hundreds of digits
        pass
    return math.nan


def _integral(values: pd.Series, raw: pd.Series, column: str, where: str) -> pd.Series:
    _reject_rows(values.notna() & (values % 1 != 0), raw, f"non-integer values in {column}", where)
    return values


def _player_ids(raw: pd.Series, where: str) -> pd.Series:
    values, null = _numbers(raw, "PLAYER_ID", where)
    _reject_rows(null, raw, "missing values in PLAYER_ID", where, show=False)
    ids = _integral(values, raw, "PLAYER_ID", where)
    _reject_rows(ids.duplicated(keep="first"), raw, "a PLAYER_ID seen before", where)
    return ids.astype("int64")


def _player_names(raw: pd.Series, where: str) -> pd.Series:
    # Not descriptive: people find a player by name (app, CLI), so a nameless row is unusable.
    names = raw.astype("string")
    blank = names.isna() | (names.str.strip() == "")
    _reject_rows(blank.fillna(True).astype(bool), raw, "missing values in PLAYER_NAME", where)
    return names


def _warn_about_nulls(typed: pd.DataFrame, where: str) -> None:
    counts = {c: int(typed[c].isna().sum()) for c in DESCRIPTIVE_COLUMNS if c in typed}
    found = {column: count for column, count in counts.items() if count}
    if found:
        listed = ", ".join(f"{column} in {_rows(count)}" for column, count in found.items())
        log.warning("%s: null descriptive values kept as missing: %s", where, listed)


def _reject_rows(
    mask: pd.Series,
    raw: pd.Series,
    problem: str,
    where: str,
    *,
    show: bool = True,
    quote: bool = True,
) -> None:
    """Fail naming the problem, how many rows have it and the first (its value if ``show``)."""
    flagged = np.flatnonzero(mask.to_numpy(dtype=bool))
    if not len(flagged):
        return
    first = int(flagged[0])
    value = f": {_shown(raw.iloc[first], quote=quote)}" if show else ""
    raise InvalidResponseError(
        f"{where}: {_rows(len(flagged))} with {problem} (first at row {first}{value})."
    )


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _shown(value: object, *, quote: bool = True) -> str:
    """Site-provided text for an error message, cut short: never echo a wall of input."""
    if isinstance(value, np.generic):  # 201143, not np.int64(201143)
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"  # as the site's JSON wrote it
    text = repr(value) if quote else str(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"
