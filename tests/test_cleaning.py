"""Cleaning, checked against values computed by hand from the real recorded responses.

Every expected number below is written out from the recordings' raw values (quoted in the
comments), not produced by the code under test. 2018-19 regular season is PerGame (MIN =
minutes per game); the 2018-19 playoffs recording is Per36 (MIN = season minutes).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from common.seasons import Season, SeasonType
from tests.conftest import RECORDINGS
from workers.fetch.cleaning import RATE_COLUMNS, clean_season
from workers.fetch.recordings import bundled_recordings
from workers.fetch.response import InvalidResponseError, parse_dashboard

SEASON = Season(2018)


def _table(name: str, season: Season = SEASON, season_type: SeasonType = SeasonType.REGULAR):
    body = (RECORDINGS / f"leaguedashplayerstats_{name}.json").read_bytes()
    return parse_dashboard(body, season, season_type, "PerGame")


@pytest.fixture(scope="module")
def cleaned() -> pd.DataFrame:
    table = clean_season(
        _table("2018-19_regular_pergame"),
        _table("2018-19_playoffs_per36", season_type=SeasonType.PLAYOFFS),
        playoff_weight=2.0,
        min_games=20,
        min_minutes=500,
    )
    return table.set_index("PLAYER_NAME")


def test_player_with_playoff_games(cleaned: pd.DataFrame) -> None:
    kawhi = cleaned.loc["Kawhi Leonard"]
    # Regular (PerGame): GP 60, MIN 34.0, PTS 26.6, FGA 18.8, FTA 7.1
    #   totals: MIN 2040, PTS 1596, FGA 1128, FTA 426
    # Playoffs (Per36): GP 24, MIN 939.463333 (season minutes), PTS 28.1, FGA 19.0, FTA 8.3
    #   totals = per36 * 939.463333 / 36 = per36 * 26.096204: PTS 733.3033, FGA 495.8279,
    #   FTA 216.5985
    # Weighted, playoff game = 2 regular games:
    #   MIN 2040 + 2 * 939.463333 = 3918.926667, PTS 1596 + 2 * 733.3033 = 3062.6066
    #   FGA 1128 + 991.6558 = 2119.6558, FTA 426 + 433.1970 = 859.1970
    assert kawhi["GP"] == 60
    assert kawhi["PLAYOFF_GP"] == 24
    assert kawhi["MIN"] == pytest.approx(2040.0)
    assert kawhi["PTS_PER36"] == pytest.approx(3062.6066 * 36 / 3918.926667, abs=1e-3)  # 28.134
    assert kawhi["PTS_PER36"] == pytest.approx(28.134, abs=1e-3)
    # TS% = PTS / (2 * (FGA + 0.44 FTA)) = 3062.6066 / (2 * 2497.7025) = 0.6131
    assert kawhi["TS_PCT"] == pytest.approx(0.6131, abs=1e-4)
    assert kawhi["ELIGIBLE"]


def test_traded_player(cleaned: pd.DataFrame) -> None:
    harris = cleaned.loc["Tobias Harris"]
    # One aggregated row for LAC + PHI: TEAM_COUNT 2, last team PHI, GP 82, MIN 34.7, PTS 20.0,
    # FG3A 4.8, FGA 15.3. Playoffs (Per36): GP 12, MIN 443.096667, PTS 15.1, FG3A 5.1, FGA 13.6
    # PTS: (20.0 * 82 + 2 * 15.1 * 443.096667 / 36) * 36 / (34.7 * 82 + 2 * 443.096667)
    #    = (1640 + 371.7089) * 36 / 3731.593333 = 19.4077
    assert harris["TEAM_ABBREVIATION"] == "PHI"
    assert harris["TEAM_COUNT"] == 2
    assert harris["GP"] == 82
    assert harris["PLAYOFF_GP"] == 12
    assert harris["PTS_PER36"] == pytest.approx(19.4077, abs=1e-3)
    # 3PA share: (4.8 * 82 + 2 * 5.1 * 12.308241) / (15.3 * 82 + 2 * 13.6 * 12.308241)
    #          = (393.6 + 125.5441) / (1254.6 + 334.7842) = 0.32663
    assert harris["FG3A_RATE"] == pytest.approx(0.32663, abs=1e-4)


def test_player_without_three_point_attempts(cleaned: pd.DataFrame) -> None:
    capela = cleaned.loc["Clint Capela"]  # FG3A 0.0 in the regular season and the playoffs
    assert capela["FG3A_PER36"] == 0.0
    assert capela["FG3M_PER36"] == 0.0
    assert capela["FG3A_RATE"] == 0.0
    assert math.isnan(capela["FG3_PCT"])  # undefined, not 0 %
    # REB (PerGame 12.7 over 67 games of 33.6 min; Per36 playoffs 12.3 over 330.721667 min):
    # (12.7 * 67 + 2 * 12.3 * 330.721667 / 36) * 36 / (33.6 * 67 + 2 * 330.721667) = 13.3103
    assert capela["REB_PER36"] == pytest.approx(13.3103, abs=1e-3)


def test_without_playoffs_rates_come_from_the_regular_season() -> None:
    table = clean_season(
        _table("2018-19_regular_pergame"), None, playoff_weight=2.0, min_games=20, min_minutes=500
    ).set_index("PLAYER_NAME")
    # Kawhi, PerGame PTS 26.6 in 34.0 minutes: 26.6 * 36 / 34.0 = 28.1647
    assert table.loc["Kawhi Leonard", "PTS_PER36"] == pytest.approx(28.1647, abs=1e-3)
    assert (table["PLAYOFF_GP"] == 0).all()


def test_eligibility_and_ranks(cleaned: pd.DataFrame) -> None:
    eligible = cleaned[cleaned["ELIGIBLE"]]
    assert ((eligible["GP"] >= 20) & (eligible["MIN"] >= 500)).all()
    assert len(eligible) == 360
    ineligible = cleaned[~cleaned["ELIGIBLE"]]
    assert ineligible["PTS_PER36_RANK"].isna().all()
    # Rank 1 is the highest per-36 scorer among eligible players.
    top = eligible.sort_values("PTS_PER36", ascending=False).index[0]
    assert eligible.loc[top, "PTS_PER36_RANK"] == 1
    assert eligible["PTS_PER36_RANK"].max() <= len(eligible)


def test_one_row_per_player_joined_on_id(cleaned: pd.DataFrame) -> None:
    assert cleaned["PLAYER_ID"].is_unique
    assert len(cleaned) == 530  # the regular season's players; playoffs only add to them
    assert set(RATE_COLUMNS) <= set(cleaned.columns)


@pytest.mark.parametrize(
    "path", sorted(RECORDINGS.glob("leaguedashplayerstats_*.json")), ids=lambda p: p.stem[22:]
)
def test_every_era_of_recording_parses(path: Path) -> None:
    # Column sets differ by the year of the pull (65 to 68 columns): selection is by name.
    payload = json.loads(path.read_bytes())
    label = path.stem.split("_")[1]
    kind = SeasonType.PLAYOFFS if "_playoffs_" in path.name else SeasonType.REGULAR
    table = parse_dashboard(path.read_bytes(), Season.parse(label), kind, "PerGame")
    assert len(table.players) == len(payload["resultSets"][0]["rowSet"])
    assert table.per_mode == payload["parameters"]["PerMode"]


def test_bundled_recordings_prefer_pergame() -> None:
    seasons = bundled_recordings(RECORDINGS)
    assert len(seasons) == 27
    assert seasons[Season(2018)][SeasonType.REGULAR].name.endswith("_pergame.json")
    assert seasons[Season(2018)][SeasonType.PLAYOFFS].name.endswith("_playoffs_per36.json")
    assert SeasonType.PLAYOFFS not in seasons[Season(2019)]


# Broken variants of a real response, built in code (the recordings stay untouched).
def _broken(mutate) -> bytes:  # type: ignore[no-untyped-def]
    payload = json.loads(
        (RECORDINGS / "leaguedashplayerstats_2018-19_regular_pergame.json").read_bytes()
    )
    mutate(payload)
    return json.dumps(payload).encode()


def _drop_column(payload: dict, column: str) -> None:
    result = payload["resultSets"][0]
    index = result["headers"].index(column)
    result["headers"].pop(index)
    for row in result["rowSet"]:
        row.pop(index)


def _set_value(payload: dict, column: str, value: object) -> None:
    result = payload["resultSets"][0]
    result["rowSet"][3][result["headers"].index(column)] = value


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><body>Access Denied</body></html>", "not valid JSON"),
        (b'{"resultSets": [{"name": "LeagueDashPlayerStats", "head', "not valid JSON"),
        (b"[]", "not an object"),
        (b'{"Message": "An error has occurred."}', "no resultSets"),
        (b'{"resultSets": [{"name": "Other", "headers": [], "rowSet": []}]}', "no LeagueDash"),
        (_broken(lambda p: _drop_column(p, "PTS")), "missing columns PTS"),
        (_broken(lambda p: _set_value(p, "GP", "eighty")), "non-numeric values in GP"),
        (_broken(lambda p: _set_value(p, "MIN", None)), "missing values in MIN"),
        (_broken(lambda p: p["resultSets"][0]["rowSet"][5].pop()), "do not match the 67 headers"),
        (_broken(lambda p: p["parameters"].update(PerMode="PerMinute")), "unsupported PerMode"),
    ],
    ids=["html", "truncated", "array", "error-message", "wrong-set", "no-pts", "text-gp",
         "null-min", "ragged", "per-minute"],
)  # fmt: skip
def test_invalid_responses_name_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(InvalidResponseError, match=message) as error:
        parse_dashboard(body, SEASON, SeasonType.REGULAR, "PerGame")
    assert "2018-19 Regular Season" in str(error.value)
