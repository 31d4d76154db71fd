"""Cleaning, checked against values computed by hand from the real recorded responses.

Every expected number below is written out from the recordings' raw values (quoted in the
comments), not produced by the code under test. 2018-19 regular season is PerGame (MIN =
minutes per game); the 2018-19 playoffs recording is Per36 (MIN = season minutes). No
Totals pull is recorded, so the Totals path is checked on a small synthetic table, labelled
as such, whose expected values are worked out by hand.
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
from workers.fetch.recordings import bundled_recordings, recorded_per_mode
from workers.fetch.response import (
    ID_COLUMNS,
    NUMERIC_COLUMNS,
    PCT_COLUMNS,
    DashboardTable,
    InvalidResponseError,
    parse_dashboard,
)

SEASON = Season(2018)


def _table(name: str, season: Season = SEASON, season_type: SeasonType = SeasonType.REGULAR):
    path = RECORDINGS / f"leaguedashplayerstats_{name}.json"
    return parse_dashboard(path.read_bytes(), season, season_type, recorded_per_mode(path))


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
    assert kawhi["ELIGIBLE"]


def test_percentages_fold_the_sites_own_values(cleaned: pd.DataFrame) -> None:
    kawhi = cleaned.loc["Kawhi Leonard"]
    # Made shots per segment = the site's percentage x that segment's attempts.
    # Regular: FT_PCT 0.854, FG_PCT 0.496, FG3_PCT 0.371; attempts FTA 426, FGA 1128, FG3A 300.
    # Playoffs: FT_PCT 0.884, FG_PCT 0.49, FG3_PCT 0.379; attempts (per36 * 26.096204)
    #   FTA 216.5985, FGA 495.8279, FG3A 5.6 * 26.096204 = 146.1387.
    # FTM: 0.854 * 426 + 2 * 0.884 * 216.5985 = 363.804 + 382.9461 = 746.7501
    # FT% = 746.7501 / (426 + 433.1970) = 0.869126
    assert kawhi["FT_PCT"] == pytest.approx(0.869126, abs=1e-6)
    # FGM: 0.496 * 1128 + 2 * 0.49 * 495.8279 = 559.488 + 485.9113 = 1045.3993
    # FG% = 1045.3993 / 2119.6558 = 0.493193
    assert kawhi["FG_PCT"] == pytest.approx(0.493193, abs=1e-6)
    # FG3M: 0.371 * 300 + 2 * 0.379 * 146.1387 = 111.3 + 110.7731 = 222.0731
    # 3P% = 222.0731 / (300 + 292.2774) = 0.374948
    assert kawhi["FG3_PCT"] == pytest.approx(0.374948, abs=1e-6)
    # TS% from made shots: points = 2 * 1045.3993 + 222.0731 + 746.7501 = 3059.6219
    # TS% = 3059.6218 / (2 * (2119.6558 + 0.44 * 859.1970)) = 3059.6219 / 4995.4050 = 0.612487
    assert kawhi["TS_PCT"] == pytest.approx(0.612487, abs=1e-5)


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


def test_each_player_keeps_his_teams_franchise_id(cleaned: pd.DataFrame) -> None:
    payload = json.loads(
        (RECORDINGS / "leaguedashplayerstats_2018-19_regular_pergame.json").read_bytes()
    )
    result = payload["resultSets"][0]
    at = result["headers"].index
    site = {row[at("PLAYER_NAME")]: row[at("TEAM_ID")] for row in result["rowSet"]}
    assert cleaned["TEAM_ID"].dtype == "Int64"
    assert cleaned["TEAM_ID"].to_dict() == {name: site[name] for name in cleaned.index}
    assert cleaned.loc["Russell Westbrook", "TEAM_ID"] == 1610612760  # OKC, once SEA


@pytest.mark.parametrize(
    "path", sorted(RECORDINGS.glob("leaguedashplayerstats_*.json")), ids=lambda p: p.stem[22:]
)
def test_every_era_of_recording_parses(path: Path) -> None:
    # Column sets differ by the year of the pull (65 to 68 columns): selection is by name.
    payload = json.loads(path.read_bytes())
    label = path.stem.split("_")[1]
    kind = SeasonType.PLAYOFFS if "_playoffs_" in path.name else SeasonType.REGULAR
    table = parse_dashboard(path.read_bytes(), Season.parse(label), kind, recorded_per_mode(path))
    result = payload["resultSets"][0]
    assert len(table.players) == len(result["rowSet"])
    assert table.per_mode == payload["parameters"]["PerMode"]
    ids = [row[result["headers"].index("TEAM_ID")] for row in result["rowSet"]]
    assert table.players["TEAM_ID"].tolist() == ids  # every era: the franchise of each row


def test_bundled_recordings_prefer_pergame() -> None:
    seasons = bundled_recordings(RECORDINGS)
    assert len(seasons) == 27
    assert seasons[Season(2018)][SeasonType.REGULAR].name.endswith("_pergame.json")
    assert seasons[Season(2018)][SeasonType.PLAYOFFS].name.endswith("_playoffs_per36.json")
    assert SeasonType.PLAYOFFS not in seasons[Season(2019)]


def _site_rows(name: str) -> dict[int, dict[str, object]]:
    """The raw recording read with json alone, independently of the code under test."""
    result = json.loads((RECORDINGS / f"leaguedashplayerstats_{name}.json").read_bytes())
    result = result["resultSets"][0]
    rows = (dict(zip(result["headers"], row, strict=True)) for row in result["rowSet"])
    return {row["PLAYER_ID"]: row for row in rows}


SHOTS = [("FG_PCT", "FGA"), ("FG3_PCT", "FG3A"), ("FT_PCT", "FTA")]


def test_pergame_percentages_are_the_sites_own() -> None:
    site = _site_rows("2018-19_regular_pergame")
    table = clean_season(
        _table("2018-19_regular_pergame"), None, playoff_weight=2.0, min_games=20, min_minutes=500
    )
    eligible = table[table["ELIGIBLE"]]
    assert len(eligible) == 360
    undefined = {column: 0 for column, _ in SHOTS}
    for player in eligible.itertuples(index=False):
        row = site[player.PLAYER_ID]
        for column, attempts in SHOTS:
            value = getattr(player, column)
            if row[column] == 0 and row[attempts] == 0:
                # The site writes 0 for 0-for-0; with attempts rounded to 0.0 a 0 % is
                # indistinguishable from it, so it is left undefined.
                assert math.isnan(value), (player.PLAYER_NAME, column)
                undefined[column] += 1
            else:
                assert abs(value - row[column]) <= 1e-9, (player.PLAYER_NAME, column)
    assert undefined == {"FG_PCT": 0, "FG3_PCT": 19, "FT_PCT": 0}


def test_players_without_playoffs_keep_the_sites_percentages(cleaned: pd.DataFrame) -> None:
    site = _site_rows("2018-19_regular_pergame")
    no_playoffs = cleaned[cleaned["ELIGIBLE"] & (cleaned["PLAYOFF_GP"] == 0)]
    assert len(no_playoffs) == 184
    for column, _ in SHOTS:
        expected = no_playoffs["PLAYER_ID"].map(lambda i, c=column: site[i][c])
        defined = no_playoffs[column].notna()
        assert (no_playoffs[column][defined] - expected[defined]).abs().max() <= 1e-9


GIANNIS = 203507


def test_each_segments_percentages_are_the_sites_own_columns(cleaned: pd.DataFrame) -> None:
    """Issue 17: 2018-19 3P% was shown folded with the playoffs (28.1 %) where the site says
    25.6 % for the regular season. Each segment keeps the site's own columns, read here from
    the raw recordings with json alone; the blended figure stays apart."""
    regular = _site_rows("2018-19_regular_pergame")[GIANNIS]
    playoffs = _site_rows("2018-19_playoffs_per36")[GIANNIS]
    giannis = cleaned.loc["Giannis Antetokounmpo"]
    for column in ("FG_PCT", "FG3_PCT", "FT_PCT"):
        assert giannis[f"REGULAR_{column}"] == regular[column]
        assert giannis[f"PLAYOFF_{column}"] == playoffs[column]
    assert regular["FG3_PCT"] == 0.256  # the figure the issue quotes from the site
    # Blended: 3PA 2.8 a game over 72 games, 3.9 per 36 over 513.9 playoff minutes (x 2):
    # (0.256 * 201.6 + 2 * 0.327 * 55.6725) / (201.6 + 2 * 55.6725) = 0.281262
    assert giannis["FG3_PCT"] == pytest.approx(0.281262, abs=1e-6)
    # TS% of each segment from that segment alone. Regular: FGA 17.3, FTA 9.5, FG3A 2.8 a
    # game over 72 games; made = the site's % x attempts:
    #   FGM 0.578 * 1245.6 = 719.9568, FG3M 0.256 * 201.6 = 51.6096, FTM 0.729 * 684 = 498.636
    #   TS = (2 * 719.9568 + 51.6096 + 498.636) / (2 * (1245.6 + 0.44 * 684)) = 0.643415
    assert giannis["REGULAR_TS_PCT"] == pytest.approx(0.643415, abs=1e-6)
    assert giannis["PLAYOFF_TS_PCT"] != giannis["REGULAR_TS_PCT"]

    site = _site_rows("2018-19_regular_pergame")
    for column, attempts in SHOTS:  # every player without playoffs: none of his own is lost
        alone = cleaned[cleaned["PLAYOFF_GP"] == 0]
        for player_id, value in zip(alone["PLAYER_ID"], alone[f"REGULAR_{column}"], strict=True):
            row = site[player_id]
            if row[column] == 0 and row[attempts] == 0:
                assert math.isnan(value)  # 0-for-0 (the site writes 0): undefined
            else:
                assert value == row[column]
        assert alone[f"PLAYOFF_{column}"].isna().all()  # no playoffs: nothing, not 0 %


def test_three_point_percentage_is_not_rebuilt_from_rounded_averages(
    cleaned: pd.DataFrame,
) -> None:
    # Cheick Diallo 2018-19: FG3M 0.0, FG3A 0.1 a game (64 games), FG3_PCT 0.25 on the site.
    # Rebuilt from the averages that is 0.0 / 6.4 = 0 %.
    assert cleaned.loc["Cheick Diallo", "FG3_PCT"] == 0.25
    assert cleaned.loc["Cheick Diallo", "PLAYOFF_GP"] == 0


# A synthetic Totals response, made up for this test (no Totals pull is recorded): two
# players, exact counts, expected values worked out by hand below.
def _totals(season_type: SeasonType, players: list[dict[str, float]]) -> DashboardTable:
    headers = [*ID_COLUMNS, *NUMERIC_COLUMNS, *PCT_COLUMNS]
    rows = []
    for stats in players:
        row = dict.fromkeys(headers, 0.0) | {"PLAYER_NAME": "Synthetic", "TEAM_ABBREVIATION": "TST"}
        row |= stats
        # The site's own columns, rounded to 3 places as it does: Totals must not use them.
        for column, made, attempted in [("FG_PCT", "FGM", "FGA"), ("FG3_PCT", "FG3M", "FG3A"),
                                        ("FT_PCT", "FTM", "FTA")]:  # fmt: skip
            row[column] = round(row[made] / row[attempted], 3) if row[attempted] else 0.0
        rows.append([row[h] for h in headers])
    payload = {
        "parameters": {"PerMode": "Totals"},
        "resultSets": [{"name": "LeagueDashPlayerStats", "headers": headers, "rowSet": rows}],
    }
    return parse_dashboard(json.dumps(payload), SEASON, season_type, "Totals")


def test_totals_are_exact() -> None:
    regular = _totals(
        SeasonType.REGULAR,
        [
            {"PLAYER_ID": 1, "GP": 70, "MIN": 2100, "FGM": 500, "FGA": 1000, "FG3M": 120,
             "FG3A": 330, "FTM": 250, "FTA": 300, "PTS": 1370},
            {"PLAYER_ID": 2, "GP": 30, "MIN": 600, "FGM": 90, "FGA": 200, "FTM": 30, "FTA": 50,
             "PTS": 210},
        ],
    )  # fmt: skip
    playoffs = _totals(
        SeasonType.PLAYOFFS,
        [{"PLAYER_ID": 1, "GP": 10, "MIN": 350, "FGM": 80, "FGA": 200, "FG3M": 30, "FG3A": 90,
          "FTM": 45, "FTA": 50, "PTS": 235}],
    )  # fmt: skip
    alone = clean_season(regular, None, playoff_weight=2.0, min_games=20, min_minutes=500)
    # 120 / 330 = 0.363636..., not the site's rounded 0.364.
    assert alone.loc[0, "FG3_PCT"] == 120 / 330

    table = clean_season(regular, playoffs, playoff_weight=2.0, min_games=20, min_minutes=500)
    one, two = table.loc[0], table.loc[1]
    # Player 1, playoffs counted twice: FGM 500 + 160 = 660 of 1000 + 400 = 1400;
    # FG3M 120 + 60 = 180 of 330 + 180 = 510; FTM 250 + 90 = 340 of 300 + 100 = 400;
    # points 1370 + 470 = 1840 in 2100 + 700 = 2800 minutes.
    assert one["FG_PCT"] == pytest.approx(660 / 1400, abs=1e-12)  # 0.471429
    assert one["FG3_PCT"] == pytest.approx(180 / 510, abs=1e-12)  # 0.352941
    assert one["FT_PCT"] == pytest.approx(340 / 400, abs=1e-12)  # 0.85
    assert one["TS_PCT"] == pytest.approx(1840 / (2 * (1400 + 0.44 * 400)), abs=1e-12)  # 0.583756
    assert one["PTS_PER36"] == pytest.approx(1840 * 36 / 2800, abs=1e-12)  # 23.657143
    assert one["FG3A_RATE"] == pytest.approx(510 / 1400, abs=1e-12)
    assert (one["MIN"], one["PLAYOFF_MIN"], one["PLAYOFF_GP"]) == (2100, 350, 10)
    # Each segment as the site wrote it (rounded to 3 places), for people to compare.
    assert (one["REGULAR_FG3_PCT"], one["PLAYOFF_FG3_PCT"]) == (0.364, 0.333)  # 120/330, 30/90
    assert one["REGULAR_TS_PCT"] == pytest.approx(1370 / (2 * (1000 + 0.44 * 300)), abs=1e-12)
    assert one["PLAYOFF_TS_PCT"] == pytest.approx(235 / (2 * (200 + 0.44 * 50)), abs=1e-12)
    assert math.isnan(two["PLAYOFF_FG_PCT"])
    # Player 2, no threes and no playoffs: 3P% undefined; 90 / 200, 30 / 50, TS 210 / 444.
    assert math.isnan(two["FG3_PCT"])
    assert (two["FG_PCT"], two["FT_PCT"]) == (0.45, 0.6)
    assert two["TS_PCT"] == pytest.approx(210 / (2 * (200 + 0.44 * 50)), abs=1e-12)  # 0.472973


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
        (_broken(lambda p: _set_value(p, "FG3_PCT", "n/a")), "non-numeric values in FG3_PCT"),
        (_broken(lambda p: _set_value(p, "FT_PCT", 85.4)), "FT_PCT outside 0-1"),
        # The value as the site wrote it, not numpy's repr of it (np.float64(-5.0)).
        (_broken(lambda p: _set_value(p, "MIN", -5)),
         r"negative values in MIN \(first at row 3: -5\.0\)"),
        (_broken(lambda p: _set_value(p, "FGM", 99)), r"FGM above FGA \(first at row 3: 99 of 10"),
        (_broken(lambda p: _set_value(p, "PLAYER_NAME", None)),
         r"missing values in PLAYER_NAME \(first at row 3: null\)"),
        (_broken(lambda p: _set_value(p, "FG3A", 40)), "FG3A above FGA"),
        (_broken(lambda p: _set_value(p, "OREB", 30)), "OREB above REB"),
    ],
    ids=["html", "truncated", "array", "error-message", "wrong-set", "no-pts", "text-gp",
         "null-min", "ragged", "per-minute", "text-pct", "pct-in-points", "negative-min",
         "made-over-attempted", "null-name", "threes-over-shots", "offensive-over-all-rebounds"],
)  # fmt: skip
def test_invalid_responses_name_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(InvalidResponseError, match=message) as error:
        parse_dashboard(body, SEASON, SeasonType.REGULAR, "PerGame")
    assert "2018-19 Regular Season" in str(error.value)


def test_a_null_percentage_is_undefined() -> None:
    # The site may send null for a percentage without attempts: allowed, read as NaN.
    body = _broken(lambda p: _set_value(p, "FG3_PCT", None))
    table = parse_dashboard(body, SEASON, SeasonType.REGULAR, "PerGame")
    assert table.players["FG3_PCT"].isna().sum() == 1
