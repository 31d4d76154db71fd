"""Lenient but safe validation of league dashboard responses (issue 9, item 5).

Every body here is the real 2018-19 regular-season PerGame recording (or the 2018-19 Per36
playoffs one), changed in code to the case under test; the recordings stay untouched.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from common.seasons import Season, SeasonType
from common.settings import Settings
from common.storage import DataDir
from tests.conftest import RECORDINGS
from workers.fetch.cleaning import clean_season
from workers.fetch.response import (
    REQUIRED_COLUMNS,
    DashboardTable,
    InvalidResponseError,
    parse_dashboard,
)
from workers.fetch.season_data import RawSegment, store_season

SEASON = Season(2018)
REGULAR = "leaguedashplayerstats_2018-19_regular_pergame.json"
PLAYOFFS_PER36 = "leaguedashplayerstats_2018-19_playoffs_per36.json"
# Rows of the regular-season recording used below (row = index in rowSet).
HORFORD = 3  # Al Horford: AGE 33.0, GP 68, FGM 5.7, FGA 10.6, FG_PCT 0.535
WILLIAMS = 5  # Alan Williams
ABRINES = 7  # Alex Abrines
JEFFERSON = 15  # Amile Jefferson: AGE 26.0, FG3A 0.0, FG3_PCT 0.0

Payload = dict[str, Any]


def _body(mutate: Callable[[Payload], object] = lambda p: None, name: str = REGULAR) -> bytes:
    payload = json.loads((RECORDINGS / name).read_bytes())
    mutate(payload)
    return json.dumps(payload).encode()


def _set(column: str, values: dict[int, object]) -> Callable[[Payload], None]:
    def mutate(payload: Payload) -> None:
        result = payload["resultSets"][0]
        for row, value in values.items():
            result["rowSet"][row][result["headers"].index(column)] = value

    return mutate


def _echo(**parameters: object) -> Callable[[Payload], None]:
    return lambda payload: payload["parameters"].update(parameters)


def _parse(
    body: bytes, season_type: SeasonType = SeasonType.REGULAR, per_mode: str = "PerGame"
) -> DashboardTable:
    return parse_dashboard(body, SEASON, season_type, per_mode)


def _clean(table: DashboardTable) -> pd.DataFrame:
    return clean_season(table, None, playoff_weight=2.0, min_games=20, min_minutes=500)


def test_null_descriptive_values_are_kept_and_counted(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    # Before: one null AGE rejected the whole season ("missing values in AGE").
    def mutate(payload: Payload) -> None:
        _set("AGE", {HORFORD: None, WILLIAMS: None})(payload)
        _set("TEAM_ABBREVIATION", {ABRINES: None})(payload)

    with caplog.at_level(logging.WARNING, logger="workers.fetch.response"):
        table = _parse(_body(mutate))
    assert len(table.players) == 530
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "workers.fetch.response"]
    assert warning == (
        "2018-19 Regular Season response: null descriptive values kept as missing: "
        "AGE in 2 rows, TEAM_ABBREVIATION in 1 row"
    )

    # Cleaned and stored as missing values, the players' stats untouched.
    path = tmp_path / "cleaned.parquet"
    _clean(table).to_parquet(path, index=False)
    cleaned = pd.read_parquet(path).set_index("PLAYER_NAME")
    assert cleaned["AGE"].isna().sum() == 2
    assert math.isnan(cleaned.loc["Al Horford", "AGE"])
    assert cleaned.loc["Al Horford", "PTS_PER36"] > 0
    assert pd.isna(cleaned.loc["Alex Abrines", "TEAM_ABBREVIATION"])
    assert cleaned.loc["Amile Jefferson", "AGE"] == 26.0  # the others as sent


def test_numbers_sent_as_strings_are_accepted_when_exact() -> None:
    body = _body(lambda p: [_set("FGA", {HORFORD: "12", WILLIAMS: "12.0"})(p),
                            _set("GP", {HORFORD: "68"})(p)])  # fmt: skip
    players = _parse(body).players
    assert players.loc[[HORFORD, WILLIAMS], "FGA"].tolist() == [12.0, 12.0]
    assert players["FGA"].dtype == "float64"
    assert (players.loc[HORFORD, "GP"], players["GP"].dtype) == (68, "int64")


@pytest.mark.parametrize(
    "value",
    ["12abc", "1,234", " 12", "", "nan", "Infinity", "\uff11\uff12", "\u0661\u0662", True,
     math.inf, [12]],
    ids=["suffix", "thousands", "padded", "blank", "nan-text", "inf-text", "fullwidth",
         "arabic-indic", "boolean", "inf-literal", "list"],
)  # fmt: skip
def test_anything_else_in_a_stat_is_rejected_with_column_and_count(value: object) -> None:
    body = _body(_set("FGA", {HORFORD: value, WILLIAMS: value, ABRINES: value}))
    with pytest.raises(InvalidResponseError) as error:
        _parse(body)
    assert str(error.value).startswith(
        "2018-19 Regular Season response: 3 rows with non-numeric values in FGA "
        f"(first at row {HORFORD}: "
    )


def test_a_null_stat_is_rejected_with_column_and_count() -> None:
    with pytest.raises(InvalidResponseError) as error:
        _parse(_body(_set("FGA", {WILLIAMS: None, 9: None})))
    assert str(error.value) == (
        f"2018-19 Regular Season response: 2 rows with missing values in FGA "
        f"(first at row {WILLIAMS})."
    )


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("GP", 12.5, "1 row with non-integer values in GP"),
        ("FGA", -1, "1 row with negative values in FGA"),
        ("MIN", None, "1 row with missing values in MIN"),
        ("PLAYER_ID", 1628389.5, "1 row with non-integer values in PLAYER_ID"),
        ("PLAYER_ID", None, "1 row with missing values in PLAYER_ID"),
        ("PLAYER_NAME", None, "1 row with missing values in PLAYER_NAME"),
        ("AGE", "thirty", "1 row with non-numeric values in AGE"),
        ("TEAM_COUNT", 1.5, "1 row with non-integer values in TEAM_COUNT"),
        ("FG_PCT", "n/a", "1 row with non-numeric values in FG_PCT"),
        ("FG_PCT", 53.5, "1 row with FG_PCT outside 0-1"),
    ],
)
def test_other_bad_values_name_column_and_count(column: str, value: object, message: str) -> None:
    with pytest.raises(InvalidResponseError, match=rf"^2018-19 Regular Season response: {message}"):
        _parse(_body(_set(column, {HORFORD: value})))


def test_a_repeated_player_is_rejected() -> None:
    def mutate(payload: Payload) -> None:
        result = payload["resultSets"][0]
        column = result["headers"].index("PLAYER_ID")
        result["rowSet"][ABRINES][column] = result["rowSet"][HORFORD][column]

    with pytest.raises(InvalidResponseError, match=r"1 row with a PLAYER_ID seen before \(first"):
        _parse(_body(mutate))


def test_quoted_site_text_is_cut_short() -> None:
    with pytest.raises(InvalidResponseError) as error:
        _parse(_body(_set("FGA", {HORFORD: "9" * 30 + "x" * 5000})))
    message = str(error.value)
    assert len(message) < 160
    assert message.endswith("…).")

    with pytest.raises(InvalidResponseError) as error:
        _parse(_body(_echo(SeasonType="Playoffs" * 500)))
    assert len(str(error.value)) < 160


def test_a_null_percentage_without_attempts_is_normal(caplog: pytest.LogCaptureFixture) -> None:
    table = _parse(_body(_set("FG3_PCT", {JEFFERSON: None})))
    with caplog.at_level(logging.WARNING, logger="workers.fetch.cleaning"):
        cleaned = _clean(table).set_index("PLAYER_NAME")
    assert math.isnan(cleaned.loc["Amile Jefferson", "FG3_PCT"])  # 0-for-0: undefined
    assert not caplog.records


def test_a_null_percentage_with_attempts_is_rebuilt_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # PerGame: cleaning takes the site's percentages; without one, the rounded averages are
    # what is left (5.7 of 10.6 a game over 68 games), rather than a NaN that would make his
    # made shots 0 in TS%.
    table = _parse(_body(_set("FG_PCT", {HORFORD: None})))
    with caplog.at_level(logging.WARNING, logger="workers.fetch.cleaning"):
        cleaned = _clean(table).set_index("PLAYER_NAME")
    horford = cleaned.loc["Al Horford"]
    assert horford["FG_PCT"] == pytest.approx(5.7 / 10.6, abs=1e-12)  # site: 0.535
    assert horford["TS_PCT"] > 0.55
    assert [r.getMessage() for r in caplog.records] == [
        "2018-19 Regular Season: null FG_PCT despite attempts for 1 player(s): computed from "
        "rounded PerGame averages"
    ]


@pytest.mark.parametrize(
    ("mutate", "season_type", "message"),
    [
        # The background bug: this body was stored as the playoffs.
        (lambda p: None, SeasonType.PLAYOFFS,
         "2018-19 Playoffs response is for SeasonType 'Regular Season', not the requested "
         "'Playoffs'."),
        (_echo(Season="2017-18"), SeasonType.REGULAR,
         "2018-19 Regular Season response is for Season '2017-18', not the requested '2018-19'."),
        (_echo(MeasureType="Advanced"), SeasonType.REGULAR,
         "2018-19 Regular Season response is for MeasureType 'Advanced', not the requested "
         "'Base'."),
        (_echo(PerMode="Per36"), SeasonType.REGULAR,
         "2018-19 Regular Season response is for PerMode 'Per36', not the requested 'PerGame'."),
        (_echo(Season="2017-18", SeasonType="Playoffs"), SeasonType.REGULAR,
         "2018-19 Regular Season response is for Season '2017-18', not the requested "
         "'2018-19'; SeasonType 'Playoffs', not the requested 'Regular Season'."),
    ],
    ids=["season-type", "season", "measure-type", "per-mode", "two"],
)  # fmt: skip
def test_echoed_parameters_must_match_the_request(
    mutate: Callable[[Payload], None], season_type: SeasonType, message: str
) -> None:
    with pytest.raises(InvalidResponseError) as error:
        _parse(_body(mutate), season_type)
    assert str(error.value) == message


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.pop("parameters"),
        lambda p: [p["parameters"].pop(k) for k in ("Season", "SeasonType", "MeasureType")],
        _echo(Season=None, SeasonType=None, PerMode=None, MeasureType=None),
    ],
    ids=["no-parameters", "keys-missing", "null"],
)
def test_parameters_not_echoed_are_accepted(mutate: Callable[[Payload], None]) -> None:
    table = _parse(_body(mutate))
    assert (table.per_mode, len(table.players)) == ("PerGame", 530)


def test_an_unknown_request_reads_the_echoed_per_mode() -> None:
    # A kept raw file without its fetch record: the body says how to read it; the rest of the
    # echo is still checked against the season and segment it is read as.
    body = (RECORDINGS / PLAYOFFS_PER36).read_bytes()
    assert _parse(body, SeasonType.PLAYOFFS, "").per_mode == "Per36"
    with pytest.raises(InvalidResponseError, match="SeasonType 'Playoffs'"):
        _parse(body, SeasonType.REGULAR, "")


@pytest.mark.parametrize(
    "headers",
    [[], ["PLAYER_ID", "PLAYER_NAME"], None, "everything"],
    ids=["empty", "partial", "absent", "full"],
)
def test_an_empty_result_set_is_no_games_whatever_its_headers(
    headers: list[str] | str | None, data_dir: Path
) -> None:
    def mutate(payload: Payload) -> None:
        result = payload["resultSets"][0]
        result["rowSet"] = []
        if headers is None:
            del result["headers"]
        elif headers != "everything":
            result["headers"] = headers

    body = _body(mutate)
    table = _parse(body, per_mode="PerGame")
    assert table.is_empty
    assert list(table.players.columns) == REQUIRED_COLUMNS
    segments = {SeasonType.REGULAR: RawSegment(body, "test", table)}
    settings = Settings(data_dir=data_dir)
    outcome = store_season(
        SEASON, segments, data=DataDir(data_dir), settings=settings, fetched=True, complete=True
    )
    assert outcome.status == "no-games"
    assert not any(data_dir.iterdir())


def test_an_empty_answer_for_the_other_segment_is_still_rejected() -> None:
    body = _body(lambda p: p["resultSets"][0].update(headers=[], rowSet=[]))
    with pytest.raises(InvalidResponseError, match="SeasonType 'Regular Season'"):
        _parse(body, SeasonType.PLAYOFFS)
