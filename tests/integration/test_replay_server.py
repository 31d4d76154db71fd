"""The replay server, exercised by the real nba_api client against a real server subprocess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
from nba_api.stats.endpoints import leaguedashplayerstats
from nba_api.stats.library.http import NBAStatsHTTP

from replay.server import (
    clear_faults,
    clear_requests,
    inject_faults,
    pending_faults,
    received_requests,
    run_replay_server,
)

RECORDINGS = Path(__file__).resolve().parents[2] / "replay" / "recordings"
STATS = "stats/leaguedashplayerstats"


def _recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"leaguedashplayerstats_{name}.json").read_bytes())


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_replay_server(RECORDINGS, fault_delay_s=2) as url:
        previous = NBAStatsHTTP.base_url
        NBAStatsHTTP.base_url = f"{url}/stats/{{endpoint}}"
        try:
            yield url
        finally:
            NBAStatsHTTP.base_url = previous


@pytest.fixture(autouse=True)
def _clean_server(base_url: str) -> None:
    clear_faults(base_url)
    clear_requests(base_url)


def _fetch(
    season: str = "2018-19",
    season_type: str = "Regular Season",
    per_mode: str = "PerGame",
    timeout: float = 5,
) -> leaguedashplayerstats.LeagueDashPlayerStats:
    return leaguedashplayerstats.LeagueDashPlayerStats(
        season=season,
        season_type_all_star=season_type,
        per_mode_detailed=per_mode,
        timeout=timeout,
    )


def _raw_get(base_url: str, season: str, **headers: str) -> requests.Response:
    params = {"Season": season, "SeasonType": "Regular Season", "PerMode": "PerGame"}
    return requests.get(f"{base_url}/{STATS}", params=params, headers=headers, timeout=5)


def test_nba_api_gets_the_recorded_rows(base_url: str) -> None:
    recorded = _recording("2018-19_regular_pergame")["resultSets"][0]
    df = _fetch().league_dash_player_stats.get_data_frame()

    assert len(df) == 530
    expected = pd.DataFrame(recorded["rowSet"], columns=recorded["headers"])
    pd.testing.assert_frame_equal(df, expected)
    rows = [dict(zip(recorded["headers"], row, strict=True)) for row in recorded["rowSet"]]
    [gordon] = [row for row in rows if row["PLAYER_NAME"] == "Aaron Gordon"]
    assert df.loc[df.PLAYER_NAME == "Aaron Gordon", "PTS"].item() == gordon["PTS"]

    [logged] = received_requests(base_url)
    assert logged["params"]["Season"] == "2018-19"
    assert logged["params"]["MeasureType"] == "Base"
    assert (logged["fault"], logged["status"]) == (None, 200)


def test_playoffs_per36_served(base_url: str) -> None:
    recorded = _recording("2018-19_playoffs_per36")["resultSets"][0]
    df = _fetch(season_type="Playoffs", per_mode="Per36").league_dash_player_stats.get_data_frame()
    assert len(df) == 212
    assert list(df.columns) == recorded["headers"]


@pytest.mark.parametrize(
    ("season", "season_type", "per_mode"),
    [
        ("2018-19", "Playoffs", "PerGame"),
        ("2018-19", "Regular Season", "Totals"),  # only PerGame/Per36 are recorded
        ("1995-96", "Regular Season", "PerGame"),
        ("2025-26", "Regular Season", "PerGame"),
    ],
)
def test_missing_recording_is_an_empty_result_set(
    base_url: str, season: str, season_type: str, per_mode: str
) -> None:
    endpoint = _fetch(season=season, season_type=season_type, per_mode=per_mode)
    body = endpoint.get_dict()
    schema = _recording("2022-23_regular_pergame")["resultSets"][0]["headers"]
    [result] = body["resultSets"]
    assert result == {"name": "LeagueDashPlayerStats", "headers": schema, "rowSet": []}
    assert len(schema) == 67
    assert body["parameters"]["Season"] == season
    assert endpoint.league_dash_player_stats.get_data_frame().empty


def test_gzip_used_and_bytes_unchanged(base_url: str) -> None:
    raw = (RECORDINGS / "leaguedashplayerstats_2018-19_regular_pergame.json").read_bytes()
    zipped = _raw_get(base_url, "2018-19", **{"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(zipped.headers["Content-Length"]) < len(raw)
    assert zipped.content == raw  # requests inflates it

    plain = _raw_get(
        base_url, "2018-19", **{"Accept-Encoding": "identity", "Host": "stats.nba.com"}
    )
    assert "Content-Encoding" not in plain.headers
    assert plain.content == raw


def test_unknown_endpoint_is_404(base_url: str) -> None:
    resp = requests.get(f"{base_url}/stats/playercareerstats?PlayerID=1", timeout=5)
    assert resp.status_code == 404
    assert resp.json()["error"] == "not found"
    assert requests.get(f"{base_url}/nope", timeout=5).status_code == 404


def test_health_and_bad_fault_request(base_url: str) -> None:
    assert requests.get(f"{base_url}/_replay/health", timeout=5).json() == {
        "status": "ok",
        "recordings": 30,
    }
    bad = requests.post(f"{base_url}/_replay/faults", json={"faults": ["nope"]}, timeout=5)
    assert bad.status_code == 400
    assert pending_faults(base_url) == []


def test_delay_fault_times_the_client_out(base_url: str) -> None:
    inject_faults(base_url, ["delay"])
    with pytest.raises(requests.Timeout):
        _fetch(timeout=1)
    assert [(r["fault"], r["status"]) for r in received_requests(base_url)] == [("delay", 200)]
    # The sleeping thread does not block the next request.
    assert len(_fetch().league_dash_player_stats.get_data_frame()) == 530


@pytest.mark.parametrize("kind", ["429", "500"])
def test_error_status_faults(base_url: str, kind: str) -> None:
    inject_faults(base_url, [kind])
    resp = _raw_get(base_url, "2018-19")
    assert resp.status_code == int(kind)
    if kind == "429":
        assert resp.headers["Retry-After"] == "1"
    else:
        assert resp.json() == {"Message": "An error has occurred."}

    # nba_api ignores the status: the 429 body has no result sets, the 500 one it turns into XML.
    inject_faults(base_url, [kind])
    with pytest.raises(KeyError if kind == "429" else json.JSONDecodeError):
        _fetch()
    logged = received_requests(base_url)
    assert [(r["fault"], r["status"]) for r in logged] == [(kind, int(kind))] * 2


@pytest.mark.parametrize("kind", ["malformed-json", "html"])
def test_broken_body_faults(base_url: str, kind: str) -> None:
    inject_faults(base_url, [kind])
    resp = _raw_get(base_url, "2018-19")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith(
        "text/html" if kind == "html" else "application/json"
    )
    with pytest.raises(json.JSONDecodeError):
        resp.json()

    inject_faults(base_url, [kind])
    with pytest.raises(json.JSONDecodeError):
        _fetch()


def test_empty_fault(base_url: str) -> None:
    inject_faults(base_url, ["empty"])
    df = _fetch().league_dash_player_stats.get_data_frame()
    assert df.empty
    assert len(df.columns) == 67


def test_faults_are_fifo_and_season_scoped(base_url: str) -> None:
    pending = inject_faults(base_url, ["500"], season="2017-18")
    inject_faults(base_url, ["429"])
    assert pending == [{"kind": "500", "season": "2017-18"}]

    # 2018-19 skips the 2017-18 fault and takes the unscoped one behind it.
    assert _raw_get(base_url, "2018-19").status_code == 429
    assert _raw_get(base_url, "2018-19").status_code == 200
    assert pending_faults(base_url) == [{"kind": "500", "season": "2017-18"}]
    assert _raw_get(base_url, "2017-18").status_code == 500
    assert _raw_get(base_url, "2017-18").status_code == 200

    logged = received_requests(base_url)
    assert [(r["params"]["Season"], r["status"]) for r in logged] == [
        ("2018-19", 429),
        ("2018-19", 200),
        ("2017-18", 500),
        ("2017-18", 200),
    ]
    clear_requests(base_url)
    assert received_requests(base_url) == []


def test_clear_faults(base_url: str) -> None:
    inject_faults(base_url, ["500", "html"])
    assert len(pending_faults(base_url)) == 2
    clear_faults(base_url)
    assert pending_faults(base_url) == []
    assert _raw_get(base_url, "2018-19").status_code == 200
